import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';
import { extractSstPlatform } from '../../scripts/sst-platform.ts';

/**
 * `npm run lint` typechecks sst.config.ts and infra/ against the component sources of the pinned SST
 * version and its @pulumi/aws (tsconfig.infra.json, scripts/sst-platform.ts). This shows the check
 * can fail: each case misspells one property in an in-memory copy of one infra file and the same
 * program, otherwise intact, reports it. A synth against a recording fake cannot (it records any name).
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CONFIG = `${ROOT}tsconfig.infra.json`;

interface Misspelling {
  what: string;
  file: string;
  from: string;
  to: string;
}

const MISSPELLINGS: Misspelling[] = [
  {
    what: 'an SST component argument (sst.aws.Queue visibilityTimeout)',
    file: 'infra/queues.ts',
    from: 'visibilityTimeout: `',
    to: 'visibilityTimout: `',
  },
  {
    what: 'a @pulumi/aws resource argument (FunctionEventInvokeConfig maximumRetryAttempts)',
    file: 'infra/scheduler.ts',
    from: 'maximumRetryAttempts: 2',
    to: 'maximumRetryAttempt: 2',
  },
  {
    what: 'a route throttle setting of the API stage (throttlingBurstLimit)',
    file: 'infra/api.ts',
    from: 'throttlingBurstLimit: THROTTLES',
    to: 'throttlingBurstLimt: THROTTLES',
  },
];

const parsedConfig = () => {
  const parsed = ts.getParsedCommandLineOfConfigFile(
    CONFIG,
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    },
  );
  if (!parsed) throw new Error(`cannot read ${CONFIG}`);
  return parsed;
};

/** The program of tsconfig.infra.json, with `replaced` files read from memory instead of disk. */
const infraProgram = (replaced: ReadonlyMap<string, string> = new Map(), oldProgram?: ts.Program) => {
  const { options, fileNames } = parsedConfig();
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  host.readFile = (name) => replaced.get(ts.sys.resolvePath(name)) ?? readFile(name);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, languageVersion, onError, shouldCreate) => {
    const text = replaced.get(ts.sys.resolvePath(name));
    return text === undefined
      ? getSourceFile(name, languageVersion, onError, shouldCreate)
      : ts.createSourceFile(name, text, languageVersion);
  };
  return ts.createProgram({ rootNames: fileNames, options, host, oldProgram });
};

const errorsOf = (program: ts.Program) =>
  ts.getPreEmitDiagnostics(program).map((d) => ({
    file: d.file ? d.file.fileName.slice(ROOT.length) : '',
    message: ts.flattenDiagnosticMessageText(d.messageText, ' '),
  }));

describe('infra typecheck against SST 3.19.3', () => {
  let intact: ts.Program;

  beforeAll(() => {
    extractSstPlatform();
    intact = infraProgram();
  }, 180_000);

  it('passes on the real infra, with the types of the SST components resolved', () => {
    // Act
    const errors = errorsOf(intact);
    const queueArgs = intact.getSourceFiles().some((f) => f.fileName.endsWith('components/aws/queue.ts'));
    // Assess
    expect(errors).toEqual([]);
    expect(queueArgs).toBe(true);
  }, 180_000);

  for (const misspelling of MISSPELLINGS) {
    it(`fails when ${misspelling.what} is misspelled`, () => {
      // Prepare
      const path = `${ROOT}${misspelling.file}`;
      const source = readFileSync(path, 'utf8');
      expect(source).toContain(misspelling.from);
      const copy = source.replace(misspelling.from, misspelling.to);
      const misspelled = misspelling.to.split(':')[0] ?? '';
      // Act
      const errors = errorsOf(infraProgram(new Map([[path, copy]]), intact));
      // Assess
      expect(errors).toEqual([
        {
          file: misspelling.file,
          message: expect.stringContaining(`'${misspelled}' does not exist in type`),
        },
      ]);
    }, 180_000);
  }
});
