/**
 * @module pipeline/waiting-question
 * "How long do I have to wait?", "quando mi rispondete?", "novità?", "quanto ci vorrà?" (whose
 * only subject, while waiting, is the wait): asked while the customer waits
 * for a person, these ask where they stand, and the queue notice is the answer, even before the
 * next one is due. Read as anything else they got "thanks, I've added it to your request" (a
 * question taken for a detail). A call with nothing to ask ("ci siete?", "hello??") is not one of
 * them: within the notice interval it stays silent (docs/formats.md, `queue_notice`).
 */
import type { Language } from '../core/types.js';
import { afterCourtesy, withoutMentions } from './courtesy.js';

const WAIT: Record<Language, RegExp> = {
  it: new RegExp(
    [
      // quanto devo aspettare / quanto c'è da aspettare / quanto dovrò attendere ancora
      String.raw`quanto\s+(?:tempo\s+)?(?:devo|dovrò|dovro|devo\s+ancora|c['’]è\s+da|bisogna|tocca|mi\s+tocca)\s+(?:ancora\s+)?(?:aspettare|attendere)`,
      // quando avrò una risposta? / quando mi rispondete / quando risponde qualcuno / quando arriva un operatore
      String.raw`quando\s+(?:avrò|avro|ricevo|riceverò|ricevero|ho)\s+(?:una\s+)?risposta`,
      String.raw`quando\s+(?:mi\s+)?(?:rispondete|risponderete|risponde|risponderà|risponderai|scrivete|scriverete|contattate|contatterete|richiamate)`,
      String.raw`quando\s+(?:arriva|mi\s+risponde|mi\s+scrive|mi\s+contatta)\s+(?:qualcuno|un\s+operatore|un(?:a|o)?\s+collega|una\s+persona)`,
      // quanto ci vuole? / quanto ci vorrà ancora? alone: asked while waiting, about the wait
      String.raw`^(?:e\s+|ma\s+|allora\s+)?quanto\s+(?:tempo\s+)?(?:ci\s+(?:vuole|vorrà|vorra|volete|mettete|metterete)|manca)(?:\s+ancora)?\s*[?!.]*$`,
      // sono ancora in coda? / a che punto sono (della coda)? / quanti ne ho davanti?
      String.raw`sono\s+ancora\s+in\s+coda|(?:a\s+che\s+punto|che\s+posizione)\s+(?:sono|è|ho)\s+(?:in|della|nella)\s+coda|quant[ei]\s+(?:persone\s+)?(?:ho|ci\s+sono)\s+(?:davanti|prima)`,
      // novità? / aggiornamenti? alone
      String.raw`^(?:e\s+|allora\s+)?(?:ci\s+sono\s+|qualche\s+|delle\s+|nessuna\s+)?(?:novità|novita|aggiornamenti|notizie)\s*[?!.]*$`,
    ].join('|'),
    'iu',
  ),
  en: new RegExp(
    [
      // how long do I have to wait / how much longer / how long will I be waiting
      String.raw`how\s+(?:long|much\s+longer)\s+(?:do|will|must|should|shall)\s+i\s+(?:have\s+to\s+|need\s+to\s+)?(?:wait|be\s+waiting|hold)`,
      String.raw`how\s+much\s+longer\s+(?:do|will|must|should|shall)\s+i`,
      // how long will it take? / how long is this going to take? alone: asked while waiting, about the wait
      String.raw`^(?:and\s+|so\s+)?how\s+long\s+(?:will|does|is)\s+(?:it|this|that)\s+(?:take|going\s+to\s+take|gonna\s+take)(?:\s+now)?\s*[?!.]*$`,
      // when do I get an answer?
      String.raw`when\s+(?:do|will|can)\s+i\s+(?:get|have|hear)\s+(?:an?\s+)?(?:answer|reply|response|back)`,
      // when will someone answer / when is somebody getting back to me
      String.raw`when\s+(?:will|is|are|can|does)\s+(?:someone|somebody|anyone|anybody|a\s+person|a\s+human|an?\s+(?:agent|operator|colleague)|you(?:\s+guys)?)\s+(?:going\s+to\s+|gonna\s+)?(?:answer|reply|respond|get\s+back|getting\s+back|contact|write|be\s+with|talk|help)`,
      // am I still in the queue? / where am I in the queue? / what's my position?
      String.raw`(?:am\s+i\s+still\s+in\s+(?:the\s+)?(?:queue|line))|(?:where\s+am\s+i\s+in\s+(?:the\s+)?(?:queue|line))|what['’]?s?\s+(?:is\s+)?my\s+(?:position|place)`,
      // any news? / any update? alone
      String.raw`^(?:so\s+|and\s+)?(?:any\s+)?(?:news|updates?)(?:\s+(?:yet|please))?\s*[?!.]*$`,
    ].join('|'),
    'iu',
  ),
};

/**
 * True when the message asks about the wait for a person, or whether anyone is there. Both
 * languages are tried: a message this short is easily read as the other one ("novità?").
 */
export function asksAboutTheWait(text: string): boolean {
  const bare = withoutMentions(text).trim();
  // "Grazie, quanto ci vorrà?": what follows the courtesy asks.
  const rest = afterCourtesy(bare);
  return [bare, ...(rest === undefined ? [] : [rest])].some((t) => WAIT.it.test(t) || WAIT.en.test(t));
}
