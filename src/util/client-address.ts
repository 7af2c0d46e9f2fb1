/**
 * @module util/client-address
 * The address of the client behind a request. Without trusted proxies it is the socket's peer
 * and `X-Forwarded-For` is ignored (anyone can send one). `TRUST_PROXY` names the proxies in
 * front of Sportello, as a number of hops or as a list of addresses and networks; the client is
 * then read from `X-Forwarded-For`, right to left, skipping the trusted proxies — never further,
 * so an address a client wrote into the header itself is not believed.
 */
import { BlockList, isIP } from 'node:net';

/** Which proxies are trusted: none, the nearest `hops`, or those in `networks`. */
export type TrustProxy = { hops: number } | { networks: string[] } | undefined;

const KEYWORDS: Record<string, string[]> = {
  loopback: ['127.0.0.0/8', '::1/128'],
  private: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
};

/**
 * Parses TRUST_PROXY: empty (trust none), a number of hops (`1`: one proxy, e.g. the load
 * balancer), or a comma-separated list of addresses, networks (CIDR) and the words `loopback`,
 * `private`, `linklocal`. Throws with a message naming the wrong entry.
 */
export function parseTrustProxy(spec: string | undefined): TrustProxy {
  const text = (spec ?? '').trim();
  if (!text) return undefined;
  if (/^\d+$/.test(text)) {
    const hops = Number(text);
    if (hops > 32) throw new Error('a number of proxy hops is at most 32');
    return hops === 0 ? undefined : { hops };
  }
  const networks: string[] = [];
  for (const entry of text.split(',').map((e) => e.trim().toLowerCase()).filter(Boolean)) {
    if (KEYWORDS[entry]) {
      networks.push(...KEYWORDS[entry]);
      continue;
    }
    const [address = '', bits, extra] = entry.split('/');
    const family = isIP(address);
    const max = family === 4 ? 32 : 128;
    const valid = family !== 0 && extra === undefined && (bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= max));
    if (!valid) throw new Error(`"${entry}" is not an address, a network (CIDR) or one of loopback, private, linklocal`);
    networks.push(bits === undefined ? `${address}/${max}` : entry);
  }
  return { networks };
}

/** An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`) as IPv4; other addresses as they are. */
function plain(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1]! : address;
}

const internal = new BlockList();
for (const network of [...KEYWORDS.loopback!, ...KEYWORDS.private!, ...KEYWORDS.linklocal!]) {
  const [address = '', bits = '0'] = network.split('/');
  internal.addSubnet(address, Number(bits), isIP(address) === 6 ? 'ipv6' : 'ipv4');
}

/** True for a loopback, private (RFC 1918, fc00::/7) or link-local address: one inside the deployment's network. */
export function isInternalAddress(address: string): boolean {
  const a = plain(address);
  const family = isIP(a);
  return family !== 0 && internal.check(a, family === 6 ? 'ipv6' : 'ipv4');
}

/** Finds the client address of requests, given the trusted proxies. */
export type ClientAddress = (socketAddress: string | undefined, forwardedFor: string | string[] | undefined) => string;

/** Builds the finder for `trust` (parsed once, used per request). */
export function createClientAddress(trust: TrustProxy): ClientAddress {
  let trusted: ((address: string) => boolean) | undefined;
  if (trust && 'networks' in trust) {
    const list = new BlockList();
    for (const network of trust.networks) {
      const [address = '', bits = '0'] = network.split('/');
      list.addSubnet(address, Number(bits), isIP(address) === 6 ? 'ipv6' : 'ipv4');
    }
    trusted = (address) => {
      const family = isIP(address);
      return family !== 0 && list.check(address, family === 6 ? 'ipv6' : 'ipv4');
    };
  }
  return (socketAddress, forwardedFor) => {
    const peer = plain(socketAddress ?? 'unknown');
    if (!trust) return peer;
    const header = Array.isArray(forwardedFor) ? forwardedFor.join(',') : (forwardedFor ?? '');
    // Nearest last: the socket's peer, then what each proxy appended, right to left.
    const chain = [peer, ...header.split(',').map((a) => plain(a.trim())).filter(Boolean).reverse()];
    let client = peer;
    for (let i = 0; i < chain.length - 1; i++) {
      const isTrusted = 'hops' in trust ? i < trust.hops : trusted!(chain[i]!);
      const next = chain[i + 1]!;
      // Stop at an untrusted hop, and at an entry that is not an address (it cannot be a proxy's).
      if (!isTrusted || isIP(next) === 0) break;
      client = next;
    }
    return client;
  };
}
