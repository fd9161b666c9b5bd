/**
 * The folder listing is the architecture (docs/architecture.md), and these are its
 * boundaries: what each folder's shipped code may import. A test rather than a
 * convention, because a single stray import (a `node:` module in the tab's runtime, the
 * coordinator reaching into the page) compiles fine under the wrong tsconfig.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..');

/** For each folder: the repo folders its non-test code may import, and whether it may import `node:` modules. */
const RULES: Record<string, { folders: string[]; node: boolean }> = {
  shared: { folders: ['shared'], node: false },
  runtime: { folders: ['runtime', 'shared'], node: false },
  server: { folders: ['server', 'shared'], node: true },
  web: { folders: ['web', 'runtime', 'client', 'examples', 'shared'], node: false },
  'node-volunteer': { folders: ['node-volunteer', 'runtime', 'shared'], node: true },
  // `runLocal` runs the volunteer's own task runtime on Node worker threads.
  client: { folders: ['client', 'node-volunteer', 'runtime', 'shared'], node: true },
  // `tabreduce serve` starts a coordinator in this process.
  cli: { folders: ['cli', 'client', 'node-volunteer', 'runtime', 'server', 'shared'], node: true },
};
/** Packages the folders that run everywhere may use: no Socket.IO server, no React, no native module. */
const PACKAGES: Record<string, RegExp> = {
  shared: /^(zod|acorn)$/,
  runtime: /^(comlink|socket\.io-client)$/,
};

function sourceFiles(folder: string): string[] {
  return (readdirSync(path.join(ROOT, folder), { recursive: true }) as string[])
    .filter((file) => /\.(ts|tsx|mjs)$/.test(file) && !/\.test\.ts$|\.d\.ts$/.test(file))
    .map((file) => path.join(folder, file));
}

function importsOf(file: string): string[] {
  const text = readFileSync(path.join(ROOT, file), 'utf8');
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((match) => (match[1] ?? match[2])!);
}

describe('folder boundaries', () => {
  for (const [folder, rule] of Object.entries(RULES)) {
    test(`${folder}/ imports only ${rule.folders.join(', ')}${rule.node ? ' and Node' : ''}`, () => {
      const wrong: string[] = [];
      for (const file of sourceFiles(folder)) {
        for (const specifier of importsOf(file)) {
          if (specifier.startsWith('.')) {
            const target = path.relative(ROOT, path.resolve(ROOT, path.dirname(file), specifier)).split(path.sep)[0]!;
            if (!rule.folders.includes(target)) wrong.push(`${file} imports ${specifier}`);
          } else if (specifier.startsWith('node:')) {
            if (!rule.node) wrong.push(`${file} imports ${specifier}`);
          } else if (PACKAGES[folder] && !PACKAGES[folder]!.test(specifier.split('/')[0]!)) {
            wrong.push(`${file} imports the package ${specifier}`);
          }
        }
      }
      expect(wrong).toEqual([]);
    });
  }
});
