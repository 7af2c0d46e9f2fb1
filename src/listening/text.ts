/**
 * @module listening/text
 * The words that can name a topic: a heard post's content words, lower-cased and accent-folded,
 * without Italian and English stop-words, links, handles, numbers and the brand's own names.
 * Each word is keyed by its Snowball stem (so "bloccata" and "bloccato" are one term) and keeps
 * the surface form seen most, for labels people read; the words of one incident that translate each
 * other ("ritardo" and "delayed", "pagamento" and "checkout") share one key (`TOPIC_WORDS`), so one
 * incident told in Italian and English is one topic.
 */
import snowball from 'snowball-stemmers';
import { fold } from '../classifier/normalise.js';
import type { Language } from '../core/types.js';

/** Function words and chat filler of both languages: never a topic. */
const STOP_WORDS = new Set(
  `a ad al allo ai agli all alla alle con col coi da dal dallo dai dagli dall dalla dalle di del dello dei degli dell della delle
in nel nello nei negli nell nella nelle su sul sullo sui sugli sull sulla sulle per tra fra il lo la i gli le l un uno una
e ed o od ma se che chi cui non ne ci vi si mi ti ce ve me te lui lei noi voi loro io tu egli essa esso questo questa questi queste
quello quella quelli quelle come dove quando perche perché cosa anche ancora gia già piu più meno molto poco tutto tutti tutta tutte
ogni sono sei siamo siete era erano stato stata stati state essere ho hai ha abbiamo avete hanno avere fatto fare fa faccio fate
sto sta stanno stiamo stai mio mia miei mie tuo tua vostro vostra vostri vostre nostro nostra nostri nostre suo sua suoi sue
del dopo prima oggi ieri domani ora adesso qui qua li là solo sempre mai niente nulla nessuno qualcuno qualcosa allora poi
quindi pero però invece ecco ciao salve grazie prego buongiorno buonasera ok okay si sì no eh ah oh boh mah cmq comunque
tipo proprio davvero veramente bene male via casa volta volte giorno giorni ore ora minuti settimana mese anno
the a an and or but if then than that this these those there here what which who whom whose when where why how
is are was were be been being am do does did doing done have has had having will would shall should can could may might must
i me my mine we us our ours you your yours he him his she her hers it its they them their theirs
to of in on at by for with from up down out over under again further once about into through during before after above below
not no nor only own same so too very just now also still yet even ever never always all any both each few more most other some such
get got getting go going gone make made really today yesterday tomorrow hi hello hey thanks thank please yes ok okay lol omg
day days hour hours time week quanto quanta quanti quante quale quali qualcuno sa sapete anyone someone know knows
visto fatto detto nuovo nuova nuovi nuove again
voglio vorrei vuoi vuole volete vogliono posso puoi può puo potete possono potreste aiuto aiutare aiutarmi aiutatemi aiutate
help need needs want wants would like pls plz guys ragazzi`.split(/\s+/).filter(Boolean),
);

const STEMMERS: Record<Language, { stem(word: string): string }> = {
  it: snowball.newStemmer('italian'),
  en: snowball.newStemmer('english'),
};

/**
 * Words of the incidents care teams hear about, Italian and English, that name the same thing: one
 * key each group, so a topic is counted and alerted once whatever language its posts are in. Only
 * translations and near-synonyms of one thing: the classifier's care lexicon
 * (`classifier/lexicon.ts`) is wider on purpose (it puts "diverso" with "errore", "collo" with "pacco",
 * "bloccare" with "annullare"), which would join unrelated complaints into one topic.
 */
export const TOPIC_WORDS: Record<string, string[]> = {
  pay: ['pagamento', 'pagamenti', 'pagare', 'pagato', 'pago', 'payment', 'payments', 'pay', 'paying', 'paid', 'checkout'],
  failed: ['fallito', 'fallita', 'fallisce', 'failed', 'fails', 'failing', 'rifiutata', 'rifiutato', 'declined'],
  late: ['ritardo', 'ritardi', 'ritardare', 'ritardata', 'late', 'delay', 'delays', 'delayed'],
  delivery: ['consegna', 'consegne', 'consegnato', 'delivery', 'deliveries', 'delivered'],
  shipping: ['spedizione', 'spedizioni', 'spedito', 'spedita', 'shipping', 'shipment', 'shipments', 'shipped'],
  parcel: ['pacco', 'pacchi', 'parcel', 'parcels', 'package', 'packages'],
  stuck: ['bloccato', 'bloccata', 'bloccati', 'bloccate', 'fermo', 'ferma', 'fermi', 'stuck', 'blocked', 'frozen'],
  courier: ['corriere', 'corrieri', 'courier', 'couriers'],
  strike: ['sciopero', 'scioperi', 'strike', 'strikes'],
  refund: ['rimborso', 'rimborsi', 'rimborsare', 'rimborsato', 'refund', 'refunds', 'refunded'],
  order: ['ordine', 'ordini', 'ordinato', 'order', 'orders', 'ordered'],
  access: ['login', 'logout', 'log', 'logged', 'logging', 'signin', 'signout', 'accesso', 'accedere', 'accedo', 'disconnette', 'disconnessa', 'disconnesso', 'disconnessione', 'disconnect', 'disconnected', 'disconnects', 'sloggato', 'sloggata', 'slogga', 'scollegare', 'scollegarmi', 'scollegato', 'kicked'],
  session: ['sessione', 'sessioni', 'session', 'sessions'],
  app: ['app', 'applicazione'],
  site: ['sito', 'website', 'site'],
  outage: ['guasto', 'disservizio', 'outage', 'crash', 'crashes', 'crashed', 'crashing', 'crasha'],
  broken: ['rotto', 'rotta', 'rotti', 'broken', 'difettoso', 'difettosa', 'defective', 'faulty'],
  recall: ['richiamo', 'richiamato', 'richiamata', 'recall', 'recalled'],
  tracking: ['tracking', 'tracciamento'],
};

/**
 * Groups of `TOPIC_WORDS` that are one kind of incident: while a spike on one is open, another that
 * fires joins it (an update, not a second alert). Words of two kinds ("bloccata": an app, a parcel)
 * are in none.
 */
const TOPIC_FAMILIES: Record<string, string[]> = {
  shipping: ['order', 'delivery', 'shipping', 'parcel', 'late', 'courier', 'strike', 'tracking'],
  payment: ['pay', 'failed'],
  access: ['access', 'session'],
};
const FAMILY_OF = new Map<string, string>(Object.entries(TOPIC_FAMILIES).flatMap(([family, groups]) => groups.map((g): [string, string] => [`~${g}`, family])));

/** The kind of incident a term's key belongs to (`TOPIC_FAMILIES`), if any. */
export function topicFamily(key: string): string | undefined {
  return FAMILY_OF.get(key);
}

/** Stem (of either language's stemmer) → its group's key. */
const TOPIC_KEY = new Map<string, string>();
for (const [group, words] of Object.entries(TOPIC_WORDS)) {
  for (const w of words) for (const stemmer of Object.values(STEMMERS)) TOPIC_KEY.set(stemmer.stem(fold(w)), `~${group}`);
}

/** A content word of a post: its key (the stem) and the word as written (folded). */
export interface Term {
  key: string;
  surface: string;
}

/**
 * The content words of a text, each once, in order of appearance. `ignore` holds folded words
 * never to count (the brand's names, its handles without @); hashtags count as their word.
 */
export function contentTerms(text: string, language: Language, ignore: ReadonlySet<string> = new Set()): Term[] {
  const cleaned = text
    .replace(/https?:\/\/\S+/gi, ' ')
    // An e-mail address is private data, never a topic's word.
    .replace(/[\w.+-]+@[\w-]+(\.[\w-]+)+/g, ' ')
    .replace(/(^|\s)@\w+/g, ' ')
    .replace(/#/g, ' ');
  const seen = new Set<string>();
  const out: Term[] = [];
  for (const m of cleaned.toLowerCase().matchAll(/[\p{L}\p{N}]+/gu)) {
    const surface = fold(m[0]);
    if (surface.length < 3 || /^\d+$/.test(surface) || STOP_WORDS.has(surface) || ignore.has(surface)) continue;
    const stem = STEMMERS[language].stem(surface);
    if (stem.length < 3 || ignore.has(stem)) continue;
    const key = TOPIC_KEY.get(stem) ?? stem;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ key, surface });
  }
  return out;
}

/** Folded forms of the brand's names and handles (without @ or #), to leave out of topics. */
export function brandWords(names: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const name of names) {
    for (const m of name.toLowerCase().matchAll(/[\p{L}\p{N}]+/gu)) {
      const f = fold(m[0]);
      out.add(f);
      out.add(STEMMERS.it.stem(f));
      out.add(STEMMERS.en.stem(f));
    }
  }
  return out;
}
