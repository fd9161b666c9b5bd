/** `--records FILE`, read for `submit` and `run`. */
import { readFile } from 'node:fs/promises';
import type { ClientInput } from '../client/index.ts';
import { CliError, EXIT } from './exit-codes.ts';

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
