/**
 * What the seed scripts share: their command line (`--url`, then input files) and
 * printing a result the way Python prints a dict, since that is what the seeds printed.
 */
import { parseArgs } from 'node:util';
import type { KeyValue } from 'tabreduce/client';

export interface SeedArgs {
  /** --url: the coordinator; undefined lets the client default to $TABREDUCE_URL, else http://localhost:3000. */
  url: string | undefined;
  /** Positional arguments: input files, for the scripts that read some. */
  files: string[];
}

export function seedArgs(usage: string): SeedArgs {
  try {
    const { values, positionals } = parseArgs({ options: { url: { type: 'string' } }, allowPositionals: true });
    return { url: values.url, files: positionals };
  } catch (error) {
    console.error(`${(error as Error).message}\nusage: ${usage}`);
    process.exit(2);
  }
}

/** A result as Python 3 prints a dict: `{'a': 1, 2: 3}`, in the result's (key) order. */
export function pythonDict(pairs: readonly KeyValue[]): string {
  return `{${pairs.map(([key, value]) => `${pythonRepr(key)}: ${pythonRepr(value)}`).join(', ')}}`;
}

function pythonRepr(value: unknown): string {
  if (typeof value === 'string') {
    // Python quotes with ' unless the text holds a ' and no ".
    const quote = value.includes("'") && !value.includes('"') ? '"' : "'";
    const escaped = value
      .replaceAll('\\', '\\\\')
      .replaceAll('\n', '\\n')
      .replaceAll('\r', '\\r')
      .replaceAll('\t', '\\t')
      .replaceAll(quote, `\\${quote}`);
    return `${quote}${escaped}${quote}`;
  }
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (Array.isArray(value)) return `[${value.map(pythonRepr).join(', ')}]`;
  return JSON.stringify(value);
}
