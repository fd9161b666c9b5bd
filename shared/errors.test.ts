/**
 * The error catalogues and their documentation agree (as Fastify tests its error codes
 * against its docs): every code and task failure name in shared/errors.ts is in
 * docs/errors.md with the same status and meaning, and the docs list nothing else.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, expectTypeOf, test } from 'vitest';
import type { ApiErrorCode, HttpStatusCode } from '../client/api-client.ts';
import { ERROR_CODES, isErrorCode, TabreduceError, TASK_FAILURES, taskFailure, type ErrorCode, type HttpErrorBody, type TaskError } from './errors.ts';

const DOCS = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');

/** Each table of the page by the title of its first column: its rows, as cells with the backticks of the first one dropped. */
function tablesOf(markdown: string): Map<string, string[][]> {
  const tables = new Map<string, string[][]>();
  const cells = (line: string) => line.slice(1, -1).split('|').map((cell) => cell.trim());
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i]!.startsWith('|') || lines[i - 1]?.startsWith('|')) continue;
    const rows: string[][] = [];
    for (let j = i + 2; lines[j]?.startsWith('|'); j++) rows.push(cells(lines[j]!).map((cell, k) => (k === 0 ? cell.replace(/^`|`$/g, '') : cell)));
    tables.set(cells(lines[i]!)[0]!, rows);
  }
  return tables;
}

const tables = tablesOf(DOCS);
const table = (title: string): string[][] => {
  const rows = tables.get(title);
  if (!rows) throw new Error(`docs/errors.md has no table whose first column is "${title}"`);
  return rows;
};

/** What one list has that the other lacks, both ways, so a failure names what to add where. */
function difference(documented: string[], catalogued: string[]) {
  return {
    notDocumented: catalogued.filter((name) => !documented.includes(name)),
    notCatalogued: documented.filter((name) => !catalogued.includes(name)),
  };
}

/** The codes `ApiError` adds to ERROR_CODES. A literal added to `ApiErrorCode` fails to compile until it is listed here. */
const CLIENT_CODES: Record<Exclude<ApiErrorCode, ErrorCode | HttpStatusCode>, true> = { NETWORK: true };
/** How the docs write the `HTTP_${number}` family. */
const HTTP_STATUS_CODES = 'HTTP_<status>';

describe('docs/errors.md', () => {
  test('documents every error code, with its status and meaning, and no other', () => {
    const rows = table('Code');
    expect(difference(rows.map(([code]) => code!), Object.keys(ERROR_CODES))).toEqual({ notDocumented: [], notCatalogued: [] });
    for (const [code, status, , meaning] of rows) {
      expect({ code, status: Number(status), meaning }).toEqual({ code, ...ERROR_CODES[code as ErrorCode] });
    }
  });

  test('documents every task failure name, with who assigns it and its meaning, and no other', () => {
    const rows = table('Name');
    expect(difference(rows.map(([name]) => name!), Object.keys(TASK_FAILURES))).toEqual({ notDocumented: [], notCatalogued: [] });
    for (const [name, assignedBy, meaning] of rows) {
      expect({ name, assignedBy, meaning }).toEqual({ name, ...TASK_FAILURES[name as keyof typeof TASK_FAILURES] });
    }
  });

  test("documents the codes the client assigns itself, and no other", () => {
    const documented = table('Client code').map(([code]) => code!);
    expect(difference(documented, [...Object.keys(CLIENT_CODES), HTTP_STATUS_CODES])).toEqual({ notDocumented: [], notCatalogued: [] });
  });
});

describe('the error catalogues', () => {
  test('tell their own codes from anything else', () => {
    expect(isErrorCode('LEASE_INVALID')).toBe(true);
    expect(isErrorCode('toString')).toBe(false);
    expect(isErrorCode('HTTP_502')).toBe(false);
    expect(isErrorCode(404)).toBe(false);
  });

  test('give a refusal one shape per channel: HttpErrorBody over HTTP, WireError in acks', () => {
    const refusal = new TabreduceError('CONFLICT', 'job j1 is already succeeded');
    expect(refusal.status).toBe(409);
    expect(refusal.toHttpBody()).toEqual({ error: 'job j1 is already succeeded', code: 'CONFLICT' });
    expect(refusal.toWire()).toEqual({ code: 'CONFLICT', message: 'job j1 is already succeeded' });
    expectTypeOf(refusal.toHttpBody()).toEqualTypeOf<HttpErrorBody>();
  });

  test('name task failures only from the catalogue', () => {
    expect(taskFailure('TaskTimeout', 'too slow')).toEqual({ name: 'TaskTimeout', message: 'too slow' });
    expectTypeOf(taskFailure('LeaseLost', 'gone')).toExtend<TaskError>();
    // @ts-expect-error a misspelt failure name
    expect(() => taskFailure('LeaseLots', 'gone')).not.toThrow();
    // @ts-expect-error a code that is not in the catalogue
    expect(new TabreduceError('GONE', 'gone').message).toBe('gone');
  });
});
