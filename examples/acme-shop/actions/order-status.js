// "Where is my order?", answered from Acme's order system. The FAQ entry `stato-ordine` /
// `order-status` names this action (`handler: order-status`); Sportello calls it in private, once
// the customer has given an order number (AC-100234), with the conversation's language.
import { defineAction } from 'sportello';

const TEXTS = {
  it: {
    processing: (o) => `Stiamo preparando il tuo ordine: parte a breve con ${o.carrier} e arriva entro ${day(o.eta, 'it')}.`,
    shipped: (o) => `Il tuo ordine è in viaggio con ${o.carrier}: arriva ${day(o.eta, 'it')}.`,
    delivered: (o) => `Il tuo ordine risulta consegnato ${day(o.eta, 'it')}. Se non l'hai ricevuto scrivici qui.`,
    notFound: 'Non trovo un ordine con questo numero: puoi controllarlo nella mail di conferma (inizia con AC-)?',
  },
  en: {
    processing: (o) => `We are packing your order: it leaves soon with ${o.carrier} and arrives by ${day(o.eta, 'en')}.`,
    shipped: (o) => `Your order is on its way with ${o.carrier}: it arrives on ${day(o.eta, 'en')}.`,
    delivered: (o) => `Your order was delivered on ${day(o.eta, 'en')}. If you haven't received it, write to us here.`,
    notFound: "I can't find an order with that number: could you check it in the confirmation email (it starts with AC-)?",
  },
};

/** "giovedì 10 dicembre" / "Thursday 10 December". */
function day(iso, language) {
  return new Intl.DateTimeFormat(language === 'it' ? 'it-IT' : 'en-GB', { weekday: 'long', day: 'numeric', month: 'long', timeZone: 'Europe/Rome' }).format(new Date(`${iso}T12:00:00Z`));
}

/** "ac100234", "AC 100234", "AC-100234" → "AC-100234". */
export function orderNumber(text) {
  const digits = /(\d{6})/.exec(text ?? '');
  return digits ? `AC-${digits[1]}` : undefined;
}

export default defineAction({
  name: 'order-status',
  timeoutMs: 4000, // then a colleague takes over (handler_failed)
  async handle({ data, language }, { signal }) {
    const texts = TEXTS[language] ?? TEXTS.it;
    const number = orderNumber(data.order_number);
    if (!number) return { reply: texts.notFound };
    const base = process.env.ORDERS_API_URL ?? 'http://127.0.0.1:4100';
    const res = await fetch(`${base}/orders/${encodeURIComponent(number)}`, { signal });
    if (res.status === 404) return { reply: texts.notFound };
    // Anything else that is not an answer is a failure: Sportello hands the customer to a person.
    if (!res.ok) throw new Error(`the order service answered ${res.status}`);
    const order = await res.json();
    // A parcel the courier lost needs a person (a refund or a new shipment): the reason is a note for them.
    if (order.status === 'lost') return { handoff: true, reason: `the courier (${order.carrier}) reports the parcel lost` };
    const text = texts[order.status];
    if (!text) throw new Error(`unknown order status ${JSON.stringify(order.status)}`);
    return { reply: text(order) };
  },
});
