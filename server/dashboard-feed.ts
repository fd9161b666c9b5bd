/**
 * Live updates for dashboards: a snapshot of jobs and volunteers, sent on connect and
 * after changes, at most once per interval so a busy scheduler does not flood browsers.
 */
import type { Namespace } from 'socket.io';
import type { CoordinatorToDashboardEvents, DashboardSnapshot, DashboardToCoordinatorEvents } from '../shared/protocol.ts';
import type { Logger } from './logger.ts';
import type { MaybePromise, SchedulerService } from './scheduler-service.ts';

/** How many jobs a snapshot carries; older ones are in `GET /api/jobs`. */
const SNAPSHOT_JOBS = 100;

export type DashboardNamespace = Namespace<DashboardToCoordinatorEvents, CoordinatorToDashboardEvents>;

export class DashboardFeed {
  private timer: NodeJS.Timeout | undefined;
  private lastSentMs = 0;

  constructor(
    private readonly namespace: DashboardNamespace,
    private readonly scheduler: SchedulerService,
    private readonly intervalMs: number,
    private readonly log: Logger,
  ) {
    namespace.on('connection', (socket) => {
      this.send((snapshot) => socket.emit('dashboard:snapshot', snapshot));
    });
  }

  /** Something changed: send a snapshot now, or at the end of the current interval. */
  changed(): void {
    if (this.timer) return;
    const wait = Math.max(0, this.lastSentMs + this.intervalMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.lastSentMs = Date.now();
      if (this.namespace.sockets.size > 0) this.send((snapshot) => this.namespace.emit('dashboard:snapshot', snapshot));
    }, wait);
  }

  close(): void {
    clearTimeout(this.timer);
  }

  /** Sends a snapshot once it is read: at once from a scheduler that answers at once. */
  private send(emit: (snapshot: DashboardSnapshot) => void): void {
    const snapshot = this.snapshot();
    if (snapshot instanceof Promise) snapshot.then(emit, (error: unknown) => this.log.error({ err: error }, 'reading a dashboard snapshot failed'));
    else emit(snapshot);
  }

  private snapshot(): MaybePromise<DashboardSnapshot> {
    const jobs = this.scheduler.listJobs();
    const cluster = this.scheduler.cluster();
    if (jobs instanceof Promise || cluster instanceof Promise) return Promise.all([jobs, cluster]).then(([listed, summary]) => trimmed(listed, summary));
    return trimmed(jobs, cluster);
  }
}

function trimmed(jobs: DashboardSnapshot['jobs'], cluster: DashboardSnapshot['cluster']): DashboardSnapshot {
  return { jobs: jobs.slice(0, SNAPSHOT_JOBS), cluster };
}
