/**
 * @module classifier/language
 * Italian/English detection that works on a few words: function and customer-care words of
 * each language, accented vowels and spelling cues, with the conversation's previous
 * language as a prior that decides when the text alone does not.
 */
import type { Language } from '../core/types.js';
import { cleanSocialText, fold } from './normalise.js';

const TOKEN_RE = /[\p{L}\p{N}]+(?:['’][\p{L}]+)*/gu;

const IT_WORDS = new Set(
  (
    'il lo la i gli le un uno una di a da in con su per tra fra che non e è ma sono sei siete ho hai ha rate ' +
    'abbiamo avete hanno mi ti ci vi si del dello della dei degli delle al allo alla ai agli alle dal dalla ' +
    'nel nella nei sul sulla come dove dov quando perché perche cosa chi quanto quanti quale quali questo ' +
    'questa quello quella mio mia miei mie tuo tua vostro vostri vostra nostro nostra suo sua loro ancora già ' +
    'più molto anche io tu lui lei noi voi ed né poi qui qua là così solo sempre mai niente nulla tutto tutti ' +
    'essere avere fare fa fatto stato stata sto sta era ecco allora quindi però comunque oppure ciao grazie ' +
    'buongiorno buonasera salve arrivederci prego scusate scusa vorrei voglio posso potete potrei volevo ' +
    'sapere aperti aperto chiuso orari oggi domani ieri giorni giorno settimana settimane mese ordine ordini ' +
    'pacco spedizione spedite consegna reso resi rimborso pagare pagamento prodotto prodotti aiuto operatore ' +
    'persona parlare risponde risponde nessuno vergogna ladri sabato domenica lunedì rotto garanzia carta ' +
    'mi dite fate siete aspetto arrivato arrivata ricevuto bene male sì no ok va bene niente ma dai ' +
    'nn xké xke cmq ke tt qnd puoi potresti cerca cercare trova trovami mostra mostrami dammi metti ' +
    'aggiungi prenota prenotare cancella annulla elimina imposta ricordami riproduci vota stelle meteo ' +
    'sveglia promemoria canzone serie libro tempo caldo freddo pioggia stasera mattina sera pomeriggio ' +
    'adesso subito favore vorrei avete fatto fare detto mandato spedito pagato comprato acquistato'
  ).split(/\s+/),
);

const EN_WORDS = new Set(
  (
    'the a an of to in on for with at by from is are was were be been being have has had do does did i you ' +
    'he she it we they me him her us them my your his its our their not no and or but if so what where when ' +
    'why how which who this that these those can could would should will shall may might must am just still ' +
    'yet also too very really there here then than now about into out up down over again some any all each ' +
    'hi hello hey thanks thank please cheers morning evening good great yes yeah ok okay sorry order orders ' +
    'parcel package shipping ship delivery deliver delivered refund return returns pay payment card cards ' +
    'open opening hours closed today tomorrow yesterday days week help human person agent speak talk ' +
    'want need get got received arrived guys hasn\'t haven\'t don\'t doesn\'t didn\'t can\'t won\'t isn\'t i\'m ' +
    'it\'s where\'s what\'s my account money transfer u pls plz thx ty ur idk im dont cant wont ' +
    'find show play add book set remind cancel rate stars weather alarm song tonight'
  ).split(/\s+/),
);

/**
 * Courtesies customers of either language write ("thanks" after an Italian answer, "grazie" from an
 * English customer): half a telling word, so alone they do not overrule the conversation's language
 * (nor leave a first message undecided: half a word still beats the default).
 */
const SHARED_COURTESY = new Set(['thanks', 'thank', 'thx', 'ty', 'cheers', 'sorry', 'grazie', 'ciao']);

const IT_CUES = /(?:zione|zioni|gli|gn[aeio]|cch|zz|[aeiou]tt[aeio]|ssi|ia$|io$|[aeo]i$)/;
const EN_CUES = /(?:th|wh|ck|sh|ee|oo|ow|w|y$|ing$|ed$|'s$|k)/;

/** Scores a text: positive means Italian, negative English (about one point per telling word). */
export function languageScore(text: string): number {
  let score = 0;
  if (/[àèìòù]|\b(?:perché|è|già|più|così)\b/iu.test(text)) score += 1;
  // Tokenising as English keeps "hasn't" whole; Italian words split at apostrophes anyway.
  const cleaned = cleanSocialText(text, 'en');
  let first = true;
  for (const m of cleaned.matchAll(TOKEN_RE)) {
    const original = m[0].replace(/’/g, "'");
    // A capitalised word inside a sentence is likely a name or a title ("Cerca The Broken Window"):
    // it says little about the language the customer writes in.
    const before = cleaned.slice(Math.max(0, m.index - 3), m.index);
    const isName = !first && /^\p{Lu}/u.test(original) && !/[.!?]\s*$/.test(before);
    const weight = isName ? 0.25 : 1;
    first = false;
    const w = original.toLowerCase();
    const parts = w.includes("'") && !EN_WORDS.has(w) ? w.split("'") : [w];
    for (const part of parts) {
      if (part.length === 0 || /^\d+$/.test(part)) continue;
      const inIt = IT_WORDS.has(part) || IT_WORDS.has(fold(part));
      const inEn = EN_WORDS.has(part);
      const telling = SHARED_COURTESY.has(part) ? weight / 2 : weight;
      if (inIt && !inEn) score += telling;
      else if (inEn && !inIt) score -= telling;
      else if (!inIt && !inEn && part.length >= 3) {
        const f = fold(part);
        if (/[aeiou]$/.test(f) && !/e$/.test(f)) score += 0.3 * weight;
        else if (/[^aeiou]$/.test(f)) score -= 0.3 * weight;
        if (IT_CUES.test(f)) score += 0.2 * weight;
        if (EN_CUES.test(f)) score -= 0.2 * weight;
      }
    }
  }
  return score;
}

/**
 * Detects Italian or English. `previous` (the conversation's language so far) wins when the
 * text is not clearly the other language; `fallback` is used when there is nothing to go on.
 */
export function detectLanguage(text: string, previous?: Language, fallback: Language = 'it'): Language {
  return weighLanguage(text, previous, fallback).language;
}

/** Evidence below this (a word ending like the other language) leaves the default language in place. */
const WEAK = 0.5;

/** Weight of the conversation's previous language in `detectLanguage`. */
const PREVIOUS_WEIGHT = 0.9;

/**
 * `detectLanguage`, and whether the text alone settles it: when `settled`, any previous language
 * would give the same answer.
 */
export function weighLanguage(text: string, previous?: Language, fallback: Language = 'it'): { language: Language; settled: boolean } {
  const own = languageScore(text);
  // Clear evidence settles it whatever came before; otherwise the conversation's language holds.
  const settled = Math.abs(own) > PREVIOUS_WEIGHT;
  if (settled) return { language: own > 0 ? 'it' : 'en', settled };
  if (previous) return { language: previous, settled };
  // A hint of a word or two ("gratis" ends like English, "spedizone" is misspelt) does not
  // overrule the brand's default language either.
  if (own >= WEAK) return { language: 'it', settled };
  if (own <= -WEAK) return { language: 'en', settled };
  return { language: fallback, settled };
}
