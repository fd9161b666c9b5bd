/**
 * Wires the coordinator together: one HTTP server carrying the API, the web app and
 * Socket.IO (volunteers and dashboards), around one scheduler and one store.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server as SocketServer } from 'socket.io';
import { DASHBOARD_NAMESPACE, VOLUNTEER_NAMESPACE } from '../shared/protocol.ts';
import { DEFAULT_GUARD_LIMITS } from './connection-guard.ts';
import { loadConfig, type CoordinatorConfig, type StoreKind } from './config.ts';
import { DashboardFeed, type DashboardNamespace } from './dashboard-feed.ts';
import { DiskSpace } from './disk-space.ts';
import { createHttpApi, sameSecret } from './http-api.ts';
import { InputFiles } from './input-files.ts';
import { DEFAULT_BACKUP_POLICY, Scheduler } from './scheduler/scheduler.ts';
import { VolunteerGateway, type VolunteerNamespace } from './socket-gateway.ts';
import { createLogger, type Logger } from './logger.ts';
import { CoordinatorMetrics } from './metrics.ts';
import { CONTENT_SECURITY_POLICY, createStaticFiles } from './static-files.ts';
import type { JobStore } from './store/job-store.ts';
import { MemoryStore } from './store/memory-store.ts';
import { SqliteStore } from './store/sqlite-store.ts';

export interface CoordinatorOptions extends Partial<Omit<CoordinatorConfig, 'store'>> {
  /**
   * The job store: a kind to open (config `store`, env TABREDUCE_STORE, default
   * 'sqlite' in `dataDir`), which the coordinator then closes on `close()`; or a store
   * opened by the caller, which stays the caller's to close.
   */
  store?: StoreKind | JobStore;
  /** Submit token; when set, job endpoints need it. */
  token?: string;
  now?: () => number;
  /** Where the coordinator logs. Default: pino at TABREDUCE_LOG_LEVEL on stdout (server/logger.ts). */
  log?: Logger;
}

export interface Coordinator {
  config: CoordinatorConfig;
  httpServer: HttpServer;
  scheduler: Scheduler;
  /** What `GET /metrics` answers from. */
  metrics: CoordinatorMetrics;
  /** The base URL once listening, e.g. http://127.0.0.1:3000. */
  url: string;
  close(): Promise<void>;
}

export async function startCoordinator(options: CoordinatorOptions = {}): Promise<Coordinator> {
  const { store: storeOption, token, now = Date.now, log: givenLog, ...overrides } = options;
  const config = loadConfig(typeof storeOption === 'string' ? { ...overrides, store: storeOption } : overrides);
  const log = givenLog ?? createLogger({ level: config.logLevel });
  const ownsStore = typeof storeOption !== 'object';
  const store = typeof storeOption === 'object' ? storeOption : openStore(config);
  try {
    return await startAround(store, config, { ownsStore, token, now, log });
  } catch (error) {
    // A coordinator that never started must not keep its database open.
    if (ownsStore) store.close();
    throw error;
  }
}

/**
 * Deletes uploads no job claimed within `retentionMs`, at once and then every tenth of
 * it (at least 50 ms, at most 10 minutes apart): an upload outlives its retention by
 * that much at most, and a directory of a few uploads costs one listing per sweep.
 */
function sweepUploads(files: InputFiles, retentionMs: number, now: () => number, log: Logger): NodeJS.Timeout | undefined {
  if (retentionMs <= 0) return undefined;
  const sweep = () => {
    try {
      for (const id of files.expire(now(), retentionMs)) log.info({ uploadId: id }, 'upload deleted: no job used it within the upload retention');
    } catch (error) {
      // A sweep that failed (a permission changed under us) is tried again at the next one; it must not end the coordinator.
      log.error({ err: error }, 'sweeping expired uploads failed');
    }
  };
  sweep();
  const timer = setInterval(sweep, Math.min(10 * 60_000, Math.max(50, retentionMs / 10)));
  timer.unref();
  return timer;
}

function openStore(config: CoordinatorConfig): JobStore {
  return config.store === 'memory' ? new MemoryStore() : new SqliteStore(config.dataDir);
}

interface Wiring {
  /** Whether close() closes the store: only a store the coordinator opened itself. */
  ownsStore: boolean;
  token: string | undefined;
  now: () => number;
  log: Logger;
}

async function startAround(store: JobStore, config: CoordinatorConfig, { ownsStore, token, now, log }: Wiring): Promise<Coordinator> {
  // Uploaded files live beside a durable store; a memory store gets a scratch directory
  // that goes away with it, so nothing it held outlives it.
  const scratchDir = store instanceof MemoryStore ? mkdtempSync(path.join(tmpdir(), 'tabreduce-files-')) : undefined;
  const files = new InputFiles(scratchDir ?? config.dataDir);
  const disk = new DiskSpace(scratchDir ?? config.dataDir, config.minFreeBytes, log);
  // What every answer that says "stored" waits for; a disk with no room makes it a 507, not a 500.
  const stored = () =>
    store.durable().catch((error: unknown) => {
      throw disk.refusalFor(error) ?? error;
    });
  // On a full disk every group commit may fail, 50 times a second: one line per 10 s says so.
  let rollbackLoggedAtMs = Number.NEGATIVE_INFINITY;
  let rollbacksUnlogged = 0;
  let gateway: VolunteerGateway | undefined;
  let feed: DashboardFeed | undefined;
  const metrics = new CoordinatorMetrics();
  const scheduler = new Scheduler(
    store,
    {
      metrics: metrics.events,
      leaseMs: config.leaseMs,
      taskTimeoutMs: config.taskTimeoutMs,
      backups: { ...DEFAULT_BACKUP_POLICY, minRunningMs: config.backupAfterMs },
      resultRetentionMs: config.resultRetentionMs,
      maxStrikes: config.maxStrikes,
      maxMessageBytes: config.maxMessageBytes,
      newLeaseToken: () => randomUUID(),
    },
    {
      workAvailable: (volunteerIds) => gateway?.announceWork(volunteerIds),
      revoke: (volunteerId, taskIds, reason) => gateway?.revoke(volunteerId, taskIds, reason),
      yieldTasks: (volunteerId, max) => gateway?.askToYield(volunteerId, max),
      changed: () => feed?.changed(),
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
  metrics.observe(scheduler);
  files.releaseAllBut(new Set(store.listJobs().map((job) => job.id)));
  const handleApi = createHttpApi(scheduler, {
    maxBodyBytes: config.maxBodyBytes,
    maxFileBytes: config.maxFileBytes,
    maxMessageBytes: config.maxMessageBytes,
    files,
    disk,
    stored,
    defaultReplication: config.replication,
    newJobId: () => `job-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`,
    ...(token ? { token } : {}),
    now,
    log,
  });
  const serveStatic = createStaticFiles(config.webDir);
  // Registered before Socket.IO attaches, so Socket.IO can route its own /socket.io/ requests
  // and pass us only the rest.
  const httpServer = createServer((request, response) => {
    response.setHeader('content-security-policy', CONTENT_SECURITY_POLICY);
    response.setHeader('x-content-type-options', 'nosniff');
    response.setHeader('referrer-policy', 'no-referrer');
    // Prometheus scrapes without a token, as it does every service behind a load balancer: counts, no job names.
    const isMetrics = request.method === 'GET' && request.url?.split('?')[0] === '/metrics';
    void (isMetrics ? metrics.serve(response).then(() => true) : handleApi(request, response))
      .then((handled) => (handled ? undefined : serveStatic(request, response)))
      .catch((error: unknown) => {
        log.error({ err: error, url: request.url }, 'request failed');
        if (!response.headersSent) response.writeHead(500);
        response.end();
      });
  });

  const io = new SocketServer(httpServer, {
    // Map output blocks can be large; the default 1 MB would drop the tab with "transport error".
    maxHttpBufferSize: config.maxMessageBytes,
    serveClient: false,
  });

  // Socket.IO types a server's events once for all namespaces; ours differ per namespace.
  gateway = new VolunteerGateway(io.of(VOLUNTEER_NAMESPACE) as unknown as VolunteerNamespace, scheduler, {
    leaseMs: config.leaseMs,
    now,
    log,
    stored,
    limits: { ...DEFAULT_GUARD_LIMITS, eventsPerSecond: config.eventsPerSecond, burst: 2 * config.eventsPerSecond },
  });
  const dashboards = io.of(DASHBOARD_NAMESPACE);
  // The feed carries every job's summary: with a token, only dashboards that present it get it.
  if (token) {
    dashboards.use((socket, next) => {
      const presented: unknown = socket.handshake.auth?.token;
      next(typeof presented === 'string' && sameSecret(presented, token) ? undefined : new Error('UNAUTHORIZED: this coordinator needs its submit token'));
    });
  }
  feed = new DashboardFeed(
    dashboards as unknown as DashboardNamespace,
    () => ({ jobs: scheduler.listJobs(), cluster: scheduler.cluster() }),
    config.dashboardIntervalMs,
  );

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.port, config.host, () => {
      httpServer.off('error', reject);
      resolve();
    });
  });
  // Started once listening: a coordinator that failed to listen leaves no timer behind.
  const sweeper = setInterval(() => scheduler.tick(now()), config.sweepIntervalMs);
  sweeper.unref();
  disk.watch(config.diskCheckIntervalMs);
  const uploadSweeper = sweepUploads(files, config.uploadRetentionMs, now, log);
  const address = httpServer.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    config: { ...config, port: address.port },
    httpServer,
    scheduler,
    metrics,
    url: `http://${host}:${address.port}`,
    async close() {
      clearInterval(sweeper);
      disk.stop();
      if (uploadSweeper) clearInterval(uploadSweeper);
      feed?.close();
      await io.close();
      httpServer.closeAllConnections();
      // Last: closing the sockets above still writes through the store (abandoned leases).
      if (ownsStore) store.close();
      if (scratchDir) rmSync(scratchDir, { recursive: true, force: true });
    },
  };
}
