import { promises as dnsPromises, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { checkCallbackUrl, endpointOf, forbiddenAddressKindFor } from '../../domain/callback-url.ts';
import { fail, type Result } from '../../domain/errors.ts';
import type { CallbackUrlGuard } from '../../ports/callback-url-guard.ts';

/**
 * SSRF protection for ERP callback URLs, second half: the syntax rules of `checkCallbackUrl`, then
 * the host's DNS answer. A name is refused when ANY of its addresses is forbidden, since the HTTP
 * client may pick any of them.
 *
 * Checking at registration is not enough on its own: DNS can answer differently at delivery time
 * (DNS rebinding: public address when checked, 127.0.0.1 when connected). So the deliverer must:
 * 1. run `check` again right before each delivery (it also re-validates IP literals, which
 *    Node connects to without any lookup);
 * 2. connect through `pinnedLookup` (e.g. `new https.Agent({ lookup: pinnedLookup(...) })`), so
 *    the socket goes only to an address that passed the same rule in the same resolution;
 * 3. not follow redirects (a 3xx could point anywhere; treat it as a failed delivery).
 */

/** The one lookup call shape we need from `dns.promises.lookup` (injectable for tests). */
export type LookupAll = (hostname: string, options: { all: true }) => Promise<LookupAddress[]>;

export interface DnsGuardOptions {
  lookup?: LookupAll;
  /** `host:port` endpoints refused whatever the flag (the Lambda runtime API; see checkCallbackUrl). */
  forbiddenEndpoints?: readonly string[];
  /** getaddrinfo can hang for many seconds on a broken resolver; a request must not. */
  timeoutMs?: number;
}

/** `err.code` of the error `pinnedLookup` reports when every address of a host is forbidden. */
export const FORBIDDEN_ADDRESS_ERROR_CODE = 'ERR_CALLBACK_ADDRESS_FORBIDDEN';

const DEFAULT_TIMEOUT_MS = 5_000;

const defaultLookup: LookupAll = (hostname, options) => dnsPromises.lookup(hostname, options);

const withCode = (message: string, code: string): NodeJS.ErrnoException =>
  Object.assign(new Error(message), { code });

const resolveAll = async (lookup: LookupAll, host: string, timeoutMs: number): Promise<LookupAddress[]> => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(withCode(`DNS lookup of ${host} timed out`, 'ETIMEOUT')), timeoutMs);
  });
  try {
    return await Promise.race([lookup(host, { all: true }), timeout]);
  } finally {
    clearTimeout(timer);
  }
};

/** The host as DNS sees it: no IPv6 brackets, no trailing dot. */
const bareHost = (url: URL): string => url.hostname.replace(/^\[(.*)\]$/, '$1').replace(/\.+$/, '');

// Codes getaddrinfo uses for "this name has no address"; anything else may pass on a retry.
const NOT_FOUND_CODES = new Set(['ENOTFOUND', 'ENODATA', 'EAI_NONAME', 'EAI_NODATA']);

const refuse = (reason: string): Result<never> => fail('INVALID_CALLBACK_URL', { reason });

/** A guard that checks a callback URL's syntax and every address its host resolves to. */
export const createDnsCallbackUrlGuard = ({
  lookup = defaultLookup,
  timeoutMs = DEFAULT_TIMEOUT_MS,
  forbiddenEndpoints = [],
}: DnsGuardOptions = {}): CallbackUrlGuard => ({
  async check(url, options) {
    const syntax = checkCallbackUrl(url, { ...options, forbiddenEndpoints });
    if (!syntax.ok) return syntax;
    const host = bareHost(syntax.value);
    // IP literals were fully judged by the syntax check; Node connects to them without DNS.
    if (isIP(host)) return syntax;

    let addresses: LookupAddress[];
    try {
      addresses = await resolveAll(lookup, host, timeoutMs);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? '';
      return NOT_FOUND_CODES.has(code)
        ? refuse(`host não encontrado no DNS (${host})`)
        : refuse(`não foi possível resolver o host agora (${host}); tente novamente`);
    }
    if (addresses.length === 0) return refuse(`host não encontrado no DNS (${host})`);

    // The reason names the kind, not the address: internal addresses are not the caller's business.
    const bad = addresses
      .map((a) => forbiddenAddressKindFor(a.address, options.allowInsecure))
      .find((kind) => kind !== null);
    if (bad) return refuse(`o host ${host} aponta para um endereço ${bad}`);
    const port = endpointOf(syntax.value).split(':').at(-1);
    if (addresses.some((a) => forbiddenEndpoints.includes(`${a.address}:${port}`))) {
      return refuse(`o host ${host} aponta para um endereço interno do runtime`);
    }
    return syntax;
  },
});

const familyOf = (family: LookupOptions['family']): 0 | 4 | 6 =>
  family === 4 || family === 'IPv4' ? 4 : family === 6 || family === 'IPv6' ? 6 : 0;

/**
 * A `lookup` for `net`/`http`/`https` sockets (and undici's `connect.lookup`) that resolves the
 * host and hands the socket only addresses that pass `forbiddenAddressKindFor` (with
 * `allowInsecure`: loopback and private too, never link-local or metadata). Resolution and filtering happen in the same call as the connect, which is
 * what defeats DNS rebinding. Errors with code `FORBIDDEN_ADDRESS_ERROR_CODE` when none is left:
 * the deliverer should treat that as a permanent failure of the callback.
 */
export const pinnedLookup = ({
  lookup = defaultLookup,
  allowInsecure,
  timeoutMs = DEFAULT_TIMEOUT_MS,
}: DnsGuardOptions & { allowInsecure: boolean }): LookupFunction => {
  return (hostname, options, callback) => {
    resolveAll(lookup, hostname, timeoutMs).then(
      (addresses) => {
        const family = familyOf(options.family);
        const usable = addresses.filter(
          (a) =>
            forbiddenAddressKindFor(a.address, allowInsecure) === null &&
            (family === 0 || a.family === family),
        );
        const [first] = usable;
        if (!first) {
          callback(
            withCode(`callback host ${hostname} has no permitted address`, FORBIDDEN_ADDRESS_ERROR_CODE),
            '',
          );
          return;
        }
        if (options.all) callback(null, usable);
        else callback(null, first.address, first.family);
      },
      (error: NodeJS.ErrnoException) => callback(error, ''),
    );
  };
};
