import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkJobSource } from './job-source.ts';

describe('checkJobSource', () => {
  it.each(readdirSync(new URL('../examples', import.meta.url)).filter((file) => file.endsWith('.js')))('accepts examples/%s', (file) => {
    const source = readFileSync(new URL(`../examples/${file}`, import.meta.url), 'utf8');
    expect(checkJobSource(source)).toMatchObject({ ok: true });
  });

  it.each([
    ['function declarations', 'export function* map(k, v) {}\nexport function reduce(k, vs) {}'],
    ['const arrow functions', 'export const map = (k, v) => [];\nexport const reduce = (k, vs) => 0;'],
    ['export lists with renames', 'function m() {}\nfunction r() {}\nexport { m as map, r as reduce };'],
  ])('accepts %s', (_name, source) => {
    expect(checkJobSource(source)).toMatchObject({ ok: true, hasCombine: false });
  });

  it('reports a syntax error with its line and column', () => {
    expect(checkJobSource('export function map() {}\nexport function reduce( {')).toMatchObject({ ok: false, line: 2 });
  });

  it('names the missing export', () => {
    const check = checkJobSource('export function map() {}');
    expect(check.ok).toBe(false);
    expect(!check.ok && check.message).toContain('`reduce`');
  });

  it('does not accept a default export in place of named ones', () => {
    expect(checkJobSource('export default { map() {}, reduce() {} }')).toMatchObject({ ok: false });
  });
});
