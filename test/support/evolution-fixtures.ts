import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One recorded Evolution webhook (test/fixtures/evolution/README.md). */
export interface EvolutionFixture {
  file: string;
  version: string;
  note: string;
  /** The by-events suffix, or null. */
  path: string | null;
  headers: Record<string, string>;
  body: unknown;
}

/** What the placeholders of a fixture stand for in one test. */
export interface FixtureValues {
  instance: string;
  /** The message our stack sent (its key.id and the JID Evolution resolved). */
  keyId: string;
  remoteJid: string;
  /** The contact's phone JID (`5511...@s.whatsapp.net`). */
  phoneJid: string;
  now: Date;
}

const DIR = join(import.meta.dirname, '..', 'fixtures', 'evolution');

export const loadEvolutionFixture = (file: string): EvolutionFixture => ({
  file,
  ...(JSON.parse(readFileSync(join(DIR, file), 'utf8')) as Omit<EvolutionFixture, 'file'>),
});

export const evolutionFixtureFiles = (): string[] =>
  readdirSync(DIR)
    .filter((f) => f.endsWith('.json'))
    .sort();

/** Evolution's `date_time`: the wall-clock time of a zone `offsetMinutes` east of UTC, written with a Z. */
export const wallClock = (now: Date, offsetMinutes: number): string =>
  new Date(now.getTime() + offsetMinutes * 60_000).toISOString();

const PLACEHOLDER = /\{\{(\w+)(?::(-?\d+))?\}\}/g;

/**
 * The fixture with its placeholders filled in. `{{newId}}` is one fresh id per fixture (every use
 * of it in one fixture is the same message); `{{lid}}` one fake LID per phone.
 */
export const fillFixture = (fixture: EvolutionFixture, values: FixtureValues): EvolutionFixture => {
  const newId = `3A${randomBytes(9).toString('hex').toUpperCase()}`;
  const digits = values.phoneJid.replace(/\D/g, '');
  const lid = `${(BigInt(digits) * 7919n) % 10n ** 15n}`.padStart(15, '1');
  const one = (name: string, arg: number): string | number => {
    const now = values.now.getTime();
    switch (name) {
      case 'instance':
        return values.instance;
      case 'keyId':
        return values.keyId;
      case 'remoteJid':
        return values.remoteJid;
      case 'phoneJid':
        return values.phoneJid;
      case 'lid':
        return `${lid}@lid`;
      case 'newId':
        return newId;
      case 'wallClock':
        return wallClock(values.now, arg);
      case 'epochMs':
        return now + arg;
      case 'epochS':
        return Math.floor((now + arg * 1000) / 1000);
      default:
        throw new Error(`${fixture.file}: unknown placeholder ${name}`);
    }
  };
  const fill = (value: unknown): unknown => {
    if (typeof value === 'string') {
      const whole = /^\{\{(\w+)(?::(-?\d+))?\}\}$/.exec(value);
      if (whole) return one(whole[1] as string, Number(whole[2] ?? 0));
      return value.replace(PLACEHOLDER, (_m, name: string, arg?: string) =>
        String(one(name, Number(arg ?? 0))),
      );
    }
    if (Array.isArray(value)) return value.map(fill);
    if (value !== null && typeof value === 'object')
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v)]));
    return value;
  };
  return {
    ...fixture,
    headers: Object.fromEntries(Object.entries(fixture.headers).map(([k, v]) => [k, String(fill(v))])),
    body: fill(fixture.body),
  };
};
