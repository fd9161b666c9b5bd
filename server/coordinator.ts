/**
 * Wires the coordinator together: one HTTP server carrying the API, the web app and
 * Socket.IO (volunteers and dashboards), around one scheduler: the in-memory one over an
 * embedded store, or in a cluster the one over PostgreSQL (coordinator-backends.ts).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server as SocketServer } from 'socket.io';
import { DASHBOARD_NAMESPACE, VOLUNTEER_NAMESPACE } from '../shared/protocol.ts';
import { DEFAULT_GUARD_LIMITS } from './connection-guard.ts';
import { loadConfig, type CoordinatorConfig, type StoreKind } from './config.ts';
import { DashboardFeed, type DashboardNamespace } from './dashboard-feed.ts';
import { clusterBackend, singleBackend, type Backend, type BackendWiring } from './coordinator-backends.ts';
import { createHttpApi, sameSecret } from './http-api.ts';
import type { SchedulerService } from './scheduler-service.ts';
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
  /** The in-memory scheduler, or in a cluster the one over PostgreSQL (coordinator-backends.ts). */
  scheduler: SchedulerService;
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
  // The scheduler tells the gateway and the feed, which are made once it exists.
  const targets: { gateway?: VolunteerGateway; feed?: DashboardFeed } = {};
  const metrics = new CoordinatorMetrics();
  const wiring: BackendWiring = {
    listener: {
      workAvailable: (volunteerIds) => targets.gateway?.announceWork(volunteerIds),
      revoke: (volunteerId, taskIds, reason) => targets.gateway?.revoke(volunteerId, taskIds, reason),
      yieldTasks: (volunteerId, max) => targets.gateway?.askToYield(volunteerId, max),
      changed: () => targets.feed?.changed(),
    },
    metrics: metrics.events,
    now,
    log,
  };
  const { databaseUrl } = config;
  let backend: Backend;
  if (databaseUrl && typeof storeOption !== 'object') {
    backend = await clusterBackend({ ...config, databaseUrl }, wiring);
  } else {
    const store = typeof storeOption === 'object' ? storeOption : openStore(config);
    try {
      backend = singleBackend(store, typeof storeOption !== 'object', config, wiring);
    } catch (error) {
      if (typeof storeOption !== 'object') store.close();
      throw error;
    }
  }
  try {
    return await serve(backend, config, { token, now, log, metrics, targets });
  } catch (error) {
    // A coordinator that never started must not keep its database open.
    await backend.close();
    throw error;
  }
}

/**
 * Deletes uploads no job claimed within `retentionMs`, at once and then every tenth of
 * it (at least 50 ms, at most 10 minutes apart): an upload outlives its retention by
 * that much at most, and a directory of a few uploads costs one listing per sweep.
 */
function sweepUploads(uploads: Backend['uploads'], retentionMs: number, now: () => number, log: Logger): NodeJS.Timeout | undefined {
  if (retentionMs <= 0) return undefined;
  const sweep = () => {
    // A sweep that failed (a permission changed under us, the database away) is tried again at the next one; it must not end the coordinator.
    const failed = (error: unknown) => log.error({ err: error }, 'sweeping expired uploads failed');
    try {
      void Promise.resolve(uploads.expire(now(), retentionMs)).then((expired) => {
        for (const id of expired) log.info({ uploadId: id }, 'upload deleted: no job used it within the upload retention');
      }, failed);
    } catch (error) {
      failed(error);
    }
  };
  sweep();
  const timer = setInterval(sweep, Math.min(10 * 60_000, Math.max(50, retentionMs / 10)));
  timer.unref();
  return timer;
}

/**
 * Calls the scheduler's `tick` every `intervalMs`. A tick that answers a promise (a
 * database's transaction) is waited for: the next one is skipped until it settles, so
 * slow ticks never pile up, and one that fails is logged and tried again at the next.
 */
function sweepLeases(scheduler: SchedulerService, intervalMs: number, now: () => number, log: Logger): NodeJS.Timeout {
  let ticking = false;
  const timer = setInterval(() => {
    if (ticking) return;
    const ticked = scheduler.tick(now());
    if (!(ticked instanceof Promise)) return;
    ticking = true;
    void ticked.catch((error: unknown) => log.error({ err: error }, "the scheduler's tick failed")).finally(() => (ticking = false));
  }, intervalMs);
  timer.unref();
  return timer;
}

function openStore(config: CoordinatorConfig): JobStore {
  return config.store === 'memory' ? new MemoryStore() : new SqliteStore(config.dataDir);
}

interface Serving {
  token: string | undefined;
  now: () => number;
  log: Logger;
  metrics: CoordinatorMetrics;
  targets: { gateway?: VolunteerGateway; feed?: DashboardFeed };
}

async function serve(backend: Backend, config: CoordinatorConfig, { token, now, log, metrics, targets }: Serving): Promise<Coordinator> {
  const { scheduler, files, disk, stored } = backend;
  metrics.observe(scheduler);
  const handleApi = createHttpApi(scheduler, {
    maxBodyBytes: config.maxBodyBytes,
    maxFileBytes: config.maxFileBytes,
    maxMessageBytes: config.maxMessageBytes,
    files,
    uploads: backend.uploads,
    ...(backend.stageUploads ? { stageUploads: backend.stageUploads } : {}),
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
  const gateway = new VolunteerGateway(io.of(VOLUNTEER_NAMESPACE) as unknown as VolunteerNamespace, scheduler, {
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
  const feed = new DashboardFeed(dashboards as unknown as DashboardNamespace, scheduler, config.dashboardIntervalMs, log);
  Object.assign(targets, { gateway, feed });

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.port, config.host, () => {
      httpServer.off('error', reject);
      resolve();
    });
  });
  // Started once listening: a coordinator that failed to listen leaves no timer behind.
  const sweeper = sweepLeases(scheduler, config.sweepIntervalMs, now, log);
  disk.watch(config.diskCheckIntervalMs);
  const uploadSweeper = sweepUploads(backend.uploads, config.uploadRetentionMs, now, log);
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
      feed.close();
      await io.close();
      httpServer.closeAllConnections();
      // Last: closing the sockets above still writes through the store (abandoned leases).
      await backend.close();
    },
  };
}
