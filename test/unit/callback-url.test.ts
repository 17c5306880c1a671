import { describe, expect, it } from 'vitest';
import { checkCallbackUrl, forbiddenAddressKind, isForbiddenAddress } from '../../lib/domain/callback-url.ts';

const SECURE = { allowInsecure: false };
const INSECURE = { allowInsecure: true };

const reasonOf = (url: string, options = SECURE): string => {
  const result = checkCallbackUrl(url, options);
  if (result.ok) throw new Error(`expected ${url} to be refused`);
  expect(result.error.code).toBe('INVALID_CALLBACK_URL');
  expect(result.error.status).toBe(400);
  return String(result.error.params.reason);
};

describe('checkCallbackUrl', () => {
  it.each([
    'https://erp.example.com/callbacks',
    'https://erp.example.com:8443/cb?tenant=1',
    'https://200.160.2.3/cb',
    'https://[2001:4860:4860::8888]/cb',
    'https://172.32.0.1/cb',
    'https://erp.example.com./cb',
  ])('accepts %s', (url) => {
    // Act
    const result = checkCallbackUrl(url, SECURE);

    // Assess
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.value).toBeInstanceOf(URL);
  });

  it.each([
    ['not a url', /URL inválida/],
    ['erp.example.com/cb', /URL inválida/],
    ['ftp://erp.example.com/cb', /https/],
    ['javascript:alert(1)', /https/],
    ['http://erp.example.com/cb', /https/],
    ['https://user:pass@erp.example.com/cb', /usuário ou senha/],
    ['https://user@erp.example.com/cb', /usuário ou senha/],
    [`https://erp.example.com/${'a'.repeat(2100)}`, /2048/],
  ])('refuses %s', (url, reason) => {
    // Act / Assess
    expect(reasonOf(url)).toMatch(reason);
  });

  it.each([
    ['https://127.0.0.1/cb', 'loopback'],
    ['https://127.8.9.10/cb', 'loopback'],
    ['https://2130706433/cb', 'loopback'],
    ['https://0x7f.1/cb', 'loopback'],
    ['https://0177.0.0.1/cb', 'loopback'],
    ['https://127.1/cb', 'loopback'],
    ['https://[::1]/cb', 'loopback'],
    ['https://[::ffff:127.0.0.1]/cb', 'loopback'],
    ['https://[::ffff:10.0.0.1]/cb', 'privado'],
    ['https://10.0.0.5/cb', 'privado'],
    ['https://172.16.0.1/cb', 'privado'],
    ['https://172.31.255.255/cb', 'privado'],
    ['https://192.168.1.1/cb', 'privado'],
    ['https://169.254.10.1/cb', 'link-local'],
    ['https://[fe80::1]/cb', 'link-local'],
    ['https://100.64.0.1/cb', 'CGNAT'],
    ['https://100.127.255.255/cb', 'CGNAT'],
    ['https://[fd00::1]/cb', 'local único'],
    ['https://[fc00::1]/cb', 'local único'],
    ['https://0.0.0.0/cb', 'não especificado'],
    ['https://0/cb', 'não especificado'],
    ['https://[::]/cb', 'não especificado'],
    ['https://224.0.0.1/cb', 'multicast'],
    ['https://[ff02::1]/cb', 'multicast'],
    ['https://255.255.255.255/cb', 'broadcast'],
    ['https://169.254.169.254/latest/meta-data/', 'metadados'],
    ['https://[fd00:ec2::254]/latest/meta-data/', 'metadados'],
    ['https://[64:ff9b::a00:1]/cb', 'privado'],
  ])('refuses the address in %s (%s)', (url, kind) => {
    // Act / Assess
    expect(reasonOf(url)).toContain(kind);
  });

  it.each([
    'https://localhost/cb',
    'https://LOCALHOST:8443/cb',
    'https://localhost./cb',
    'https://api.localhost/cb',
    'https://db.internal/cb',
    'https://metadata.google.internal/computeMetadata/v1/',
    'https://printer.local/cb',
  ])('refuses the internal name in %s', (url) => {
    // Act / Assess
    expect(reasonOf(url)).toMatch(/host interno/);
  });

  it('lets http, loopback, private and internal names through with allowInsecure', () => {
    // Act
    const results = [
      'http://127.0.0.1:4000/cb',
      'http://localhost:4000/cb',
      'http://10.0.0.5/cb',
      'http://[::1]:4000/cb',
      'http://erp.internal/cb',
    ].map((url) => checkCallbackUrl(url, INSECURE));

    // Assess
    expect(results.map((r) => r.ok)).toEqual([true, true, true, true, true]);
  });

  describe('with insecure callbacks on (development only)', () => {
    const RUNTIME_API = '127.0.0.1:9001';
    const FLAG_ON = { allowInsecure: true, forbiddenEndpoints: [RUNTIME_API] };

    it.each([
      ['http://127.0.0.1:4000/cb', null],
      ['http://localhost:4000/cb', null],
      ['http://[::1]:4000/cb', null],
      ['http://10.0.0.5/cb', null],
      ['http://192.168.1.20:8080/cb', null],
      ['http://erp.internal/cb', null],
      ['http://169.254.169.254/latest/meta-data/', /metadados/],
      ['http://[fd00:ec2::254]/latest/meta-data/', /metadados/],
      ['http://[::ffff:169.254.169.254]/latest/meta-data/', /metadados/],
      ['http://169.254.10.1/cb', /link-local/],
      ['http://[fe80::1]/cb', /link-local/],
      ['http://100.100.100.200/latest/meta-data/', /CGNAT/],
      ['http://metadata.google.internal/computeMetadata/v1/', /metadados/],
      ['http://metadata/computeMetadata/v1/', /metadados/],
      ['http://127.0.0.1:9001/2018-06-01/runtime/invocation/next', /runtime/],
      ['http://0.0.0.0:4000/cb', /não especificado/],
      ['http://224.0.0.1/cb', /multicast/],
    ])('%s: %s', (url, refused) => {
      // Act
      const result = checkCallbackUrl(url, FLAG_ON);
      // Assess
      if (refused === null) expect(result.ok).toBe(true);
      else expect(reasonOf(url, FLAG_ON)).toMatch(refused);
    });
  });

  it('still refuses credentials and other schemes with allowInsecure', () => {
    // Act / Assess
    expect(reasonOf('http://user:pw@127.0.0.1/cb', INSECURE)).toMatch(/usuário ou senha/);
    expect(reasonOf('file:///etc/passwd', INSECURE)).toMatch(/https/);
  });

  it('builds the Portuguese message from the error table', () => {
    // Act
    const result = checkCallbackUrl('https://10.0.0.5/cb', SECURE);

    // Assess
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.error.message).toBe(
        'callback_url não permitida: endereço privado não é permitido (10.0.0.5)',
      );
  });
});

describe('isForbiddenAddress', () => {
  it.each([
    ['127.0.0.1', true],
    ['10.1.2.3', true],
    ['172.16.5.4', true],
    ['192.168.0.10', true],
    ['100.64.0.1', true],
    ['169.254.169.254', true],
    ['0.0.0.0', true],
    ['239.255.255.250', true],
    ['198.18.0.1', true],
    ['::1', true],
    ['::', true],
    ['fe80::1%eth0', true],
    ['fd12:3456::1', true],
    ['::ffff:192.168.1.1', true],
    ['::ffff:c0a8:101', true],
    ['2002:c0a8:101::1', true],
    ['[::1]', true],
    ['not-an-ip', true],
    ['', true],
    ['200.160.2.3', false],
    ['8.8.8.8', false],
    ['172.15.255.255', false],
    ['100.128.0.1', false],
    ['169.255.0.1', false],
    ['2001:4860:4860::8888', false],
    ['::ffff:8.8.8.8', false],
    ['2002:808:808::1', false],
  ])('%s -> %s', (ip, forbidden) => {
    // Act / Assess
    expect(isForbiddenAddress(ip)).toBe(forbidden);
  });

  it('names the kind of forbidden address, or null for a public one', () => {
    // Act / Assess
    expect(forbiddenAddressKind('169.254.169.254')).toBe('de metadados de nuvem');
    expect(forbiddenAddressKind('169.254.1.1')).toBe('link-local');
    expect(forbiddenAddressKind('8.8.4.4')).toBeNull();
  });
});
