import { expect, test } from 'vitest';
import { isLoopback } from './loopback.ts';

test.each([
  ['localhost', true],
  ['127.0.0.1', true],
  ['127.8.9.10', true],
  ['::1', true],
  ['[::1]', true],
  ['0.0.0.0', false],
  ['192.168.1.20', false],
  ['[fe80::1]', false],
  ['tabreduce.example.org', false],
  ['localhost.example.org', false],
])('%s → %s', (host, expected) => {
  expect(isLoopback(host)).toBe(expected);
});
