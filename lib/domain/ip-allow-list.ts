import { BlockList, isIP } from 'node:net';
import { DomainError } from './errors.ts';

/** Normalises an IPv4-mapped IPv6 address (`::ffff:1.2.3.4`) to its IPv4 form. */
const unmap = (ip: string): string => ip.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1');

/** Validates a list of IPs and CIDRs (v4 and v6); throws INVALID_CONFIG naming the bad entries. */
export const parseIpAllowList = (entries: readonly string[]): string[] => {
  const cleaned = entries.map((e) => e.trim()).filter(Boolean);
  const bad = cleaned.filter((entry) => {
    const [address = '', prefix, ...rest] = entry.split('/');
    const family = isIP(address);
    if (!family || rest.length) return true;
    if (prefix === undefined) return false;
    const bits = Number(prefix);
    return !/^\d+$/.test(prefix) || bits > (family === 4 ? 32 : 128);
  });
  if (bad.length)
    throw new DomainError('INVALID_CONFIG', { reason: `IP ou CIDR inválido: ${bad.join(', ')}` });
  return cleaned;
};

/** True when the list is empty (no restriction) or `ip` is one of its addresses or ranges. */
export const isIpAllowed = (allowList: readonly string[], ip: string): boolean => {
  if (allowList.length === 0) return true;
  const address = unmap(ip);
  const family = isIP(address);
  if (!family) return false;
  const list = new BlockList();
  for (const entry of allowList) {
    const [base = '', prefix] = entry.split('/');
    const type = isIP(base) === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(base, type);
    else list.addSubnet(base, Number(prefix), type);
  }
  return list.check(address, family === 6 ? 'ipv6' : 'ipv4');
};
