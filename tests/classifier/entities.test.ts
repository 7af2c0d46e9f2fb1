import { detectEntities, isCodiceFiscaleValid, isIbanValid, isLuhnValid, redactEntities } from '../../src/classifier/entities.js';

const kinds = (text: string, options?: { orderNumberPattern?: string }) =>
  detectEntities(text, options).map((e) => [e.kind, e.value]);

describe('detectEntities', () => {
  it('takes a message that is one code and nothing else for the order number, without the brand format or a keyword', () => {
    expect(kinds('AB123456')).toEqual([['order_number', 'AB123456']]);
    expect(kinds('4455667')).toEqual([['order_number', '4455667']]);
    expect(kinds('@bottegarossi #4455667')).toEqual([['order_number', '4455667']]);
    expect(kinds('ciao, AB123456 grazie')).toEqual([['order_number', 'AB123456']]);
    expect(detectEntities('AB123456')[0]).toMatchObject({ private: true, start: 0, end: 8 });
    // Not a lone code: a postcode, a price, a date, a phone, two codes, or words that say what it is.
    expect(kinds('20121')).toEqual([]);
    expect(kinds('123456 €')).toEqual([]);
    expect(kinds('12345,00')).toEqual([]);
    expect(kinds('24/11/2026')).toEqual([['date', '24/11/2026']]);
    expect(kinds('3331234567')).toEqual([['phone', '3331234567']]);
    expect(kinds('AB123456 AB123457')).toEqual([]);
    expect(kinds('il 123456')).toEqual([]);
    expect(kinds('iPhone15')).toEqual([]);
  });

  it('finds an email address and marks it private', () => {
    const [e] = detectEntities('scrivetemi a mario.rossi@example.com grazie');
    expect(e).toMatchObject({ kind: 'email', value: 'mario.rossi@example.com', private: true });
    expect(kinds('mail: Mario.Rossi+ordini@posta.azienda-srl.co.uk.')).toEqual([['email', 'Mario.Rossi+ordini@posta.azienda-srl.co.uk']]);
  });

  it('finds Italian mobile, Italian landline and international phone numbers', () => {
    expect(kinds('chiamami al 333 123 4567')).toEqual([['phone', '333 123 4567']]);
    expect(kinds('fisso 02 1234 5678')).toEqual([['phone', '02 1234 5678']]);
    expect(kinds('call me on +44 20 7946 0958')).toEqual([['phone', '+44 20 7946 0958']]);
    expect(kinds('oppure 0039 347 1234567')).toEqual([['phone', '0039 347 1234567']]);
  });

  it('finds phone numbers in the forms of the issue, with words and punctuation around them', () => {
    expect(kinds('chiamatemi allo (02) 8765 4321, grazie')).toEqual([['phone', '(02) 8765 4321']]);
    expect(kinds('fisso: 06-5551234.')).toEqual([['phone', '06-5551234']]);
    expect(kinds('il mio cell è 0039 347 765 4321!')).toEqual([['phone', '0039 347 765 4321']]);
    expect(kinds('+39 347 7654321 (sempre acceso)')).toEqual([['phone', '+39 347 7654321']]);
    expect(kinds('call me on 347.765.4321 please')).toEqual([['phone', '347.765.4321']]);
    expect(kinds('numero 347/7654321')).toEqual([['phone', '347/7654321']]);
    expect(kinds('US office +1 (415) 555-2671')).toEqual([['phone', '+1 (415) 555-2671']]);
    const [e] = detectEntities('scrivete (02 8765 4321) oggi');
    expect(e).toMatchObject({ kind: 'phone', value: '02 8765 4321', start: 10, end: 22 });
  });

  it('does not take a toll-free line, a date written like a landline or a price for a phone number', () => {
    expect(kinds('ho chiamato il numero verde 800 123 456')).toEqual([]);
    expect(kinds('consegna il 03-12-2026 o il (04.03.2026)').map(([k]) => k)).toEqual(['date', 'date']);
    expect(kinds('costa € 1.250.000 o 24.90 EUR')).toEqual([]);
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

  it('finds customer codes only next to the words that announce them, in Italian and English', () => {
    expect(kinds('codice cliente: 00123456, grazie')).toEqual([['customer_code', '00123456']]);
    expect(kinds('il mio numero di contratto è n. 2024/778812.')).toEqual([['customer_code', '2024/778812']]);
    expect(kinds('pratica n° AZ-99812 aperta ieri')).toEqual([['customer_code', 'AZ-99812']]);
    expect(kinds('my account number is AB1234567')).toEqual([['customer_code', 'AB1234567']]);
    expect(kinds('customer ID: C-0012345 thanks')).toEqual([['customer_code', 'C-0012345']]);
    // Next to a strong keyword a dialable string is still the customer's code; next to "numero" alone, a phone.
    expect(kinds('codice cliente 0612345678')).toEqual([['customer_code', '0612345678']]);
    expect(kinds('il mio numero è 3477654321')).toEqual([['phone', '3477654321']]);
    expect(detectEntities('codice cliente 00123456')[0]).toMatchObject({ start: 15, end: 23, private: true });
  });

  it('does not take prices, quantities, dates, product, tracking or order codes for customer codes', () => {
    expect(kinds('codice cliente: 1234567,89 euro')).toEqual([]);
    expect(kinds('numero cliente € 250000')).toEqual([]);
    expect(kinds('account: 150000 pezzi')).toEqual([]);
    expect(kinds('codice cliente 3 pezzi, 20%')).toEqual([]);
    expect(kinds('contratto del 12/03/2026')).toEqual([['date', '12/03/2026']]);
    expect(kinds('codice prodotto 12345678, SKU 12-A')).toEqual([]);
    expect(kinds('product code AB-123456')).toEqual([]);
    // An order number in another format is an order number (identifying data), never a customer code; a tracking number is neither.
    expect(kinds('order number 12345678, tracking number 1Z999AA10123456784')).toEqual([['order_number', '12345678']]);
    expect(kinds('il mio ordine è 4455-8890')).toEqual([['order_number', '4455-8890']]);
    expect(kinds('un ordine di 1000000 pezzi, order of 2000000 items')).toEqual([]);
    expect(kinds('numero ordine BR-448890')).toEqual([['order_number', 'BR-448890']]);
    expect(kinds('il mio account è bloccato da 123456 minuti')).toEqual([]);
    expect(kinds('non ho un codice cliente')).toEqual([]);
  });

  it('finds a card written in groups, and not in a number grouped otherwise', () => {
    expect(kinds('carta 3782 822463 10005 grazie')).toEqual([['card', '3782 822463 10005']]);
    expect(kinds('carta 4111-1111-1111-1111 3 pezzi')).toEqual([['card', '4111-1111-1111-1111']]);
    expect(kinds('tel +49 151 77999815').map(([k]) => k)).toEqual(['phone']);
  });

  it('finds IBANs of any IBAN country, and not a code glued to the words after it', () => {
    expect(kinds('IBAN de89 3704 0044 0532 0130 00 grazie')).toEqual([['iban', 'de89 3704 0044 0532 0130 00']]);
    expect(kinds('iban GB29NWBK60161331926819.')).toEqual([['iban', 'GB29NWBK60161331926819']]);
    // Countries with national check digits of their own, checked too (the registry's examples).
    expect(kinds('FR14 2004 1010 0505 0001 3M02 606, ES91 2100 0418 4502 0005 1332 o BE68539007547034').map(([k]) => k)).toEqual(['iban', 'iban', 'iban']);
    expect(kinds('codice AZ228904 about the nel 2026').map(([k]) => k)).toEqual(['customer_code']);
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
    const text = 'mail luca.t@example.it, IBAN IT60X0542811101000000123456, ordine BR-448890 del 3 marzo, tel +39 347 1234567, carta 4111111111111111, cf RSSMRA85T10A562S, codice cliente 00123456';
    expect(redactEntities(text, detectEntities(text))).toBe(
      'mail {email}, IBAN {iban}, ordine {order_number} del 3 marzo, tel {phone}, carta {card}, cf {codice_fiscale}, codice cliente {customer_code}',
    );
  });

  it('returns the text unchanged when there is nothing private', () => {
    expect(redactEntities('ciao, a che ora aprite?', detectEntities('ciao, a che ora aprite?'))).toBe('ciao, a che ora aprite?');
  });
});
