/** A job's input on the command line, for `submit` and `run`: text files after JOB.js, `--range`, `--records` or (`submit`) `--after`. */
import { readFile } from 'node:fs/promises';
import type { ClientInput } from '../client/index.ts';
import { rangeOption } from './args.ts';
import { CliError, EXIT, UsageError } from './exit-codes.ts';

export interface InputArgs {
  files: string[];
  range: string | undefined;
  records: string | undefined;
  /** Only for a command that offers `--after`; undefined there when not given. */
  after?: string | undefined;
}

/** The one kind of input given, checked before anything is read; a usage error names the kinds the command takes. */
export function chooseInput(args: InputArgs): () => Promise<ClientInput> {
  const offersAfter = 'after' in args;
  const range = rangeOption(args.range);
  const given = [args.files.length > 0, range !== undefined, args.records !== undefined, args.after !== undefined].filter(Boolean).length;
  if (given !== 1) {
    throw new UsageError(
      given === 0
        ? `no input: give text files after JOB.js, or --range A..B, or --records FILE${offersAfter ? ', or --after ID' : ''}`
        : `give one kind of input: text files, or --range, or --records${offersAfter ? ', or --after' : ''}, not several`,
    );
  }
  return async () => {
    if (range) return { kind: 'range', ...range };
    if (args.records !== undefined) return readRecords(args.records);
    if (args.after !== undefined) return { kind: 'job', id: args.after };
    return { kind: 'paths', paths: args.files };
  };
}

/** `--records FILE`: a JSON array of [key, value] pairs, or a whole input object. Records files are read whole. */
export async function readRecords(file: string): Promise<ClientInput> {
  const { describeFsError } = await import('../client/job-source.ts');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new CliError(EXIT.REJECTED, `cannot read the records file ${file}: ${describeFsError(error)}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CliError(EXIT.REJECTED, `the records file ${file} is not JSON: ${(error as Error).message}`);
  }
  if (Array.isArray(parsed)) return { kind: 'records', records: parsed as [never, unknown][] };
  if (parsed && typeof parsed === 'object' && 'kind' in parsed) return parsed as ClientInput;
  throw new CliError(EXIT.REJECTED, `the records file ${file} must hold a JSON array of [key, value] pairs, or an input object such as {"kind":"records","records":[...]}`);
}
