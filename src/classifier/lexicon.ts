/**
 * @module classifier/lexicon
 * Synonyms of customer care, in Italian and English: words that name the same thing share a
 * concept feature, so a question worded differently from every example of its answer
 * ("voucher" for "gift card", "soldi indietro" for "rimborso") still meets it. Each group is a
 * concept; its words are analysed by the same normaliser as the text (stems), per language.
 */
import type { Language } from '../core/types.js';

/** Concept → its words (single words; a phrase counts word by word only when every word is listed). */
export const CARE_LEXICON: Record<string, Record<Language, string[]>> = {
  order: { it: ['ordine', 'ordini', 'acquisto', 'acquisti', 'ordinazione', 'ordinato', 'comprato'], en: ['order', 'orders', 'purchase', 'purchased', 'ordered', 'bought'] },
  parcel: { it: ['pacco', 'pacchi', 'collo', 'spedizione', 'consegna', 'plico'], en: ['parcel', 'package', 'packet', 'shipment', 'delivery', 'box'] },
  courier: { it: ['corriere', 'fattorino', 'postino', 'bartolini', 'brt', 'gls', 'sda', 'dhl', 'ups'], en: ['courier', 'driver', 'postman', 'carrier', 'dhl', 'ups', 'fedex'] },
  arrive: { it: ['arrivare', 'arriva', 'arrivato', 'arrivata', 'ricevuto', 'ricevere', 'consegnato', 'giunto'], en: ['arrive', 'arrived', 'received', 'receive', 'delivered', 'came', 'got'] },
  track: { it: ['tracking', 'tracciamento', 'tracciare', 'stato', 'seguire', 'monitorare'], en: ['tracking', 'track', 'status', 'trace', 'follow'] },
  late: { it: ['ritardo', 'ritardi', 'tardi', 'aspetto', 'attendo', 'ancora', 'giorni'], en: ['late', 'delay', 'delayed', 'waiting', 'still', 'overdue'] },
  fast: { it: ['veloce', 'rapida', 'rapido', 'express', 'espressa', 'urgente', 'domani', '24'], en: ['fast', 'quick', 'express', 'urgent', 'tomorrow', 'next-day', 'faster', 'quicker'] },
  price: { it: ['costo', 'costa', 'prezzo', 'prezzi', 'spese', 'tariffa', 'quanto'], en: ['cost', 'costs', 'price', 'prices', 'fee', 'fees', 'charge', 'rate'] },
  free: { it: ['gratis', 'gratuito', 'gratuita', 'gratuiti', 'omaggio'], en: ['free', 'complimentary', 'charge-free'] },
  return: { it: ['reso', 'resi', 'restituire', 'rendere', 'restituzione', 'rimandare', 'indietro'], en: ['return', 'returns', 'returning', 'send back', 'back'] },
  refund: { it: ['rimborso', 'rimborsi', 'rimborsare', 'rimborsate', 'soldi', 'riaccredito', 'accredito'], en: ['refund', 'refunds', 'refunded', 'money', 'reimburse', 'reimbursement', 'credit'] },
  exchange: { it: ['cambio', 'cambiare', 'sostituire', 'sostituzione', 'scambiare'], en: ['exchange', 'swap', 'replace', 'replacement', 'switch'] },
  cancel: { it: ['annullare', 'annullo', 'cancellare', 'disdire', 'revocare', 'bloccare', 'annullamento'], en: ['cancel', 'cancellation', 'revoke', 'stop', 'abort', 'withdraw'] },
  broken: { it: ['rotto', 'rotta', 'danneggiato', 'danneggiata', 'rovinato', 'distrutto', 'frantumi', 'difettoso', 'guasto', 'ammaccato', 'bucato', 'bucata', 'strappato', 'strappata', 'scucito', 'scucita', 'macchiato', 'macchiata', 'scheggiato', 'scheggiata'], en: ['broken', 'damaged', 'ruined', 'smashed', 'crushed', 'defective', 'faulty', 'cracked', 'torn', 'ripped', 'stained', 'chipped', 'dented', 'holes'] },
  wrong: { it: ['sbagliato', 'sbagliata', 'errato', 'errata', 'diverso', 'diversa', 'errore'], en: ['wrong', 'incorrect', 'different', 'mistake', 'error', 'mix-up'] },
  missing: { it: ['manca', 'mancante', 'mancano', 'perso', 'smarrito', 'sparito'], en: ['missing', 'lost', 'gone', 'absent'] },
  address: { it: ['indirizzo', 'civico', 'via', 'domicilio', 'cap'], en: ['address', 'street', 'postcode', 'zip'] },
  pay: { it: ['pagare', 'pagamento', 'pagamenti', 'pago', 'paga', 'saldare', 'addebito'], en: ['pay', 'payment', 'payments', 'paying', 'checkout', 'charge', 'charged'] },
  card: { it: ['carta', 'carte', 'bancomat', 'visa', 'mastercard', 'amex', 'prepagata'], en: ['card', 'cards', 'visa', 'mastercard', 'amex', 'debit', 'credit'] },
  transfer: { it: ['bonifico', 'trasferimento', 'iban'], en: ['transfer', 'wire', 'bank', 'iban'] },
  installments: { it: ['rate', 'rateale', 'rateizzare', 'dilazionare', 'klarna', 'scalapay'], en: ['installments', 'instalments', 'installment', 'klarna', 'later', 'split'] },
  declined: { it: ['rifiutata', 'rifiutato', 'negata', 'negato', 'respinto', 'respinta', 'fallito'], en: ['declined', 'refused', 'rejected', 'denied', 'failed', 'failing'] },
  invoice: { it: ['fattura', 'fatture', 'ricevuta', 'scontrino', 'partita'], en: ['invoice', 'invoices', 'receipt', 'vat', 'bill'] },
  discount: { it: ['sconto', 'sconti', 'coupon', 'codice', 'promo', 'promozione', 'promozionale', 'saldi', 'offerta'], en: ['discount', 'discounts', 'coupon', 'code', 'promo', 'promotion', 'voucher', 'sale', 'offer'] },
  gift: { it: ['regalo', 'regali', 'buono', 'buoni', 'gift', 'card'], en: ['gift', 'gifts', 'voucher', 'present', 'giftcard'] },
  size: { it: ['taglia', 'taglie', 'misura', 'misure', 'numero', 'vestibilità', 'piccola', 'grande'], en: ['size', 'sizes', 'fit', 'measurements', 'small', 'big', 'large'] },
  stock: { it: ['disponibile', 'disponibilità', 'esaurito', 'esaurita', 'riassortimento', 'magazzino', 'finito'], en: ['available', 'availability', 'stock', 'restock', 'sold', 'out'] },
  product: { it: ['prodotto', 'prodotti', 'articolo', 'articoli', 'merce', 'capo', 'oggetto'], en: ['product', 'products', 'item', 'items', 'goods', 'article', 'thing'] },
  warranty: { it: ['garanzia', 'difetto', 'riparazione', 'riparare', 'assistenza'], en: ['warranty', 'guarantee', 'defect', 'repair', 'fix'] },
  account: { it: ['account', 'profilo', 'registrazione', 'registrarmi', 'iscrizione', 'utente'], en: ['account', 'profile', 'registration', 'register', 'signup', 'user'] },
  login: { it: ['accedere', 'accesso', 'login', 'entrare', 'loggarmi'], en: ['login', 'log', 'sign', 'access', 'signin'] },
  password: { it: ['password', 'credenziali', 'pin'], en: ['password', 'credentials', 'passcode', 'pin'] },
  delete: { it: ['eliminare', 'elimino', 'cancellare', 'chiudere', 'rimuovere'], en: ['delete', 'remove', 'close', 'erase', 'deactivate'] },
  email: { it: ['email', 'mail', 'posta', 'messaggio', 'newsletter'], en: ['email', 'emails', 'mail', 'message', 'newsletter'] },
  phone: { it: ['telefono', 'numero', 'chiamare', 'cellulare', 'telefonare'], en: ['phone', 'call', 'number', 'telephone', 'mobile'] },
  contact: { it: ['contattare', 'contatto', 'contatti', 'scrivere', 'raggiungere', 'assistenza'], en: ['contact', 'reach', 'write', 'support', 'helpdesk'] },
  human: { it: ['operatore', 'persona', 'umano', 'addetto', 'qualcuno', 'consulente'], en: ['agent', 'person', 'human', 'someone', 'representative', 'operator'] },
  shop: { it: ['negozio', 'negozi', 'showroom', 'sede'], en: ['shop', 'store', 'stores', 'shops', 'showroom', 'branch'] },
  hours: { it: ['orari', 'orario', 'aperti', 'aperto', 'aprite', 'chiudete', 'chiuso', 'apertura'], en: ['hours', 'open', 'opening', 'close', 'closed', 'closing', 'time'] },
  privacy: { it: ['privacy', 'dati', 'gdpr', 'informativa', 'personali'], en: ['privacy', 'data', 'gdpr', 'policy', 'personal'] },
  job: { it: ['lavoro', 'lavorare', 'curriculum', 'cv', 'assumete', 'candidatura', 'posizioni', 'personale'], en: ['job', 'jobs', 'work', 'cv', 'resume', 'hiring', 'vacancies', 'career', 'careers', 'apply'] },
  complaint: { it: ['reclamo', 'lamentela', 'vergogna', 'pessimo', 'truffa', 'deluso'], en: ['complaint', 'complain', 'disgrace', 'terrible', 'scam', 'disappointed', 'awful'] },
  thanks: { it: ['grazie', 'ringrazio', 'gentilissimi', 'gentile'], en: ['thanks', 'thank', 'cheers', 'appreciated', 'grateful'] },
  greeting: { it: ['ciao', 'buongiorno', 'buonasera', 'salve', 'ehi'], en: ['hello', 'hi', 'hey', 'hiya', 'morning', 'evening'] },
  pickup: { it: ['ritiro', 'ritirare', 'prendere', 'collect'], en: ['pickup', 'collect', 'collection', 'pick'] },
  country: { it: ['estero', 'svizzera', 'germania', 'francia', 'europa', 'internazionale'], en: ['abroad', 'international', 'uk', 'germany', 'france', 'europe', 'overseas'] },
};
