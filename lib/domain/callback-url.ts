import { isIP } from 'node:net';
import { fail, ok, type Result } from './errors.ts';

/**
 * Syntax-level rules for an ERP's `callback_url` (SSRF protection, first half). A URL that passes
 * here may still name a host that resolves to a private address: the DNS half lives in
 * `lib/adapters/network/dns-callback-url-guard.ts` and reuses `isForbiddenAddress` below.
 *
 * Host literals are read from the WHATWG `URL` parser's canonical `hostname`, which already turns
 * the odd IPv4 spellings (`2130706433`, `0x7f.1`, `0177.0.0.1`, `127.1`) into dotted quads and
 * compresses IPv6, so one address check covers every spelling the HTTP client would connect to.
 */

/** Longer URLs are refused: no legitimate callback needs more, and they end up in logs and items. */
const MAX_URL_LENGTH = 2048;

interface Range {
  /** First address of the range, as a bigint (v4: 32 bits, v6: 128 bits). */
  base: bigint;
  bits: number;
  /** Portuguese label used in the refusal reason. */
  label: string;
}

const v4 = (text: string): bigint =>
  text.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);

const range4 = (cidr: string, label: string): Range => {
  const [base = '', bits = '32'] = cidr.split('/');
  return { base: v4(base), bits: Number(bits), label };
};

/** Expands a valid IPv6 text (zone id stripped, embedded IPv4 allowed) into a 128-bit number. */
const v6 = (text: string): bigint => {
  let body = text;
  const tail: number[] = [];
  const lastColon = body.lastIndexOf(':');
  const last = body.slice(lastColon + 1);
  if (last.includes('.')) {
    const quad = Number(v4(last));
    tail.push(quad >>> 16, quad & 0xffff);
    // Keep a `::` that ends the head ("::ffff:" -> "::ffff", but "::" stays "::").
    body = body.slice(0, lastColon + 1);
    if (!body.endsWith('::')) body = body.slice(0, -1);
  }
  const groups = (part: string): number[] => (part ? part.split(':').map((g) => Number.parseInt(g, 16)) : []);
  const [left = '', right] = body.split('::');
  const head = groups(left);
  const rest = [...(right === undefined ? [] : groups(right)), ...tail];
  const all = [...head, ...Array<number>(8 - head.length - rest.length).fill(0), ...rest];
  return all.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
};

const range6 = (cidr: string, label: string): Range => {
  const [base = '', bits = '128'] = cidr.split('/');
  return { base: v6(base), bits: Number(bits), label };
};

const inRange = (value: bigint, width: number, r: Range): boolean =>
  value >> BigInt(width - r.bits) === r.base >> BigInt(width - r.bits);

// Order matters: the first match names the reason, so the specific ranges (metadata, broadcast)
// come before the wide ones that contain them (link-local, reserved).
const IPV4_FORBIDDEN: readonly Range[] = [
  range4('169.254.169.254/32', 'de metadados de nuvem'),
  range4('255.255.255.255/32', 'de broadcast'),
  range4('0.0.0.0/8', 'não especificado'),
  range4('127.0.0.0/8', 'de loopback'),
  range4('10.0.0.0/8', 'privado'),
  range4('172.16.0.0/12', 'privado'),
  range4('192.168.0.0/16', 'privado'),
  range4('169.254.0.0/16', 'link-local'),
  // Also holds Alibaba Cloud's metadata address 100.100.100.200.
  range4('100.64.0.0/10', 'CGNAT'),
  // IETF protocol assignments and benchmarking networks: never a real ERP, sometimes internal.
  range4('192.0.0.0/24', 'reservado'),
  range4('198.18.0.0/15', 'reservado'),
  range4('224.0.0.0/4', 'multicast'),
  range4('240.0.0.0/4', 'reservado'),
];

const IPV6_FORBIDDEN: readonly Range[] = [
  range6('fd00:ec2::254/128', 'de metadados de nuvem'),
  range6('::/128', 'não especificado'),
  range6('::1/128', 'de loopback'),
  range6('fe80::/10', 'link-local'),
  // Deprecated site-local: still routed inside some networks.
  range6('fec0::/10', 'privado'),
  range6('fc00::/7', 'local único (IPv6)'),
  range6('ff00::/8', 'multicast'),
  range6('100::/64', 'reservado'),
];

/** IPv6 ranges that carry an IPv4 address in their low bits: the embedded address decides. */
const IPV6_EMBEDDING_V4: readonly { range: Range; extract: (value: bigint) => bigint }[] = [
  { range: range6('::ffff:0:0/96', ''), extract: (v) => v & 0xffffffffn }, // IPv4-mapped
  { range: range6('::/96', ''), extract: (v) => v & 0xffffffffn }, // IPv4-compatible (deprecated)
  { range: range6('64:ff9b::/96', ''), extract: (v) => v & 0xffffffffn }, // NAT64
  { range: range6('2002::/16', ''), extract: (v) => (v >> 80n) & 0xffffffffn }, // 6to4
];

const describeV4 = (value: bigint): string | null =>
  IPV4_FORBIDDEN.find((r) => inRange(value, 32, r))?.label ?? null;

/**
 * Why an IP address must not receive callbacks (a Portuguese label such as `privado` or
 * `de loopback`), or null when it is a public address. Anything that is not a valid IP is refused.
 */
export const forbiddenAddressKind = (ip: string): string | null => {
  const text = ip.trim().replace(/^\[(.*)\]$/, '$1');
  const family = isIP(text);
  if (family === 4) return describeV4(v4(text));
  if (family !== 6) return 'inválido';
  const value = v6(text.replace(/%.*$/, ''));
  // Exact addresses first: `::/96` (IPv4-compatible, below) would otherwise read `::1` as 0.0.0.1.
  const direct = IPV6_FORBIDDEN.find((r) => inRange(value, 128, r) && r.bits === 128)?.label;
  if (direct) return direct;
  for (const { range, extract } of IPV6_EMBEDDING_V4) {
    if (inRange(value, 128, range)) return describeV4(extract(value));
  }
  return IPV6_FORBIDDEN.find((r) => inRange(value, 128, r))?.label ?? null;
};

/** True when a callback must not be delivered to this IP address (v4 or v6, brackets allowed). */
export const isForbiddenAddress = (ip: string): boolean => forbiddenAddressKind(ip) !== null;

/**
 * What insecure callbacks (local development) open up: this machine and its private network.
 * Never link-local (cloud metadata lives there: 169.254.169.254, fd00:ec2::254), CGNAT (Alibaba's
 * metadata), multicast, broadcast or reserved ranges.
 */
const INSECURE_ALLOWED_KINDS: ReadonlySet<string> = new Set(['de loopback', 'privado', 'local único (IPv6)']);

/** `forbiddenAddressKind`, with what insecure callbacks open up allowed when `allowInsecure`. */
export const forbiddenAddressKindFor = (ip: string, allowInsecure: boolean): string | null => {
  const kind = forbiddenAddressKind(ip);
  return kind !== null && allowInsecure && INSECURE_ALLOWED_KINDS.has(kind) ? null : kind;
};

/** Names of cloud metadata services, refused even with insecure callbacks. */
const METADATA_NAMES: ReadonlySet<string> = new Set([
  'metadata.google.internal',
  'metadata',
  'instance-data',
  'instance-data.ec2.internal',
]);

/** The `host:port` a URL connects to (default ports made explicit, IPv6 without brackets). */
export const endpointOf = (url: URL): string =>
  `${url.hostname.replace(/^\[(.*)\]$/, '$1').replace(/\.+$/, '')}:${url.port || (url.protocol === 'http:' ? '80' : '443')}`;

/** Options of the callback URL check. */
export interface CallbackUrlOptions {
  /** Insecure callbacks (local development): http, loopback, private addresses and names. */
  allowInsecure: boolean;
  /**
   * `host:port` endpoints refused whatever the flag: the Lambda runtime API
   * (`AWS_LAMBDA_RUNTIME_API`, a loopback address), which a callback must never reach.
   */
  forbiddenEndpoints?: readonly string[];
}

/**
 * Host names that always mean "this machine" or "this cloud's internal network"
 * (`metadata.google.internal` falls under `.internal`; `.local` is mDNS on the LAN).
 */
const isForbiddenName = (host: string): boolean =>
  host === 'localhost' ||
  host === 'localhost.localdomain' ||
  /\.(localhost|internal|local)$/.test(host) ||
  host === 'internal' ||
  host === 'local';

const refuse = (reason: string): Result<never> => fail('INVALID_CALLBACK_URL', { reason });

/**
 * Checks a callback URL without any network access: parses, https only (http with
 * `allowInsecure`), no user or password, and no loopback, private, link-local, CGNAT, metadata or
 * other internal address or name as host. `allowInsecure` (local development) opens http, loopback,
 * private addresses and internal names only: link-local and metadata addresses and names, and the
 * `forbiddenEndpoints` (the Lambda runtime API), stay refused.
 */
export const checkCallbackUrl = (url: string, options: CallbackUrlOptions): Result<URL> => {
  if (url.length > MAX_URL_LENGTH) return refuse(`URL maior que ${MAX_URL_LENGTH} caracteres`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return refuse('URL inválida');
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return refuse('use uma URL https');
  if (parsed.protocol === 'http:' && !options.allowInsecure) return refuse('use https (http não é aceito)');
  // Credentials in the URL would be stored and logged with it; the signature authenticates us.
  if (parsed.username || parsed.password) return refuse('a URL não pode conter usuário ou senha');

  // A trailing dot is the same host to DNS ("localhost." is localhost).
  const host = parsed.hostname.replace(/\.+$/, '');
  if (host === '') return refuse('URL sem host');
  if (options.forbiddenEndpoints?.includes(endpointOf(parsed))) {
    return refuse(`endereço interno do runtime não é permitido (${endpointOf(parsed)})`);
  }
  const literal = host.replace(/^\[(.*)\]$/, '$1');
  if (isIP(literal)) {
    const kind = forbiddenAddressKindFor(literal, options.allowInsecure);
    if (kind) return refuse(`endereço ${kind} não é permitido (${literal})`);
    return ok(parsed);
  }
  if (!options.allowInsecure && isForbiddenName(host))
    return refuse(`host interno não é permitido (${host})`);
  if (METADATA_NAMES.has(host)) return refuse(`host de metadados não é permitido (${host})`);
  return ok(parsed);
};
