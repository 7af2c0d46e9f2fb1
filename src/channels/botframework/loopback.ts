/**
 * @module channels/botframework/loopback
 * Guards for BOTFRAMEWORK_LOCAL_ONLY: without credentials botbuilder checks no token and
 * replies to whatever `serviceUrl` an activity names, so only this machine may talk to the bot.
 */

/** True for 127.0.0.0/8, ::1 and IPv4-mapped loopback addresses. */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.toLowerCase().replace(/^::ffff:/, '');
  return a === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a);
}

/** True for an http(s) URL whose host is a loopback address or `localhost`. */
export function isLoopbackUrl(url: string | undefined): boolean {
  if (!url) return false;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false; // not a URL at all: certainly not a loopback one
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return false;
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || isLoopbackAddress(host);
}
