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
    expect(illegal).toBeGreaterThan(5);
  });

  it('treats staying in the same state as no move at all', () => {
    for (const s of CONVERSATION_STATES) expect(transition(s, s)).toBe(s);
  });

  it('sends a resolved conversation only back to the bot', () => {
    expect(() => transition('resolved', 'assigned')).toThrow(/resolved → assigned/);
    expect(transition('resolved', 'bot')).toBe('bot');
  });
});
