/**
 * What a coordinator serves from: a scheduler, where uploads go, and what an answer that
 * says "stored" waits for. Two kinds, chosen by configuration:
 *
 * - single (the default): the in-memory scheduler over an embedded store (SQLite in the
 *   data directory, or memory), uploads on the local disk;
 * - cluster (TABREDUCE_DATABASE_URL): the cluster scheduler over PostgreSQL, shared with
 *   every coordinator on the same database, uploads in the database too (docs/scaling.md).
 *
 * server/coordinator.ts serves either the same way: HTTP, Socket.IO, the dashboard feed.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { CoordinatorConfig } from './config.ts';
import { DiskSpace } from './disk-space.ts';
import type { UploadRoutes } from './http-api.ts';
import { InputFiles } from './input-files.ts';
import type { Logger } from './logger.ts';
import { openCluster } from './cluster/open-cluster.ts';
import { DEFAULT_BACKUP_POLICY } from './scheduler/dispatch.ts';
import { Scheduler } from './scheduler/scheduler.ts';
import type { SchedulerListener, SchedulerMetrics } from './scheduler/scheduler-options.ts';
import type { MaybePromise, SchedulerService } from './scheduler-service.ts';
import type { JobStore } from './store/job-store.ts';
import { MemoryStore } from './store/memory-store.ts';

export interface Backend {
  scheduler: SchedulerService;
  /** Where the planner finds the uploads a `files` input names. */
  files: InputFiles;
  /** Where the upload routes keep uploads, and the retention sweep deletes them. */
  uploads: UploadRoutes & { expire(nowMs: number, retentionMs: number): MaybePromise<string[]> };
  /** Copies the uploads a submission names to `files`, where they are not kept there already. */
  stageUploads?: (fileIds: readonly string[]) => Promise<void>;
  disk: DiskSpace;
  /** What every answer that says "stored" waits for. */
  stored: () => Promise<void>;
  close(): Promise<void>;
}

/** The scheduler's listener, whose targets (the gateway, the feed) exist only once the backend does. */
export type ListenerTargets = Pick<SchedulerListener, 'workAvailable' | 'revoke' | 'yieldTasks' | 'changed'>;

export interface BackendWiring {
  listener: ListenerTargets;
  metrics: SchedulerMetrics;
  now: () => number;
  log: Logger;
}

/** The in-memory scheduler over `store`; closes the store on close only when `ownsStore`. */
export function singleBackend(store: JobStore, ownsStore: boolean, config: CoordinatorConfig, { listener, metrics, now, log }: BackendWiring): Backend {
  // Uploaded files live beside a durable store; a memory store gets a scratch directory
  // that goes away with it, so nothing it held outlives it.
  const scratchDir = store instanceof MemoryStore ? mkdtempSync(path.join(tmpdir(), 'tabreduce-files-')) : undefined;
  const files = new InputFiles(scratchDir ?? config.dataDir);
  const disk = new DiskSpace(scratchDir ?? config.dataDir, config.minFreeBytes, log);
  // A disk with no room makes a failed commit a 507, not a 500.
  const stored = () =>
    store.durable().catch((error: unknown) => {
      throw disk.refusalFor(error) ?? error;
    });
  // On a full disk every group commit may fail, 50 times a second: one line per 10 s says so.
  let rollbackLoggedAtMs = Number.NEGATIVE_INFINITY;
  let rollbacksUnlogged = 0;
  const scheduler = new Scheduler(
    store,
    {
      metrics,
      leaseMs: config.leaseMs,
      taskTimeoutMs: config.taskTimeoutMs,
      backups: { ...DEFAULT_BACKUP_POLICY, minRunningMs: config.backupAfterMs },
      resultRetentionMs: config.resultRetentionMs,
      maxStrikes: config.maxStrikes,
      maxMessageBytes: config.maxMessageBytes,
      newLeaseToken: () => randomUUID(),
    },
    {
      ...listener,
      // Once the end is committed: until then a crash, or a failed commit, leaves a job that still needs its files.
      jobEnded: (jobId) => void store.durable().then(() => files.release(jobId), () => {}),
      rolledBack: (jobIds, error) => {
        if (now() - rollbackLoggedAtMs < 10_000) return void rollbacksUnlogged++;
        const more = rollbacksUnlogged > 0 ? ` (and ${rollbacksUnlogged} more failed commits since the last such line)` : '';
        const jobs = [...jobIds].slice(0, 5).join(', ') + (jobIds.size > 5 ? ` and ${jobIds.size - 5} more jobs` : '');
        log.error({ err: error, jobIds: [...jobIds].slice(0, 5) }, `a commit failed: ${jobs} went back to their last stored state${more}`);
        rollbackLoggedAtMs = now();
        rollbacksUnlogged = 0;
      },
    },
  );
  files.releaseAllBut(new Set(store.listJobs().map((job) => job.id)));
  return {
    scheduler,
    files,
    uploads: files,
    disk,
    stored,
    async close() {
      if (ownsStore) store.close();
      if (scratchDir) rmSync(scratchDir, { recursive: true, force: true });
    },
  };
}

/** The cluster scheduler on the database at `config.databaseUrl`, joined to the cluster. */
export async function clusterBackend(config: CoordinatorConfig & { databaseUrl: string }, { listener, metrics, log }: BackendWiring): Promise<Backend> {
  const cluster = await openCluster(config, { listener, metrics, log });
  return {
    scheduler: cluster.scheduler,
    files: cluster.scratch,
    uploads: cluster.scheduler.uploads,
    stageUploads: (fileIds) => cluster.scheduler.uploads.stage(fileIds, cluster.scratch, config.maxFileBytes),
    disk: new DiskSpace(config.dataDir, config.minFreeBytes, log),
    // Every cluster answer resolves after its own transaction's commit: there is nothing more to wait for.
    stored: () => Promise.resolve(),
    close: () => cluster.close(),
  };
}
