/**
 * Live updates for dashboards: a snapshot of jobs and volunteers, sent on connect and
 * after changes, at most once per interval so a busy scheduler does not flood browsers.
 */
import type { Namespace } from 'socket.io';
import type { CoordinatorToDashboardEvents, DashboardSnapshot, DashboardToCoordinatorEvents } from '../shared/protocol.ts';

/** How many jobs a snapshot carries; older ones are in `GET /api/jobs`. */
const SNAPSHOT_JOBS = 100;

export type DashboardNamespace = Namespace<DashboardToCoordinatorEvents, CoordinatorToDashboardEvents>;

export class DashboardFeed {
  private timer: NodeJS.Timeout | undefined;
  private lastSentMs = 0;

  constructor(
    private readonly namespace: DashboardNamespace,
    private readonly snapshot: () => DashboardSnapshot,
    private readonly intervalMs: number,
  ) {
    namespace.on('connection', (socket) => {
      socket.emit('dashboard:snapshot', this.trimmed());
    });
  }

  /** Something changed: send a snapshot now, or at the end of the current interval. */
  changed(): void {
    if (this.timer) return;
    const wait = Math.max(0, this.lastSentMs + this.intervalMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.lastSentMs = Date.now();
      if (this.namespace.sockets.size > 0) this.namespace.emit('dashboard:snapshot', this.trimmed());
    }, wait);
  }

  close(): void {
    clearTimeout(this.timer);
  }

  private trimmed(): DashboardSnapshot {
    const snapshot = this.snapshot();
    return { ...snapshot, jobs: snapshot.jobs.slice(0, SNAPSHOT_JOBS) };
  }
}
