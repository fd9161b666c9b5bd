/**
 * A cluster as it would run for real, for tests and benchmarks: a throwaway PostgreSQL,
 * `size` coordinator processes on one database, and nginx in front of them. Coordinators
 * can be killed as a crash would (SIGKILL) and started again on their own port, so nginx
 * sends them traffic again. Free of vitest and Playwright, so both can use it.
 */
import { startCoordinatorProcess, type CoordinatorProcess } from '../e2e/coordinator-process.ts';
import { startNginxProxy, type NginxProxy } from './nginx-proxy.ts';
import { startPostgres, type PostgresServer } from './postgres-server.ts';
import { freePort } from './local-services.ts';
import { killHard } from './process-rig.ts';

export interface ClusterRig {
  /** nginx's address: what volunteers, dashboards and clients use. */
  url: string;
  databaseUrl: string;
  /** The coordinators, by position; a killed one stays in place until restarted. */
  coordinators: CoordinatorProcess[];
  /** SIGKILL, as a crash would: no handler runs. */
  kill(index: number): Promise<void>;
  /** Starts coordinator `index` again on its port, so nginx sends it traffic again. */
  restart(index: number): Promise<CoordinatorProcess>;
  stop(): Promise<void>;
}

export interface ClusterRigOptions {
  size: number;
  /** Extra environment for every coordinator. */
  env?: Record<string, string>;
  /** A PostgreSQL server to use (a database is made on it); else one of its own. */
  postgres?: PostgresServer;
}

export async function startClusterRig(options: ClusterRigOptions): Promise<ClusterRig> {
  const postgres = options.postgres ?? (await startPostgres());
  const started: { coordinators: CoordinatorProcess[]; proxy?: NginxProxy } = { coordinators: [] };
  const stop = async () => {
    await started.proxy?.stop();
    await Promise.all(started.coordinators.map((coordinator) => coordinator.stop()));
    if (!options.postgres) await postgres.stop();
  };
  try {
    const databaseUrl = await postgres.createDatabase();
    const ports = await Promise.all(Array.from({ length: options.size }, () => freePort()));
    const envOf = (port: number) => ({
      TABREDUCE_DATABASE_URL: databaseUrl,
      // A dead coordinator's leases end within a second and a half of its last heartbeat.
      TABREDUCE_COORDINATOR_TIMEOUT_MS: '1500',
      PORT: String(port),
      ...options.env,
    });
    // One at a time: the first migrates the schema, and the others would only wait for its lock.
    for (const port of ports) started.coordinators.push(await startCoordinatorProcess(envOf(port)));
    started.proxy = await startNginxProxy(ports.map((port) => `127.0.0.1:${port}`));
    const proxy = started.proxy;
    return {
      url: proxy.url,
      databaseUrl,
      coordinators: started.coordinators,
      kill: (index) => killHard(started.coordinators[index]!),
      async restart(index) {
        await killHard(started.coordinators[index]!);
        const coordinator = await startCoordinatorProcess(envOf(ports[index]!));
        started.coordinators[index] = coordinator;
        return coordinator;
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
