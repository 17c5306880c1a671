import type { LookupAddress } from 'node:dns';
import { Agent, createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDnsCallbackUrlGuard,
  FORBIDDEN_ADDRESS_ERROR_CODE,
  type LookupAll,
  pinnedLookup,
} from '../../lib/adapters/network/dns-callback-url-guard.ts';

const SECURE = { allowInsecure: false };
const INSECURE = { allowInsecure: true };

const addr = (address: string): LookupAddress => ({ address, family: address.includes(':') ? 6 : 4 });

/** A resolver that answers from a table and records every name it was asked for. */
const fakeDns = (table: Record<string, string[]>) => {
  const asked: string[] = [];
  const lookup: LookupAll = async (hostname) => {
    asked.push(hostname);
    const answer = table[hostname];
    if (!answer) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return answer.map(addr);
  };
  return { lookup, asked };
};

const DNS = {
  'evil.example': ['10.1.2.3'],
  'erp.example.com': ['200.160.2.3'],
  'dual.example.com': ['200.160.2.3', '2001:12ff::10'],
  'mixed.example': ['200.160.2.3', '10.1.2.3'],
  'v6-internal.example': ['2001:12ff::10', 'fd00::7'],
  'metadata.example': ['169.254.169.254'],
};

describe('createDnsCallbackUrlGuard', () => {
  it.each([
    ['https://127.0.0.1/cb', /loopback/],
    ['https://localhost/cb', /host interno/],
    ['https://10.0.0.5/cb', /privado/],
    ['https://172.16.0.1/cb', /privado/],
    ['https://192.168.1.1/cb', /privado/],
    ['https://100.64.0.1/cb', /CGNAT/],
    ['https://169.254.169.254/latest/meta-data/', /metadados/],
    ['https://[::1]/cb', /loopback/],
    ['https://[fd00::1]/cb', /local único/],
    ['https://evil.example/cb', /evil\.example aponta para um endereço privado/],
    ['https://mixed.example/cb', /privado/],
    ['https://v6-internal.example/cb', /local único/],
    ['https://metadata.example/cb', /metadados/],
  ])('refuses %s (SSRF matrix)', async (url, reason) => {
    // Prepare
    const guard = createDnsCallbackUrlGuard({ lookup: fakeDns(DNS).lookup });

    // Act
    const result = await guard.check(url, SECURE);

    // Assess
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe('INVALID_CALLBACK_URL');
      expect(result.error.message).toMatch(reason);
    }
  });

  it('does not reveal the internal address a name resolves to', async () => {
    // Prepare
    const guard = createDnsCallbackUrlGuard({ lookup: fakeDns(DNS).lookup });

    // Act
    const result = await guard.check('https://evil.example/cb', SECURE);

    // Assess
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.message).not.toContain('10.1.2.3');
  });

  it('accepts a name whose every address is public', async () => {
    // Prepare
    const dns = fakeDns(DNS);
    const guard = createDnsCallbackUrlGuard({ lookup: dns.lookup });

    // Act
    const single = await guard.check('https://erp.example.com/callbacks', SECURE);
    const dual = await guard.check('https://dual.example.com:8443/cb', SECURE);

    // Assess
    expect(single.ok && single.value.href).toBe('https://erp.example.com/callbacks');
    expect(dual.ok).toBe(true);
    expect(dns.asked).toEqual(['erp.example.com', 'dual.example.com']);
  });

  it('does not resolve IP literals or URLs the syntax check refused', async () => {
    // Prepare
    const dns = fakeDns(DNS);
    const guard = createDnsCallbackUrlGuard({ lookup: dns.lookup });

    // Act
    const literal = await guard.check('https://200.160.2.3/cb', SECURE);
    const plainHttp = await guard.check('http://erp.example.com/cb', SECURE);

    // Assess
    expect(literal.ok).toBe(true);
    expect(plainHttp.ok).toBe(false);
    expect(dns.asked).toEqual([]);
  });

  it('lets http://127.0.0.1:4000/cb and private names through with allowInsecure', async () => {
    // Prepare
    const guard = createDnsCallbackUrlGuard({ lookup: fakeDns(DNS).lookup });

    // Act
    const literal = await guard.check('http://127.0.0.1:4000/cb', INSECURE);
    const name = await guard.check('http://evil.example:4000/cb', INSECURE);

    // Assess
    expect(literal.ok && literal.value.port).toBe('4000');
    expect(name.ok).toBe(true);
  });

  it('refuses with allowInsecure a name that points to a metadata or link-local address, or to the Lambda runtime API', async () => {
    // Prepare
    const guard = createDnsCallbackUrlGuard({
      lookup: fakeDns({
        'meta.example': ['169.254.169.254'],
        'meta6.example': ['fd00:ec2::254'],
        'linklocal.example': ['169.254.3.4'],
        'dev.example': ['127.0.0.1'],
      }).lookup,
      forbiddenEndpoints: ['127.0.0.1:9001'],
    });

    // Act
    const outcomes = await Promise.all(
      [
        'http://meta.example/latest/meta-data/',
        'http://meta6.example/latest/meta-data/',
        'http://linklocal.example/cb',
        'http://dev.example:9001/2018-06-01/runtime/invocation/next',
        'http://dev.example:4000/cb',
      ].map(async (url) => {
        const result = await guard.check(url, INSECURE);
        return result.ok ? 'ok' : result.error.message;
      }),
    );

    // Assess
    expect(outcomes[0]).toMatch(/metadados/);
    expect(outcomes[1]).toMatch(/metadados/);
    expect(outcomes[2]).toMatch(/link-local/);
    expect(outcomes[3]).toMatch(/runtime/);
    expect(outcomes[4]).toBe('ok');
  });

  it('refuses an unresolvable host, telling a missing name from a resolver failure', async () => {
    // Prepare
    const missing = createDnsCallbackUrlGuard({ lookup: fakeDns(DNS).lookup });
    const broken = createDnsCallbackUrlGuard({
      lookup: async () => {
        throw Object.assign(new Error('getaddrinfo EAI_AGAIN'), { code: 'EAI_AGAIN' });
      },
    });

    // Act
    const notFound = await missing.check('https://nowhere.example/cb', SECURE);
    const temporary = await broken.check('https://erp.example.com/cb', SECURE);
    const insecureNotFound = await missing.check('http://nowhere.example/cb', INSECURE);

    // Assess
    expect(!notFound.ok && notFound.error.message).toMatch(/host não encontrado no DNS \(nowhere\.example\)/);
    expect(!temporary.ok && temporary.error.message).toMatch(/tente novamente/);
    expect(!temporary.ok && temporary.error.code).toBe('INVALID_CALLBACK_URL');
    expect(insecureNotFound.ok).toBe(false);
  });

  it('gives up on a resolver that never answers after timeoutMs', async () => {
    // Prepare
    const guard = createDnsCallbackUrlGuard({ lookup: () => new Promise(() => {}), timeoutMs: 20 });

    // Act
    const result = await guard.check('https://erp.example.com/cb', SECURE);

    // Assess
    expect(!result.ok && result.error.message).toMatch(/tente novamente/);
  });

  it('uses the system resolver by default', async () => {
    // Prepare: "localhost" comes from the hosts file, so this needs no network.
    const guard = createDnsCallbackUrlGuard();

    // Act
    const result = await guard.check('http://localhost:4000/cb', INSECURE);

    // Assess
    expect(result.ok).toBe(true);
  });
});

describe('pinnedLookup', () => {
  let server: Server;
  let port: number;
  let requests = 0;

  beforeAll(async () => {
    server = createServer((_req, res) => {
      requests += 1;
      res.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  /** GET through an agent whose sockets resolve names with `lookup`; the status or the error code. */
  const fetchThrough = (lookup: ReturnType<typeof pinnedLookup>, host: string): Promise<number | string> =>
    new Promise((resolve) => {
      const agent = new Agent({ lookup });
      get({ host, port, path: '/cb', agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      }).on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    });

  it('refuses to connect when the name resolves only to a forbidden address', async () => {
    // Prepare
    const before = requests;
    const lookup = pinnedLookup({
      lookup: fakeDns({ 'evil.example': ['127.0.0.1'] }).lookup,
      allowInsecure: false,
    });

    // Act
    const outcome = await fetchThrough(lookup, 'evil.example');

    // Assess
    expect(outcome).toBe(FORBIDDEN_ADDRESS_ERROR_CODE);
    expect(requests).toBe(before);
  });

  it('never connects to a metadata address, even with allowInsecure', async () => {
    // Prepare
    const lookup = pinnedLookup({
      lookup: fakeDns({ 'meta.example': ['169.254.169.254'] }).lookup,
      allowInsecure: true,
    });

    // Act
    const outcome = await new Promise<string>((resolve) =>
      lookup('meta.example', {}, (error) =>
        resolve((error as NodeJS.ErrnoException | null)?.code ?? 'connected'),
      ),
    );

    // Assess
    expect(outcome).toBe(FORBIDDEN_ADDRESS_ERROR_CODE);
  });

  it('connects to the resolved address with allowInsecure', async () => {
    // Prepare
    const before = requests;
    const lookup = pinnedLookup({
      lookup: fakeDns({ 'evil.example': ['127.0.0.1'] }).lookup,
      allowInsecure: true,
    });

    // Act
    const outcome = await fetchThrough(lookup, 'evil.example');

    // Assess
    expect(outcome).toBe(200);
    expect(requests).toBe(before + 1);
  });

  it('defeats DNS rebinding: a name public at check time is refused when it turns private', async () => {
    // Prepare: the attacker's DNS answers a public address first, loopback afterwards.
    const answers = [['200.160.2.3'], ['127.0.0.1']];
    const rebinding: LookupAll = async () => (answers.shift() ?? ['127.0.0.1']).map(addr);
    const guard = createDnsCallbackUrlGuard({ lookup: rebinding });
    const before = requests;

    // Act
    const registered = await guard.check(`https://rebind.example:${port}/cb`, SECURE);
    const outcome = await fetchThrough(
      pinnedLookup({ lookup: rebinding, allowInsecure: false }),
      'rebind.example',
    );

    // Assess
    expect(registered.ok).toBe(true);
    expect(outcome).toBe(FORBIDDEN_ADDRESS_ERROR_CODE);
    expect(requests).toBe(before);
  });

  it('hands the socket only the permitted addresses, honouring family and all', async () => {
    // Prepare
    const lookup = pinnedLookup({
      lookup: fakeDns({ 'mixed.example': ['10.1.2.3', '200.160.2.3', '2001:12ff::10', 'fd00::7'] }).lookup,
      allowInsecure: false,
    });
    const call = (options: Parameters<typeof lookup>[1]) =>
      new Promise<[string | LookupAddress[], number | undefined]>((resolve, reject) =>
        lookup('mixed.example', options, (err, address, family) =>
          err ? reject(err) : resolve([address, family]),
        ),
      );

    // Act
    const all = await call({ all: true });
    const one = await call({});
    const v6 = await call({ family: 6 });

    // Assess
    expect(all[0]).toEqual([addr('200.160.2.3'), addr('2001:12ff::10')]);
    expect(one).toEqual(['200.160.2.3', 4]);
    expect(v6).toEqual(['2001:12ff::10', 6]);
  });

  it('passes resolver errors through to the socket', async () => {
    // Prepare
    const lookup = pinnedLookup({ lookup: fakeDns({}).lookup, allowInsecure: false });

    // Act
    const outcome = await fetchThrough(lookup, 'nowhere.example');

    // Assess
    expect(outcome).toBe('ENOTFOUND');
  });
});
