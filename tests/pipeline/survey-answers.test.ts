/**
 * How a message reads as an answer to a satisfaction survey (pipeline/surveys): a score by quick
 * reply or feedback form (`csat:N`) or a number 1–5 leading the text, the rest being the comment;
 * "stop" opts out; anything else is not an answer (the bot handles it as a new message).
 */
import { describe, expect, it } from '@jest/globals';
import { optsOut } from '../../src/pipeline/opt-out.js';
import { readSurveyAnswer, surveyReply } from '../../src/pipeline/surveys.js';

describe('survey answers', () => {
  it.each([
    ['4', undefined, { kind: 'score', score: 4 }],
    [' 5 ', undefined, { kind: 'score', score: 5 }],
    ['4/5', undefined, { kind: 'score', score: 4 }],
    ['3 su 5, tutto ok', undefined, { kind: 'score', score: 3, comment: 'tutto ok' }],
    ['2 out of 5 - too slow', undefined, { kind: 'score', score: 2, comment: 'too slow' }],
    ['1. nessuno mi ha risposto', undefined, { kind: 'score', score: 1, comment: 'nessuno mi ha risposto' }],
    ['5 grazie mille', undefined, { kind: 'score', score: 5, comment: 'grazie mille' }],
    ['4, ma perché ci avete messo tanto?', undefined, { kind: 'score', score: 4, comment: 'ma perché ci avete messo tanto?' }],
    ['2 - 3 giorni di attesa', undefined, { kind: 'score', score: 2, comment: '3 giorni di attesa' }],
    ['5 stelle, mi avete risposto in 2 ore', undefined, { kind: 'score', score: 5, comment: 'mi avete risposto in 2 ore' }],
    ['4', 'csat:4', { kind: 'score', score: 4 }],
    ['Lenti ma gentili', 'csat:3', { kind: 'score', score: 3, comment: 'Lenti ma gentili' }],
    ['cinque', undefined, { kind: 'score', score: 5 }],
    ['Four stars!', undefined, { kind: 'score', score: 4 }],
    ['tre su 5', undefined, { kind: 'score', score: 3 }],
    ['5 stelle', undefined, { kind: 'score', score: 5 }],
    ['4 stelle, corrieri lenti', undefined, { kind: 'score', score: 4, comment: 'corrieri lenti' }],
    ['⭐⭐⭐⭐⭐', undefined, { kind: 'score', score: 5 }],
    ['⭐️⭐️ risposta lenta', undefined, { kind: 'score', score: 2, comment: 'risposta lenta' }],
    ['★★★☆☆', undefined, { kind: 'score', score: 3 }],
    ['stop', undefined, { kind: 'stop' }],
    ['STOP!', undefined, { kind: 'stop' }],
  ] as const)('%j (payload %s) is %j', (text, payload, answer) => {
    expect(readSurveyAnswer(text, payload)).toEqual(answer);
  });

  it.each([['45'], ['4.5'], ['0'], ['6'], ['ciao'], ['non mi fermo'], ['stop the order please'], ['dove è il mio ordine?'], [''], ['uno dei pacchi non è arrivato'], ['two items missing'],
    // A number run into a quantity or a question, within a week of the survey: a new message, not a score.
    ['3 giorni fa ho ordinato una giacca, quando arriva?'], ['2 paia di jeans sono arrivate rotte'], ['2 items missing from my order'], ['1 settimana che aspetto il rimborso'], ['5 pacchi e nessuno arrivato'], ['2 domande: spedite in Svizzera? e a rate?']])('%j is no answer', (text) => {
    expect(readSurveyAnswer(text)).toBeUndefined();
    expect(readSurveyAnswer(text, 'faq:resi')).toBeUndefined();
  });

  it('asks in the customer\'s language, with the scores as options', () => {
    const en = surveyReply('cs_1', 'en', 'Bottega Rossi');
    expect(en).toMatchObject({ kind: 'survey', caseId: 'cs_1', language: 'en', question: 'How satisfied are you with the help from Bottega Rossi?' });
    expect(en.options.map((o) => o.payload)).toEqual(['csat:1', 'csat:2', 'csat:3', 'csat:4', 'csat:5']);
    expect(surveyReply('cs_1', 'it', 'Bottega Rossi').text).toMatch(/^Quanto ti ha soddisfatto l’aiuto di Bottega Rossi\?\nRispondi con un numero da 1/);
  });
});

describe('asking not to be written to, anywhere', () => {
  it.each(['stop', 'STOP!', 'non scrivetemi più', 'per favore non contattatemi più', 'smettetela di scrivermi', 'non voglio più ricevere messaggi', 'basta sondaggi', 'stop messaging me', "please don't message me again", 'no more surveys please', "I don't want any more messages", 'unsubscribe me from these messages'])('"%s" opts out', (text) => {
    expect(optsOut(text)).toBe(true);
  });

  it.each([
    // A complaint that nobody writes back, and questions.
    'non mi scrivete più da giorni, vergogna',
    'perché non mi scrivete più?',
    'how do I stop messages from the newsletter?',
    'stop the order please',
    'unsubscribe me from your emails',
    'non mi fermo',
    'I want to stop my subscription',
    // The newsletter's emails: an FAQ question, not the brand's messages.
    'stop sending me emails',
    'non mandatemi più email',
  ])('"%s" does not', (text) => {
    expect(optsOut(text)).toBe(false);
  });
});
