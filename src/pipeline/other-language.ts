/**
 * @module pipeline/other-language
 * Messages in a language the bot does not speak (Spanish, French, German, Portuguese): Sportello
 * answers in Italian and English only, so a customer writing "¿dónde está mi pedido?" is told so in
 * both, instead of "non sono sicuro di aver capito" in Italian. Words found only in those languages
 * (not Italian or English ones: "la", "le", "no", "mi", "ma" are left out) are counted.
 */
const WORDS: Record<'es' | 'fr' | 'de' | 'pt', ReadonlySet<string>> = {
  es: new Set('el los las y está están dónde donde pedido hola gracias quiero tengo por para es qué cómo cuándo muy pero también ayuda envío mis usted necesito mío ya español habláis hablas habla hablan hablar inglés puedo'.split(' ')),
  fr: new Set("les des et est du pour avec pas je mon mes où bonjour merci commande vous nous suis c'est j'ai livraison aide ne toujours pourquoi quand comment remboursement colis parlez parles français anglais".split(' ')),
  de: new Set('der die das und ist nicht ich mein meine meinen wo hallo danke bestellung sie wir ein eine mit für auf bitte noch habe lieferung warum wann wie paket sprechen sprichst deutsch englisch'.split(' ')),
  pt: new Set('os em não meu minha onde olá obrigado obrigada encomenda você está uma pedido ainda porque quando como ajuda entrega fala falam português inglês'.split(' ')),
};

/** True when at least two words, and at least a third of the message's words, belong to one of the languages above only. */
export function otherLanguage(text: string): boolean {
  const words = text.toLowerCase().replace(/’/g, "'").match(/[\p{L}']+/gu) ?? [];
  if (words.length < 2) return false;
  for (const list of Object.values(WORDS)) {
    let hits = 0;
    for (const w of words) if (list.has(w)) hits++;
    if (hits >= 2 && hits * 3 >= words.length) return true;
  }
  return false;
}
