import { readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { HttpRoute } from '../../lib/http/route.ts';
import { DEPLOYED_ROUTES, ROUTES } from '../../lib/http/routes/index.ts';

/**
 * The Lambda entry points are written, not generated: functions/<name>.ts wraps the route module
 * lib/http/routes/<name>.ts. This holds them and the route list to each other, both ways; a
 * local-only route (the dashboard, a static site on AWS) has none.
 */

const FUNCTIONS_DIR = join(import.meta.dirname, '../../functions');

/** Every entry point of functions/, by name, with the route its handler serves (none for SQS, crons...). */
const entryPoints = async (): Promise<Map<string, HttpRoute<unknown> | undefined>> => {
  const files = (await readdir(FUNCTIONS_DIR)).filter((f) => f.endsWith('.ts'));
  const entries = await Promise.all(
    files.map(async (file) => {
      // Importing builds nothing: every entry point builds its container on the first invocation.
      const mod = (await import(join(FUNCTIONS_DIR, file))) as { handler: { route?: HttpRoute<unknown> } };
      return [basename(file, '.ts'), mod.handler.route] as const;
    }),
  );
  return new Map(entries);
};

describe('route entry points', () => {
  it('gives every deployed route of the list an entry point functions/<name>.ts that serves that route', async () => {
    // Act
    const entries = await entryPoints();

    // Assess
    for (const route of DEPLOYED_ROUTES) {
      expect(entries.has(route.name), `functions/${route.name}.ts`).toBe(true);
      expect(
        entries.get(route.name),
        `functions/${route.name}.ts serves lib/http/routes/${route.name}.ts`,
      ).toBe(route);
    }
  });

  it('serves from every HTTP entry point a route of the list, under the route name', async () => {
    // Act
    const entries = await entryPoints();

    // Assess
    const served = [...entries].filter(([, route]) => route !== undefined);
    expect(served.length).toBeGreaterThan(0);
    for (const [name, route] of served) {
      expect(DEPLOYED_ROUTES, `functions/${name}.ts serves a route missing from the list`).toContain(route);
      expect(route?.name).toBe(name);
    }
  });

  it('gives a local-only route no entry point: on AWS the dashboard is a static site', async () => {
    // Act
    const entries = await entryPoints();
    const localOnly = ROUTES.filter((route) => route.localOnly).map((route) => route.name);

    // Assess
    expect(localOnly).toEqual(['dashboard']);
    for (const name of localOnly) expect(entries.has(name), `functions/${name}.ts`).toBe(false);
  });

  it('names each route once', () => {
    // Assess
    const names = ROUTES.map((route) => route.name);
    expect(new Set(names).size).toBe(names.length);
  });
});
