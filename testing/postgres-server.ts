/**
 * A throwaway PostgreSQL cluster for tests: its own data directory, port and socket, so
 * that tests never depend on a system cluster and many can run side by side. Debian's
 * binaries come from `postgresql` (testing/ensure-system-packages.mjs installs it).
 *
 * PostgreSQL refuses to run as root, so as root every command runs as the `postgres`
 * user, in a directory under /tmp that user owns (a TMPDIR under /root would not be
 * reachable for it).
 */
import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { fileTail, freePort, isAddressInUse } from './local-services.ts';

export interface PostgresServer {
  readonly port: number;
  /** postgres://postgres@127.0.0.1:PORT/DATABASE (default database: postgres) */
  url(database?: string): string;
  /** Creates a fresh, uniquely named database (or `name`) and answers its URL. */
  createDatabase(name?: string): Promise<string>;
  /** Stops the server (fast shutdown) and deletes its directory. Idempotent. */
  stop(): Promise<void>;
}

export interface StartPostgresOptions {
  /** extra `-c name=value` settings */
  settings?: Record<string, string>;
}

/**
 * Settings for many short tests on a small machine. fsync stays on: durability tests kill
 * the processes that write to this cluster, and a cluster that lies about commits would
 * let them pass for the wrong reason.
 */
const TEST_SETTINGS: Record<string, string> = {
  max_connections: '200',
  shared_buffers: '32MB',
};

const PORT_ATTEMPTS = 5;
const START_TIMEOUT_S = 30;

/** The directory of `initdb`, `pg_ctl` and `postgres`: TABREDUCE_PG_BIN, else the newest /usr/lib/postgresql/VERSION/bin. */
export function postgresBinDir(): string {
  const override = process.env.TABREDUCE_PG_BIN;
  if (override) return override;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => hasBinaries(path.join(root, v, 'bin'))) : [];
  versions.sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a));
  const newest = versions[0];
  if (newest === undefined) {
    throw new Error(`no initdb and pg_ctl under ${root}/*/bin: run \`node testing/ensure-system-packages.mjs\` (or set TABREDUCE_PG_BIN)`);
  }
  return path.join(root, newest, 'bin');
}

function hasBinaries(dir: string): boolean {
  return existsSync(path.join(dir, 'initdb')) && existsSync(path.join(dir, 'pg_ctl'));
}

const runningAsRoot = process.getuid?.() === 0;

/** Runs a PostgreSQL binary, as `postgres` when we are root; rejects with its output. */
function runPg(binDir: string, program: string, args: string[], cwd: string): Promise<string> {
  const binary = path.join(binDir, program);
  const [file, argv] = runningAsRoot ? ['runuser', ['-u', 'postgres', '--', binary, ...args]] : [binary, args];
  return new Promise((resolve, reject) => {
    // cwd inside our directory: the postgres user may not be able to enter ours.
    execFile(file, argv, { cwd, encoding: 'utf8', timeout: (START_TIMEOUT_S + 15) * 1000 }, (error, stdout, stderr) => {
      const output = `${stdout}${stderr}`.trim();
      const status = error?.killed ? 'timed out' : `exit ${error?.code ?? error?.signal}`;
      if (error) reject(new Error(`${program} ${args.join(' ')} failed (${status}):\n${output}`));
      else resolve(output);
    });
  });
}

/** A postgresql.conf value, quoted so that any string survives. */
function confValue(value: string): string {
  return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "''")}'`;
}

function postgresUser(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('postgres:'));
  const fields = line?.split(':');
  if (!fields || fields.length < 4) throw new Error('running as root, but there is no postgres user to run PostgreSQL as (install Debian\'s postgresql)');
  return { uid: Number(fields[2]), gid: Number(fields[3]) };
}

let databaseCounter = 0;

/** Starts a fresh cluster on a free port of 127.0.0.1 and answers once it accepts connections. */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresServer> {
  const binDir = postgresBinDir();
  // mkdtemp makes it 0700: only its owner (postgres, as root) needs to enter it.
  const dir = mkdtempSync(path.join(runningAsRoot ? '/tmp' : tmpdir(), 'tabreduce-pg-'));
  const removeDir = () => rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  try {
    if (runningAsRoot) {
      const { uid, gid } = postgresUser();
      chownSync(dir, uid, gid);
    }
    const dataDir = path.join(dir, 'data');
    const log = path.join(dir, 'postgres.log');
    await runPg(binDir, 'initdb', ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--no-sync'], dir);

    // In the configuration file rather than on pg_ctl's -o, which goes through a shell.
    const settings = { ...TEST_SETTINGS, ...options.settings, listen_addresses: '127.0.0.1', unix_socket_directories: dir };
    const lines = Object.entries(settings).map(([name, value]) => `${name} = ${confValue(value)}`);
    appendFileSync(path.join(dataDir, 'postgresql.conf'), `\n# testing/postgres-server.ts\n${lines.join('\n')}\n`);

    const port = await startOnFreePort(binDir, dataDir, log, dir);
    return handle(binDir, dir, dataDir, port);
  } catch (error) {
    removeDir();
    throw error;
  }
}

async function startOnFreePort(binDir: string, dataDir: string, log: string, dir: string): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    // Each attempt's log on its own, so that the error shows this attempt's reason.
    writeFileSync(log, '');
    if (runningAsRoot) {
      const { uid, gid } = postgresUser();
      chownSync(log, uid, gid);
    }
    try {
      await runPg(binDir, 'pg_ctl', ['-D', dataDir, '-l', log, '-w', '-t', String(START_TIMEOUT_S), '-o', `-p ${port}`, 'start'], dir);
      return port;
    } catch (error) {
      const tail = fileTail(log);
      // pg_ctl gives up waiting after its timeout but leaves a slow server running.
      quitPostmaster(dataDir);
      if (attempt < PORT_ATTEMPTS && isAddressInUse(tail)) continue;
      throw new Error(`PostgreSQL did not start on port ${port}: ${(error as Error).message}\n--- ${log} (last lines) ---\n${tail}`);
    }
  }
}

/** PostgreSQL's immediate shutdown: SIGQUIT to the postmaster, which takes its children down. */
function quitPostmaster(dataDir: string): void {
  try {
    const pid = Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    if (pid > 0) process.kill(pid, 'SIGQUIT');
  } catch {
    // No pid file or no such process: it is already down.
  }
}

function handle(binDir: string, dir: string, dataDir: string, port: number): PostgresServer {
  // For when there is no time for a fast shutdown: the test process exiting without
  // stop(), or pg_ctl failing to stop it.
  const killNow = () => {
    quitPostmaster(dataDir);
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      // Best effort in an exit handler: a leftover directory in /tmp harms no later run.
    }
  };
  process.on('exit', killNow);

  const url = (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${encodeURIComponent(database)}`;
  let stopping: Promise<void> | undefined;

  return {
    port,
    url,
    async createDatabase(name = `test_${process.pid}_${++databaseCounter}_${Math.random().toString(36).slice(2, 8)}`) {
      const client = new pg.Client({ connectionString: url() });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
      } finally {
        await client.end();
      }
      return url(name);
    },
    stop() {
      stopping ??= (async () => {
        process.off('exit', killNow);
        try {
          await runPg(binDir, 'pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', '-t', String(START_TIMEOUT_S), 'stop'], dir);
        } catch {
          // Already down, or stuck: either way nothing of it may outlive stop().
        }
        killNow();
      })();
      return stopping;
    },
  };
}
