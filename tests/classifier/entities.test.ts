import { detectEntities, isCodiceFiscaleValid, isIbanValid, isLuhnValid, redactEntities } from '../../src/classifier/entities.js';

const kinds = (text: string, options?: { orderNumberPattern?: string }) =>
  detectEntities(text, options).map((e) => [e.kind, e.value]);

describe('detectEntities', () => {
  it('finds an email address and marks it private', () => {
    const [e] = detectEntities('scrivetemi a mario.rossi@example.com grazie');
    expect(e).toMatchObject({ kind: 'email', value: 'mario.rossi@example.com', private: true });
  });

  it('finds Italian mobile, Italian landline and international phone numbers', () => {
    expect(kinds('chiamami al 333 123 4567')).toEqual([['phone', '333 123 4567']]);
    expect(kinds('fisso 02 1234 5678')).toEqual([['phone', '02 1234 5678']]);
    expect(kinds('call me on +44 20 7946 0958')).toEqual([['phone', '+44 20 7946 0958']]);
    expect(kinds('oppure 0039 347 1234567')).toEqual([['phone', '0039 347 1234567']]);
  });

  it('does not take a short number or a year for a phone number', () => {
    expect(kinds('ho ordinato 3 magliette nel 2024').filter(([k]) => k === 'phone')).toEqual([]);
  });

  it('finds an IBAN with a valid checksum, with or without spaces', () => {
    expect(kinds('IBAN IT60X0542811101000000123456')).toEqual([['iban', 'IT60X0542811101000000123456']]);
    expect(kinds('IBAN IT60 X054 2811 1010 0000 0123 456 grazie')).toEqual([['iban', 'IT60 X054 2811 1010 0000 0123 456']]);
  });

  it('rejects an IBAN whose checksum is wrong', () => {
    expect(isIbanValid('IT60X0542811101000000123457')).toBe(false);
    expect(kinds('IBAN IT60X0542811101000000123457').filter(([k]) => k === 'iban')).toEqual([]);
  });

  it('finds a card number that passes the Luhn check', () => {
    expect(kinds('la carta 4111 1111 1111 1111 è stata addebitata')).toEqual([['card', '4111 1111 1111 1111']]);
    expect(kinds('card 5555-5555-5555-4444')).toEqual([['card', '5555-5555-5555-4444']]);
  });

  it('does not take a 16-digit number failing Luhn for a card', () => {
    expect(isLuhnValid('4111111111111112')).toBe(false);
    expect(kinds('codice 4111111111111112').filter(([k]) => k === 'card')).toEqual([]);
  });

  it('finds a codice fiscale with the right check character, in any case', () => {
    expect(kinds('il mio CF è RSSMRA85T10A562S')).toEqual([['codice_fiscale', 'RSSMRA85T10A562S']]);
    expect(kinds('cf rssmra85t10a562s')).toEqual([['codice_fiscale', 'rssmra85t10a562s']]);
  });

  it('rejects a codice fiscale with a wrong check character', () => {
    expect(isCodiceFiscaleValid('RSSMRA85T10A562T')).toBe(false);
    expect(kinds('cf RSSMRA85T10A562T')).toEqual([]);
  });

  it('finds order numbers with the default pattern and with a brand pattern', () => {
    expect(kinds('ecco il numero: BR-448890')).toEqual([['order_number', 'BR-448890']]);
    expect(kinds('order ord1200331 please')).toEqual([['order_number', 'ord1200331']]);
    expect(kinds('ordine AB-123-XY', { orderNumberPattern: '\\bAB-\\d{3}-[A-Z]{2}\\b' })).toEqual([['order_number', 'AB-123-XY']]);
    expect(kinds('ordine BR-12')).toEqual([]);
  });

  it('reports a clear error for an invalid order-number pattern', () => {
    expect(() => detectEntities('x', { orderNumberPattern: '(' })).toThrow(/order number pattern/);
  });

  it('finds dates in numeric, Italian and English forms and keeps them public', () => {
    const found = detectEntities('consegna il 12/03/2026, poi il 5 marzo e on March 5th or 2026-04-01');
    expect(found.map((e) => e.value)).toEqual(['12/03/2026', '5 marzo', 'March 5th', '2026-04-01']);
    expect(found.every((e) => e.kind === 'date' && !e.private)).toBe(true);
    expect(kinds('il 45/13/2026')).toEqual([]);
  });
});

describe('redactEntities', () => {
  it('replaces each private entity with its placeholder and leaves dates', () => {
    const text = 'mail luca.t@example.it, IBAN IT60X0542811101000000123456, ordine BR-448890 del 3 marzo, tel +39 347 1234567, carta 4111111111111111, cf RSSMRA85T10A562S';
    expect(redactEntities(text, detectEntities(text))).toBe(
      'mail {email}, IBAN {iban}, ordine {order_number} del 3 marzo, tel {phone}, carta {card}, cf {codice_fiscale}',
    );
  });

  it('returns the text unchanged when there is nothing private', () => {
    expect(redactEntities('ciao, a che ora aprite?', detectEntities('ciao, a che ora aprite?'))).toBe('ciao, a che ora aprite?');
  });
});
