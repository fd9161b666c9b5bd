/**
 * Runs the real `tabreduce` command as a child process, the way scripts run it: its
 * exit code, stdout and stderr are what a script would see.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const REPO_ROOT = path.resolve(import.meta.dirname, '..');
export const BIN = path.join(REPO_ROOT, 'bin', 'tabreduce.js');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment for a child CLI: none of the caller's TABREDUCE_* settings leak in. */
function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('TABREDUCE_')));
  return { ...clean, ...env };
}

/** Runs `tabreduce ...args` to its end. */
export function runCli(args: string[], options: { env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {}): Promise<CliRun> {
  const child = startCli(args, options);
  const timeoutMs = options.timeoutMs ?? 25_000;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.process.kill('SIGKILL');
      reject(new Error(`tabreduce ${args.join(' ')} did not end in ${timeoutMs} ms\nstdout: ${child.stdout()}\nstderr: ${child.stderr()}`));
    }, timeoutMs);
    child.process.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: child.stdout(), stderr: child.stderr() });
    });
  });
}

export interface RunningCli {
  process: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves once stdout matches `pattern`. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Resolves with the exit code once the process ended. */
  exited(): Promise<number | null>;
}

/** Starts `tabreduce ...args` and leaves it running (serve, volunteer, submit --wait). */
export function startCli(args: string[], options: { env?: Record<string, string>; cwd?: string } = {}): RunningCli {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env: childEnv(options.env ?? {}),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return {
    process: child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited: () => exited,
    waitForOutput(pattern, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (pattern.test(stdout)) {
            clearTimeout(timer);
            child.stdout.off('data', check);
            resolve();
          }
        };
        const timer = setTimeout(() => {
          child.stdout.off('data', check);
          reject(new Error(`no ${pattern} in ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
        }, timeoutMs);
        child.stdout.on('data', check);
        check();
      });
    },
  };
}

/** A port nothing listens on: one the system just handed out and took back. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A fresh temporary directory, removed by the returned function. */
export function tempDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'tabreduce-cli-test-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
