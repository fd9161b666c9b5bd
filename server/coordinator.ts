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
import { createHttpApi, sameSecret } from './http-api.ts';
import { InputFiles } from './input-files.ts';
import { DEFAULT_BACKUP_POLICY, Scheduler } from './scheduler/scheduler.ts';
import { VolunteerGateway, type VolunteerNamespace } from './socket-gateway.ts';
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
  log?: (message: string) => void;
}

export interface Coordinator {
  config: CoordinatorConfig;
  httpServer: HttpServer;
  scheduler: Scheduler;
  /** The base URL once listening, e.g. http://127.0.0.1:3000. */
  url: string;
  close(): Promise<void>;
}

export async function startCoordinator(options: CoordinatorOptions = {}): Promise<Coordinator> {
  const { store: storeOption, token, now = Date.now, log = (message: string) => console.log(message), ...overrides } = options;
  const config = loadConfig(typeof storeOption === 'string' ? { ...overrides, store: storeOption } : overrides);
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

function openStore(config: CoordinatorConfig): JobStore {
  return config.store === 'memory' ? new MemoryStore() : new SqliteStore(config.dataDir);
}

interface Wiring {
  /** Whether close() closes the store: only a store the coordinator opened itself. */
  ownsStore: boolean;
  token: string | undefined;
  now: () => number;
  log: (message: string) => void;
}

async function startAround(store: JobStore, config: CoordinatorConfig, { ownsStore, token, now, log }: Wiring): Promise<Coordinator> {
  // Uploaded files live beside a durable store; a memory store gets a scratch directory
  // that goes away with it, so nothing it held outlives it.
  const scratchDir = store instanceof MemoryStore ? mkdtempSync(path.join(tmpdir(), 'tabreduce-files-')) : undefined;
  const files = new InputFiles(scratchDir ?? config.dataDir);
  let gateway: VolunteerGateway | undefined;
  let feed: DashboardFeed | undefined;
  const scheduler = new Scheduler(
    store,
    {
      leaseMs: config.leaseMs,
      taskTimeoutMs: config.taskTimeoutMs,
      backups: { ...DEFAULT_BACKUP_POLICY, minRunningMs: config.backupAfterMs },
      resultRetentionMs: config.resultRetentionMs,
      maxStrikes: config.maxStrikes,
      newLeaseToken: () => randomUUID(),
    },
    {
      workAvailable: (volunteerIds) => gateway?.announceWork(volunteerIds),
      revoke: (volunteerId, taskIds, reason) => gateway?.revoke(volunteerId, taskIds, reason),
      changed: () => feed?.changed(),
      jobEnded: (jobId) => files.release(jobId),
    },
  );
  files.releaseAllBut(new Set(store.listJobs().map((job) => job.id)));
  const handleApi = createHttpApi(scheduler, {
    maxBodyBytes: config.maxBodyBytes,
    maxFileBytes: config.maxFileBytes,
    files,
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
    void handleApi(request, response)
      .then((handled) => (handled ? undefined : serveStatic(request, response)))
      .catch((error: unknown) => {
        log(`request ${request.url} failed: ${(error as Error).stack ?? String(error)}`);
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
  const address = httpServer.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    config: { ...config, port: address.port },
    httpServer,
    scheduler,
    url: `http://${host}:${address.port}`,
    async close() {
      clearInterval(sweeper);
      feed?.close();
      await io.close();
      httpServer.closeAllConnections();
      // Last: closing the sockets above still writes through the store (abandoned leases).
      if (ownsStore) store.close();
      if (scratchDir) rmSync(scratchDir, { recursive: true, force: true });
    },
  };
}
