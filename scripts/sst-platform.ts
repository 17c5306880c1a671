import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Writes `.sst/platform/`, the component sources and `config.d.ts` that `sst install` would write,
 * from the SST CLI binary of the pinned `sst` devDependency, without running it (the CLI downloads
 * Pulumi, which this sandbox cannot do; design section 8). `npm run lint` then typechecks
 * sst.config.ts and infra/ against them (tsconfig.infra.json), so a misspelled property fails the lint.
 *
 * The binary is a Go program whose `platform/` folder is a `go:embed` file system: a sorted array of
 * `{ name string; data string; hash [16]byte }` entries (48 bytes on 64-bit), each string a
 * (pointer, length) pair into the read-only data. We find the entry of one known file by its name's
 * address, walk to both ends of the array, and copy every file out.
 *
 * Reads the Linux (ELF) and macOS (Mach-O) binaries, 64-bit; both embed the same files.
 *
 * Usage: `tsx scripts/sst-platform.ts` (does nothing when the platform of this version is there).
 */

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const PLATFORM_DIR = join(ROOT, '.sst/platform');
/** A file every SST v3 platform has; its embed entry anchors the walk. */
const ANCHOR = 'src/components/aws/function.ts';
const ENTRY_SIZE = 48;

/** `config.d.ts` as `sst install` writes it for an app whose only provider is `aws` (its home). */
const CONFIG_TYPES = `import "./src/global.d.ts"
import { AppInput, App, Config } from "./src/config"
import * as _aws from "@pulumi/aws";


declare global {
  // @ts-expect-error
  export import aws = _aws
  interface Providers {
    providers?: {
      "aws"?:  (_aws.ProviderArgs & { version?: string }) | boolean | string;
    }
  }
  export const $config: (
    input: Omit<Config, "app"> & {
      app(input: AppInput): Promise<Omit<App, "providers"> & Providers> | (Omit<App, "providers"> & Providers);
    },
  ) => Config;
}
`;

interface Segment {
  fileOffset: number;
  address: bigint;
  size: number;
}

/** The PT_LOAD segments of a 64-bit little-endian ELF file (Linux). */
const elfSegments = (binary: Buffer): Segment[] => {
  const tableOffset = Number(binary.readBigUInt64LE(0x20));
  const entrySize = binary.readUInt16LE(0x36);
  const count = binary.readUInt16LE(0x38);
  return Array.from({ length: count }, (_, i) => tableOffset + i * entrySize)
    .filter((at) => binary.readUInt32LE(at) === 1)
    .map((at) => ({
      fileOffset: Number(binary.readBigUInt64LE(at + 8)),
      address: binary.readBigUInt64LE(at + 16),
      size: Number(binary.readBigUInt64LE(at + 32)),
    }));
};

/** The LC_SEGMENT_64 segments of a 64-bit Mach-O file (macOS). */
const machOSegments = (binary: Buffer): Segment[] => {
  const segments: Segment[] = [];
  const commands = binary.readUInt32LE(16);
  for (let i = 0, at = 32; i < commands; i++, at += binary.readUInt32LE(at + 4)) {
    if (binary.readUInt32LE(at) !== 0x19) continue;
    segments.push({
      address: binary.readBigUInt64LE(at + 24),
      fileOffset: Number(binary.readBigUInt64LE(at + 40)),
      size: Number(binary.readBigUInt64LE(at + 48)),
    });
  }
  return segments;
};

/** Where each address range of the binary sits in the file (Linux ELF or macOS Mach-O, 64-bit). */
const loadSegments = (binary: Buffer): Segment[] => {
  if (binary.readUInt32BE(0) === 0x7f454c46 && binary[4] === 2 && binary[5] === 1) return elfSegments(binary);
  if (binary.readUInt32LE(0) === 0xfeedfacf) return machOSegments(binary);
  throw new Error('not a 64-bit ELF or Mach-O binary: the SST binary of this platform is not supported');
};

/** Reads the embedded files out of an SST CLI binary, by path inside `platform/`. */
export const embeddedFiles = (binary: Buffer): Map<string, Buffer> => {
  const segments = loadSegments(binary);
  const toOffset = (address: bigint) => {
    const segment = segments.find((s) => address >= s.address && address < s.address + BigInt(s.size));
    return segment ? segment.fileOffset + Number(address - segment.address) : undefined;
  };
  const toAddress = (offset: number) => {
    const segment = segments.find((s) => offset >= s.fileOffset && offset < s.fileOffset + s.size);
    return segment ? segment.address + BigInt(offset - segment.fileOffset) : undefined;
  };
  const readString = (at: number, maxLength: number) => {
    const length = Number(binary.readBigUInt64LE(at + 8));
    if (length > maxLength) return undefined;
    if (length === 0) return Buffer.alloc(0);
    const offset = toOffset(binary.readBigUInt64LE(at));
    return offset === undefined ? undefined : binary.subarray(offset, offset + length);
  };
  const readEntry = (at: number) => {
    if (at < 0 || at + ENTRY_SIZE > binary.length) return undefined;
    const name = readString(at, 300);
    const data = readString(at + 16, 50_000_000);
    if (!name || name.length === 0 || !data || !/^[\w./@-]+$/.test(name.toString('latin1'))) return undefined;
    return { name: name.toString('utf8'), data };
  };

  const anchorName = Buffer.from(ANCHOR);
  let anchor: number | undefined;
  for (let at = binary.indexOf(anchorName); at >= 0 && anchor === undefined; ) {
    const address = toAddress(at);
    if (address !== undefined) {
      const reference = Buffer.alloc(16);
      reference.writeBigUInt64LE(address, 0);
      reference.writeBigUInt64LE(BigInt(anchorName.length), 8);
      const found = binary.indexOf(reference);
      if (found >= 0) anchor = found;
    }
    at = binary.indexOf(anchorName, at + 1);
  }
  if (anchor === undefined) throw new Error(`no embedded ${ANCHOR} in the SST binary`);

  let first = anchor;
  while (readEntry(first - ENTRY_SIZE)) first -= ENTRY_SIZE;
  const files = new Map<string, Buffer>();
  for (let at = first, entry = readEntry(at); entry; at += ENTRY_SIZE, entry = readEntry(at)) {
    // Directories are entries too, named with a trailing slash and no data.
    if (!entry.name.endsWith('/')) files.set(entry.name, entry.data);
  }
  return files;
};

/**
 * SST's own sources are checked by SST, against its compiler settings and dependencies (Cloudflare,
 * Vercel, Docker providers we do not install): `@ts-nocheck` keeps their bodies out of our lint while
 * their exported types (FunctionArgs, QueueArgs, ...) still type our infra.
 */
const NO_CHECK = Buffer.from('// @ts-nocheck (added by scripts/sst-platform.ts)\n');
const isSource = (name: string) => name.startsWith('src/') && name.endsWith('.ts') && !name.endsWith('.d.ts');

/** The pinned sst version and the path of its CLI binary for this machine (an optional dependency of sst). */
const pinnedBinary = () => {
  const packageDir = (name: string) => join(ROOT, 'node_modules', name);
  const { version } = JSON.parse(readFileSync(join(packageDir('sst'), 'package.json'), 'utf8')) as {
    version: string;
  };
  const binaryPackage = `sst-${process.platform}-${process.arch}`;
  const binary = join(packageDir(binaryPackage), 'bin/sst');
  if (!existsSync(binary)) throw new Error(`${binaryPackage} is not installed: run npm ci on Linux x64`);
  return { version, binaryPackage, binary };
};

/** Extracts the platform of the pinned version into `dir` unless it is there already; returns the version. */
export const extractSstPlatform = (dir = PLATFORM_DIR): string => {
  const { version, binaryPackage, binary } = pinnedBinary();
  const stamp = join(dir, '.extracted-from');
  const source = `${binaryPackage}@${version}`;
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === source) return version;
  const files = embeddedFiles(readFileSync(binary));
  if (!files.has('src/config.ts') || !files.has('src/global.d.ts')) {
    throw new Error(`${source} does not embed the platform sources this script expects`);
  }
  rmSync(dir, { recursive: true, force: true });
  for (const [name, data] of files) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), isSource(name) ? Buffer.concat([NO_CHECK, data]) : data);
  }
  writeFileSync(join(dir, 'config.d.ts'), CONFIG_TYPES);
  writeFileSync(stamp, source);
  return version;
};

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const version = extractSstPlatform();
  console.log(`SST ${version} platform sources and config.d.ts in .sst/platform/`);
}
