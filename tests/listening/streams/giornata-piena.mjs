// Writes giornata-piena.jsonl: a calm but long and busy stream (a Friday at a post every two minutes,
// then a Saturday before Christmas at a post a minute, 9:00-17:00), ordinary complaints, questions,
// opinions, praise and spam spread over many words, from hand-written sentences (each with its class)
// and a seeded choice of products, colours, cities and times. Nothing in it is a crisis: it must raise
// no alert. `node tests/listening/streams/giornata-piena.mjs` writes it again, the same.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

let seed = 20261211;
const rand = () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const pick = (xs) => xs[Math.floor(rand() * xs.length)];

const PROD = ['giacca', 'maglione', 'cappotto', 'sciarpa', 'felpa', 'camicia', 'gonna', 'borsa'];
const PROD_PL = ['jeans', 'maglioni', 'piumini', 'stivali', 'cappotti', 'pigiami'];
const PROD_EN = ['jacket', 'jumper', 'coat', 'scarf', 'hoodie', 'shirt', 'skirt', 'bag'];
const PROD_EN_PL = ['jeans', 'jumpers', 'puffer jackets', 'boots', 'coats', 'pyjamas'];
const COLOR = ['nero', 'blu', 'rosso', 'verde', 'grigio', 'beige'];
const COLOR_EN = ['black', 'navy', 'red', 'green', 'grey', 'beige'];
const CITY = ['Milano', 'Roma', 'Torino', 'Bologna', 'Napoli', 'Firenze', 'Verona', 'Bari'];
const CITY_EN = ['London', 'Manchester', 'Leeds', 'Bristol', 'Glasgow', 'Dublin'];
const SIZE = ['S', 'M', 'L', 'XL', '42', '44'];

const T = {
  care: [
    () => `@acme il mio ordine con il ${pick(PROD)} non è ancora arrivato, sono passati ${2 + Math.floor(rand() * 6)} giorni`,
    () => `@acme posso cambiare la taglia della ${pick(PROD)} che ho comprato sabato?`,
    () => `@acme quando arriva il rimborso del reso? L'avete ricevuto una settimana fa`,
    () => `@acme avete il ${pick(PROD)} ${pick(COLOR)} in taglia ${pick(SIZE)} nel negozio di ${pick(CITY)}?`,
    () => `@acme il codice sconto non funziona nel carrello, come faccio?`,
    () => `@acme come faccio a fare il reso di un capo comprato online?`,
    () => `@acme il ${pick(PROD)} che mi è arrivato ha una cucitura aperta, cosa devo fare?`,
    () => `@acme il negozio di ${pick(CITY)} è aperto domenica?`,
    () => `@acme la fattura dell'ordine me la mandate per mail?`,
    () => `@acme quanto costa la spedizione a ${pick(CITY)}?`,
    () => `@acme non riesco a cambiare l'indirizzo di consegna, potete aiutarmi?`,
    () => `@acme mi è arrivata la taglia sbagliata, come la cambio?`,
    () => `@acme my order with the ${pick(PROD_EN)} still hasn't arrived after ${2 + Math.floor(rand() * 6)} days, can you check?`,
    () => `@acme can I exchange the ${pick(PROD_EN)} for a bigger size?`,
    () => `@acme when will my refund for the return come through? You got it last week`,
    () => `@acme do you have the ${pick(COLOR_EN)} ${pick(PROD_EN)} in ${pick(SIZE)}?`,
    () => `@acme the discount code doesn't work at checkout, what am I doing wrong?`,
    () => `@acme how do I return something I bought online?`,
    () => `@acme the ${pick(PROD_EN)} I got has a broken zip, what should I do?`,
    () => `@acme is the ${pick(CITY_EN)} store open on Sunday?`,
    () => `@acme the tracking link in your email doesn't open, where is my parcel?`,
    () => `@acme do you gift wrap online orders?`,
  ],
  noise: [
    () => `Coda lunghissima alle casse di acme a ${pick(CITY)} oggi`,
    () => `acme ha alzato i prezzi dei ${pick(PROD_PL)}, ormai costano come in boutique`,
    () => `Qualcuno ha provato i ${pick(PROD_PL)} di acme? Meglio di quelli di zara?`,
    () => `La nuova pubblicità di acme con la neve finta, mah`,
    () => `Giro per negozi: acme, zara, h&m. Portafoglio in lacrime`,
    () => `acme a ${pick(CITY)} ha cambiato la disposizione dei reparti, non trovo più niente`,
    () => `Spedizione acme arrivata con un giorno di ritardo, pazienza`,
    () => `Ho una wishlist acme più lunga della lista dei regali`,
    () => `acme o decathlon per la giacca da sci? Consigli`,
    () => `Parcheggio del centro commerciale pieno, rinuncio ad acme per oggi`,
    () => `Huge queue at the acme tills in ${pick(CITY_EN)} today`,
    () => `acme's ${pick(PROD_EN_PL)} got pricier again, not sure they're worth it now`,
    () => `acme vs uniqlo for basics, thoughts?`,
    () => `The new acme ad with the fake snow is a bit much`,
    () => `Christmas shopping: acme, next, zara. Wallet crying`,
    () => `acme delivery was a day late but whatever`,
    () => `Wile E. Coyote and his acme anvils, a classic`,
    () => `Why are acme fitting rooms always so cold`,
  ],
  praise: [
    () => `Il ${pick(PROD)} acme è bellissimo, qualità ottima`,
    () => `Grazie acme, reso rimborsato in due giorni!`,
    () => `Commesse di acme a ${pick(CITY)} gentilissime, mi hanno trovato la taglia giusta`,
    () => `Ordine acme arrivato in anticipo, tutto perfetto`,
    () => `Love my new acme ${pick(PROD_EN)}, so comfy`,
    () => `acme support sorted my exchange in minutes, great service`,
    () => `Parcel from acme arrived a day early and well packed. Thanks!`,
    () => `The staff at acme ${pick(CITY_EN)} were so helpful today`,
  ],
  spam: [
    () => `Vinci un buono acme da 500€ 👉 https://vinci-${Math.floor(rand() * 900) + 100}.example #vinci #giveaway`,
    () => `acme ${pick(PROD_EN_PL)} 80% off today only 👉 https://deals${Math.floor(rand() * 90) + 10}.example #sale #deals #fashion`,
    () => `Guadagna 200€ al giorno da casa, link in bio #lavoro #soldi`,
    () => `Follow back and win a free iPhone!!! giveaway link in bio #giveaway #free #iphone #followback`,
  ],
};
const MIX = [['care', 0.33], ['noise', 0.37], ['praise', 0.22], ['spam', 0.08]];

function pad(n) {
  return String(n).padStart(2, '0');
}
const lines = [];
for (const [day, gap] of [['2026-12-11', 2], ['2026-12-12', 1]]) {
  let t = 9 * 60 + rand() * gap; // minutes after midnight, Rome time (+01:00)
  while (t < 17 * 60) {
    let r = rand();
    const cls = MIX.find(([, p]) => (r -= p) < 0)?.[0] ?? 'noise';
    const text = pick(T[cls])();
    const author = cls === 'spam' ? `spam${Math.floor(rand() * 40)}` : `u${Math.floor(rand() * 4000)}`;
    const s = Math.floor(t * 60);
    const at = `${day}T${pad(Math.floor(s / 3600))}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}+01:00`;
    const id = `giornata-piena-${String(lines.length + 1).padStart(3, '0')}`;
    const followers = Math.floor(20 + rand() * rand() * 3000);
    lines.push(JSON.stringify({ at, channel: 'twitter', kind: text.startsWith('@acme') ? 'mention' : 'post', id, author: { id: String(1860000000 + Number(author.replace(/\D/g, '')) + (cls === 'spam' ? 5000 : 0)), handle: author, followers }, text, expect: cls }));
    t += -Math.log(1 - rand()) * gap;
  }
}
writeFileSync(fileURLToPath(new URL('giornata-piena.jsonl', import.meta.url)), lines.join('\n') + '\n');
console.log(lines.length);
