// Acme Caffè's Sportello project: read by `sportello start`, `sportello test` and `sportello chat`
// in this folder (faq/, intents/ and actions/ beside it are found by their default names).
import { smsChannel } from './channels/sms.js';

export default {
  // On when SMS_API_KEY, SMS_WEBHOOK_SECRET and SMS_SENDER are set (see README.md).
  channels: [smsChannel],
  // The shop's settings. The environment (or a .env file) wins over these; secrets go there, never here.
  env: {
    BRAND_NAME: 'Acme Caffè',
    DEFAULT_LOCALE: 'it',
    // Acme's order numbers: AC- and six digits (AC-100234).
    ORDER_NUMBER_PATTERN: '\\bAC-?\\d{6}\\b',
    // The order service the order-status action asks (`npm run orders` starts a fake one here).
    ORDERS_API_URL: 'http://127.0.0.1:4100',
  },
};
