/**
 * Runs the real coordinator as a child process, the way `npm start` does, on a free
 * port and a fresh data directory: tests can then kill it like a crash would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const repoRoot = path.resolve(import.meta.dirname, '..');
const TEMP_PREFIX = path.join(tmpdir(), 'tabreduce-e2e-');

/** One line of the coordinator's log as pino writes it. */
export interface LogRecord {
  level: number;
  time: number;
  msg: string;
  [field: string]: unknown;
}

/** The JSON log lines in `output`; anything else (a stack a crash printed) is skipped. */
export function logRecordsOf(output: string): LogRecord[] {
  const records: LogRecord[] = [];
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      records.push(JSON.parse(line) as LogRecord);
    } catch {
      // A line cut where the output was read: its end comes later.
    }
  }
  return records;
}

export interface CoordinatorProcess {
  url: string;
  dataDir: string;
  child: ChildProcess;
  /** Everything the coordinator printed so far. */
  output(): string;
  /** Its log records so far (JSON lines, server/logger.ts), each with `msg` and its fields. */
  logRecords(): LogRecord[];
  /** Stops the coordinator and removes its data directory if it is one of ours in /tmp. */
  stop(): Promise<void>;
}

/**
 * Starts `server/main.ts` with `env` over this process's environment (PORT 0, HOST
 * loopback and a fresh TABREDUCE_DATA_DIR unless `env` says otherwise). `nodeArgs` go to
 * Node itself, for flags NODE_OPTIONS does not allow (the benchmarks' --cpu-prof). `root`
 * is the checkout whose coordinator runs: another one measures an older version.
 */
export async function startCoordinatorProcess(env: Record<string, string> = {}, nodeArgs: readonly string[] = [], root = repoRoot): Promise<CoordinatorProcess> {
  const dataDir = env.TABREDUCE_DATA_DIR ?? mkdtempSync(TEMP_PREFIX);
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'server/main.ts'], {
    cwd: root,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', TABREDUCE_DATA_DIR: dataDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    if (dataDir.startsWith(TEMP_PREFIX)) rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the coordinator did not start in 30 s:\n${output}`)), 30_000);
      const onData = () => {
        const match = /listening on (http:\/\/[^\s"]+)/.exec(output);
        if (match) {
          clearTimeout(timer);
          child.stdout!.off('data', onData);
          resolve(match[1]!);
        }
      };
      child.stdout!.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the coordinator exited with ${code} before listening:\n${output}`));
      });
    });
    return { url, dataDir, child, output: () => output, logRecords: () => logRecordsOf(output), stop };
  } catch (error) {
    // A coordinator that never listened must not outlive the test that started it.
    await stop();
    throw error;
  }
}
