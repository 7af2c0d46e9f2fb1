import { CONVERSATION_STATES, TRANSITIONS, canTransition, transition } from '../../src/core/state.js';
import { IllegalTransitionError } from '../../src/core/errors.js';

describe('the conversation state machine', () => {
  it('allows every move listed in the transition table', () => {
    for (const from of CONVERSATION_STATES) {
      for (const to of TRANSITIONS[from]) expect(transition(from, to)).toBe(to);
    }
  });

  it('throws IllegalTransitionError for every move not in the table', () => {
    let illegal = 0;
    for (const from of CONVERSATION_STATES) {
      for (const to of CONVERSATION_STATES) {
        if (from === to || TRANSITIONS[from].includes(to)) continue;
        illegal += 1;
        expect(() => transition(from, to)).toThrow(IllegalTransitionError);
        expect(canTransition(from, to)).toBe(false);
      }
    }
    expect(illegal).toBe(3);
  });

  it('treats staying in the same state as no move at all', () => {
    for (const s of CONVERSATION_STATES) expect(transition(s, s)).toBe(s);
  });

  it('never lets an operator claim a resolved conversation, nor a held one go back to awaiting private', () => {
    expect(() => transition('resolved', 'assigned')).toThrow(/resolved → assigned/);
    expect(() => transition('queued', 'awaiting_private')).toThrow(IllegalTransitionError);
    expect(() => transition('assigned', 'awaiting_private')).toThrow(IllegalTransitionError);
    expect(transition('resolved', 'bot')).toBe('bot');
    expect(transition('bot', 'assigned')).toBe('assigned');
  });
});
