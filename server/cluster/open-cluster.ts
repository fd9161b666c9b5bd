/**
 * What a coordinator needs to join a cluster: the database (schema migrated), its
 * scheduler in the cluster, and the uploads kept there. server/coordinator.ts wires these
 * in place of the store, the in-memory scheduler and the upload directory when
 * TABREDUCE_DATABASE_URL is set.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { CoordinatorConfig } from '../config.ts';
import { InputFiles } from '../input-files.ts';
import type { Logger } from '../logger.ts';
import { DEFAULT_BACKUP_POLICY } from '../scheduler/dispatch.ts';
import type { SchedulerListener, SchedulerMetrics } from '../scheduler/scheduler-options.ts';
import { ClusterScheduler } from './cluster-scheduler.ts';
import { openDatabase, type Database } from './database.ts';
import { migrate } from './postgres-schema.ts';

export interface OpenCluster {
  db: Database;
  scheduler: ClusterScheduler;
  /** Where the planner cuts uploads copied out of the database (cluster-uploads.ts). */
  scratch: InputFiles;
  /** Leaves the cluster (its volunteers' leases end now) and closes the connections. */
  close(): Promise<void>;
}

export async function openCluster(
  config: CoordinatorConfig & { databaseUrl: string },
  wiring: { listener: SchedulerListener; metrics: SchedulerMetrics; log: Logger },
): Promise<OpenCluster> {
  const db = openDatabase(config.databaseUrl);
  // Nothing in it outlives the planning of one job: the data directory holds no state of the cluster.
  const scratch = new InputFiles(path.join(config.dataDir, 'cluster-scratch'));
  try {
    await migrate(db.pool);
    const scheduler = await ClusterScheduler.start(
      db,
      scratch,
      {
        coordinatorId: `c-${randomUUID().slice(0, 8)}`,
        databaseUrl: config.databaseUrl,
        leaseMs: config.leaseMs,
        taskTimeoutMs: config.taskTimeoutMs,
        resultRetentionMs: config.resultRetentionMs,
        maxStrikes: config.maxStrikes,
        coordinatorTimeoutMs: config.coordinatorTimeoutMs,
        backups: { ...DEFAULT_BACKUP_POLICY, minRunningMs: config.backupAfterMs },
        maxMessageBytes: config.maxMessageBytes,
        metrics: wiring.metrics,
        newLeaseToken: () => randomUUID(),
        log: wiring.log,
      },
      wiring.listener,
    );
    return {
      db,
      scheduler,
      scratch,
      async close() {
        await scheduler.close().catch((error: unknown) => wiring.log.warn({ err: error }, 'leaving the cluster failed; the others end its leases when its heartbeat stops'));
        await db.close();
      },
    };
  } catch (error) {
    await db.close();
    throw new Error(`cannot use the database at TABREDUCE_DATABASE_URL (${redact(config.databaseUrl)}): ${(error as Error).message}`, { cause: error });
  }
}

/** The URL without its password, for messages. */
function redact(url: string): string {
  return url.replace(/(\/\/[^:/@]+):[^@]*@/, '$1:***@');
}
