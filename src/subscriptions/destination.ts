/**
 * Where a rest-hook notification may go. A Subscription makes the server send a POST, with
 * headers its author chose, to an address its author chose: without a check that is a
 * server-side request forgery, reaching services only the server can reach (loopback admin
 * ports, cloud metadata at 169.254.169.254, the private network) and, through the delivery
 * outcome, a port scanner. Unless private destinations are allowed (development and tests by
 * default; docs/operations.md, SUBSCRIPTION_ALLOW_PRIVATE_ENDPOINTS), only public unicast
 * addresses are contacted. The check runs on the address actually connected to: a host name is
 * resolved, every address it resolves to is checked, and the connection goes to a checked one
 * (a name that resolves to a public address when the Subscription is written and to 127.0.0.1
 * when it is delivered, "DNS rebinding", is refused at delivery).
 */
import dns from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';

/** Networks never contacted unless private destinations are allowed (prefix, length in bits). */
const IPV4_BLOCKED = [
  '0.0.0.0/8', // "this network", unspecified
  '10.0.0.0/8', // RFC 1918
  '100.64.0.0/10', // carrier-grade NAT (RFC 6598)
  '127.0.0.0/8', // loopback
  '169.254.0.0/16', // link-local, cloud metadata
  '172.16.0.0/12', // RFC 1918
  '192.0.0.0/24', // IETF protocol assignments
  '192.168.0.0/16', // RFC 1918
  '198.18.0.0/15', // benchmarking
  '224.0.0.0/4', // multicast
  '240.0.0.0/4', // reserved, broadcast
].map(cidr);

const IPV6_BLOCKED = [
  '::/96', // unspecified, loopback, IPv4-compatible (deprecated)
  '64:ff9b:1::/48', // local-use NAT64
  '100::/64', // discard
  '2001::/32', // Teredo (embeds an obfuscated IPv4 address)
  'fc00::/7', // unique local
  'fe80::/10', // link-local
  'fec0::/10', // site-local (deprecated)
  'ff00::/8', // multicast
].map(cidr);

interface Network {
  bytes: number[];
  bits: number;
}

function cidr(text: string): Network {
  const [address, bits] = text.split('/');
  return { bytes: addressBytes(address!)!, bits: Number(bits) };
}

function inNetwork(bytes: number[], net: Network): boolean {
  if (bytes.length !== net.bytes.length) return false;
  for (let bit = 0; bit < net.bits; bit += 8) {
    const take = Math.min(8, net.bits - bit);
    const mask = (0xff << (8 - take)) & 0xff;
    if ((bytes[bit / 8]! & mask) !== (net.bytes[bit / 8]! & mask)) return false;
  }
  return true;
}

function ipv4Bytes(text: string): number[] {
  return text.split('.').map(Number);
}

/** 16 bytes of an IPv6 address (zone id dropped, trailing dotted quad allowed). */
function ipv6Bytes(text: string): number[] {
  let groups = text.replace(/%.*$/, '').toLowerCase();
  const quad = /(\d+\.\d+\.\d+\.\d+)$/.exec(groups);
  if (quad) {
    const [a, b, c, d] = ipv4Bytes(quad[1]!);
    groups = groups.slice(0, -quad[1]!.length) + `${((a! << 8) | b!).toString(16)}:${((c! << 8) | d!).toString(16)}`;
  }
  const [head, tail] = groups.split('::') as [string, string | undefined];
  const parse = (s: string | undefined) => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const left = parse(head);
  const right = parse(tail);
  const words = tail === undefined ? left : [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  return words.flatMap((w) => [w >> 8, w & 0xff]);
}

/** The bytes of an IP address literal (4 or 16), or undefined when `text` is not one. */
export function addressBytes(text: string): number[] | undefined {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const family = isIP(bare.replace(/%.*$/, ''));
  if (family === 4) return ipv4Bytes(bare);
  if (family === 6) return ipv6Bytes(bare);
  return undefined;
}

/** The IPv4 address an IPv6 address stands for (mapped, NAT64, 6to4), if any. */
function embeddedIpv4(b: number[]): number[] | undefined {
  const zero = (from: number, to: number) => b.slice(from, to).every((x) => x === 0);
  if (zero(0, 10) && b[10] === 0xff && b[11] === 0xff) return b.slice(12); // ::ffff:a.b.c.d
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zero(4, 12)) return b.slice(12); // 64:ff9b::/96
  if (b[0] === 0x20 && b[1] === 0x02) return b.slice(2, 6); // 2002::/16 (6to4)
  return undefined;
}

/**
 * True when `address` (an IP literal, brackets allowed) is not a public unicast address:
 * loopback, private, link-local, unspecified, multicast, CGNAT or otherwise special, also when
 * written as an IPv4-mapped (::ffff:127.0.0.1), NAT64 or 6to4 IPv6 address. Not an address: true.
 */
export function isForbiddenAddress(address: string): boolean {
  const bytes = addressBytes(address);
  if (!bytes) return true;
  if (bytes.length === 4) return IPV4_BLOCKED.some((n) => inNetwork(bytes, n));
  const v4 = embeddedIpv4(bytes);
  if (v4) return IPV4_BLOCKED.some((n) => inNetwork(v4, n));
  return IPV6_BLOCKED.some((n) => inNetwork(bytes, n));
}

/** Names that always mean this machine (RFC 6761 §6.3). */
function isLocalhostName(host: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  return h === 'localhost' || h.endsWith('.localhost');
}

/**
 * What can be told from an endpoint URL's host alone, when a Subscription is written: an address
 * literal or a localhost name that is not a public destination. Other names are checked when
 * they are resolved, at each delivery (what they resolve to today proves nothing later).
 */
export function isForbiddenHost(hostname: string): boolean {
  if (isLocalhostName(hostname)) return true;
  return addressBytes(hostname) !== undefined && isForbiddenAddress(hostname);
}

/** The error a refused destination fails the connection with (its code goes to the log only). */
export function destinationRefused(): NodeJS.ErrnoException {
  const err = new Error('destination address not allowed') as NodeJS.ErrnoException;
  err.code = 'EDESTINATIONREFUSED';
  return err;
}

type BaseLookup = (hostname: string, options: dns.LookupAllOptions, callback: (err: NodeJS.ErrnoException | null, addresses: dns.LookupAddress[]) => void) => void;

/**
 * A `lookup` for net/http/https that resolves the name, refuses it when any address it resolves
 * to is forbidden, and otherwise hands the checked addresses to the connection, which then
 * connects to one of them: the address checked is the address used.
 */
export function guardedLookup(base: BaseLookup = dns.lookup): LookupFunction {
  return (hostname, options, callback) => {
    base(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '');
      if (!addresses.length || addresses.some((a) => isForbiddenAddress(a.address))) return callback(destinationRefused(), '');
      if (options.all) return callback(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}
