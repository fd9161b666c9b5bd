/**
 * The coordinator's configuration: embedded defaults, overridden by environment
 * variables, overridden again by whoever starts it in code (tests, the CLI).
 */
import path from 'node:path';
import { isLoopback } from '../shared/loopback.ts';
import { LOG_LEVELS, type LogLevel } from './logger.ts';
import { DEFAULT_BACKUP_POLICY } from './scheduler/dispatch.ts';

export interface CoordinatorConfig {
  /** TCP port; 0 picks a free one. Env PORT, default 3000. */
  port: number;
  /** Interface to bind. Env HOST, default 127.0.0.1 (loopback only). */
  host: string;
  /** Directory for the coordinator's state. Env TABREDUCE_DATA_DIR, default ./data. */
  dataDir: string;
  /**
   * Where jobs live: 'sqlite' keeps them in `<dataDir>/tabreduce.db` across restarts and
   * crashes; 'memory' loses them when the coordinator stops. Env TABREDUCE_STORE,
   * default 'sqlite'.
   */
  store: StoreKind;
  /**
   * A PostgreSQL database that holds everything instead, shared by every coordinator
   * given the same one: they form one cluster (docs/scaling.md). Env
   * TABREDUCE_DATABASE_URL (`postgres://` or `postgresql://`), default none: the store above.
   */
  databaseUrl?: string;
  /**
   * In a cluster: how long a coordinator may go without a heartbeat (each sweep writes
   * one) before the others end its volunteers' leases. Env
   * TABREDUCE_COORDINATOR_TIMEOUT_MS, default 5 s.
   */
  coordinatorTimeoutMs: number;
  /** Directory of the built web app. Default dist/web beside the repo root. */
  webDir: string;
  /** Lease length in ms; volunteers renew within it. Env TABREDUCE_LEASE_MS, default 30 s. */
  leaseMs: number;
  /** Longest a single task may run in a tab, in ms. Env TABREDUCE_TASK_TIMEOUT_MS, default 5 min. */
  taskTimeoutMs: number;
  /**
   * How long a task must run, in ms, before an idle slot may start a backup copy of it
   * (it must also have run 1.5 times its phase's mean task time, and have an attempt
   * left). Env TABREDUCE_BACKUP_AFTER_MS, default 5 s.
   */
  backupAfterMs: number;
  /** How often expired leases are swept, in ms. Default 200. */
  sweepIntervalMs: number;
  /** Largest JSON request body, in bytes. Env TABREDUCE_MAX_BODY_BYTES, default DEFAULT_MAX_BODY_BYTES. */
  maxBodyBytes: number;
  /** Largest uploaded input file, in bytes. Env TABREDUCE_MAX_FILE_BYTES, default 16 GiB. */
  maxFileBytes: number;
  /**
   * How long an upload that no job has used is kept after it arrived, in ms; 0 keeps it
   * until deleted. Env TABREDUCE_UPLOAD_RETENTION_HOURS, default 1 day.
   */
  uploadRetentionMs: number;
  /** Largest Socket.IO message from a volunteer, in bytes. Env TABREDUCE_MAX_MESSAGE_BYTES, default 64 MiB. */
  maxMessageBytes: number;
  /** Shortest gap between two dashboard snapshots, in ms. Default 250. */
  dashboardIntervalMs: number;
  /**
   * How long a finished job and its result are kept, in ms; 0 keeps them forever.
   * Env TABREDUCE_RESULT_RETENTION_HOURS, default 7 days.
   */
  resultRetentionMs: number;
  /**
   * Replication of a job that does not ask for one. Env TABREDUCE_REPLICATION; default 1
   * bound to loopback (every volunteer is on this machine), 2 on any other address,
   * where strangers may volunteer and lie.
   */
  replication: number;
  /** Votes a volunteer may lose before its results are refused. Env TABREDUCE_MAX_STRIKES, default 3. */
  maxStrikes: number;
  /** The least severe log records written (server/logger.ts). Env TABREDUCE_LOG_LEVEL, default info. */
  logLevel: LogLevel;
  /**
   * Events a second one volunteer connection may send (twice that in a burst); faster
   * ones are refused, and a connection refused too often is dropped.
   * Env TABREDUCE_EVENTS_PER_SECOND, default 1000.
   */
  eventsPerSecond: number;
  /**
   * Free bytes the data directory's disk must keep: below it, new jobs and uploads are
   * refused (507) while running jobs go on. Env TABREDUCE_MIN_FREE_BYTES, default 64 MiB.
   */
  minFreeBytes: number;
  /** How often free space is measured, in ms. Default 1000. */
  diskCheckIntervalMs: number;
}

/**
 * The default TABREDUCE_MAX_BODY_BYTES: 16 MiB. A JSON body is parsed whole, and costs the
 * coordinator several times its size while its job is planned. Measured (peak RSS,
 * VmHWM, of a coordinator at about 100 MB idle, taking one body just under 16 MiB): one
 * text 183 MB; 2.8 million small records 356 MB; the same records cut into 233,000 map
 * tasks 487 MB, the worst shape found. At 32 MiB those records took 615 MB, and with as
 * many tasks would near 1 GB. Large inputs go up as files (POST /api/files), streamed to disk.
 */
export const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;

/** The JobStore implementations the coordinator can open by name. */
export const STORE_KINDS = ['sqlite', 'memory'] as const;
export type StoreKind = (typeof STORE_KINDS)[number];

const repoRoot = path.resolve(import.meta.dirname, '..');

function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, got "${raw}"`);
  return value;
}

function logLevelFromEnv(): LogLevel {
  const raw = process.env.TABREDUCE_LOG_LEVEL;
  if (raw === undefined || raw === '') return 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(raw)) throw new Error(`TABREDUCE_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${raw}"`);
  return raw as LogLevel;
}

function databaseUrlFromEnv(): string | undefined {
  const raw = process.env.TABREDUCE_DATABASE_URL;
  if (raw === undefined || raw === '') return undefined;
  if (!/^postgres(ql)?:\/\//.test(raw)) throw new Error(`TABREDUCE_DATABASE_URL must be a postgres:// or postgresql:// URL, got "${raw.slice(0, 40)}"`);
  return raw;
}

function storeFromEnv(): StoreKind {
  const raw = process.env.TABREDUCE_STORE;
  if (raw === undefined || raw === '') return 'sqlite';
  if (!(STORE_KINDS as readonly string[]).includes(raw)) throw new Error(`TABREDUCE_STORE must be one of ${STORE_KINDS.join(', ')}, got "${raw}"`);
  return raw as StoreKind;
}

export function loadConfig(overrides: Partial<CoordinatorConfig> = {}): CoordinatorConfig {
  const databaseUrl = databaseUrlFromEnv();
  const config: Omit<CoordinatorConfig, 'replication'> & { replication?: number } = {
    port: intFromEnv('PORT', 3000),
    host: process.env.HOST || '127.0.0.1',
    dataDir: path.resolve(process.env.TABREDUCE_DATA_DIR || 'data'),
    store: storeFromEnv(),
    ...(databaseUrl ? { databaseUrl } : {}),
    coordinatorTimeoutMs: intFromEnv('TABREDUCE_COORDINATOR_TIMEOUT_MS', 5000),
    webDir: path.join(repoRoot, 'dist', 'web'),
    leaseMs: intFromEnv('TABREDUCE_LEASE_MS', 30_000),
    taskTimeoutMs: intFromEnv('TABREDUCE_TASK_TIMEOUT_MS', 5 * 60_000),
    backupAfterMs: intFromEnv('TABREDUCE_BACKUP_AFTER_MS', DEFAULT_BACKUP_POLICY.minRunningMs),
    sweepIntervalMs: 200,
    maxBodyBytes: intFromEnv('TABREDUCE_MAX_BODY_BYTES', DEFAULT_MAX_BODY_BYTES),
    maxFileBytes: intFromEnv('TABREDUCE_MAX_FILE_BYTES', 16 * 1024 ** 3),
    uploadRetentionMs: intFromEnv('TABREDUCE_UPLOAD_RETENTION_HOURS', 24) * 3_600_000,
    maxMessageBytes: intFromEnv('TABREDUCE_MAX_MESSAGE_BYTES', 64 * 1024 * 1024),
    dashboardIntervalMs: 250,
    resultRetentionMs: intFromEnv('TABREDUCE_RESULT_RETENTION_HOURS', 7 * 24) * 3_600_000,
    maxStrikes: intFromEnv('TABREDUCE_MAX_STRIKES', 3),
    logLevel: logLevelFromEnv(),
    eventsPerSecond: intFromEnv('TABREDUCE_EVENTS_PER_SECOND', 1000),
    minFreeBytes: intFromEnv('TABREDUCE_MIN_FREE_BYTES', 64 * 1024 * 1024),
    diskCheckIntervalMs: 1000,
    ...overrides,
  };
  const replication = overrides.replication ?? intFromEnv('TABREDUCE_REPLICATION', isLoopback(config.host) ? 1 : 2);
  if (replication < 1 || replication > 16) throw new Error(`TABREDUCE_REPLICATION must be between 1 and 16, got ${replication}`);
  return { ...config, replication };
}
