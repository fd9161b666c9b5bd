/**
 * `GET /metrics`: the coordinator in the Prometheus text format, every name prefixed
 * `tabreduce_` (docs/operating.md lists them). Built on prom-client, the Node client
 * Prometheus itself points to, in a registry of our own so that two coordinators in one
 * process (the tests) never share counters.
 *
 * Counters and the task-duration histogram move as the scheduler reports events
 * (`SchedulerMetrics`); gauges (jobs by state, tasks by kind and state, volunteers,
 * slots) are read from the scheduler at each scrape, so they are never stale. The
 * process's own figures (CPU, memory, event-loop lag, GC) come from prom-client's
 * default metrics, under the same prefix.
 */
import type { ServerResponse } from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { TERMINAL_JOB_STATUSES, type JobStatus } from '../shared/job-lifecycle.ts';
import type { TaskKind } from '../shared/task.ts';
import type { SchedulerMetrics } from './scheduler/scheduler-options.ts';
import type { SchedulerService } from './scheduler-service.ts';

const PREFIX = 'tabreduce_';
const JOB_STATUSES: readonly JobStatus[] = ['queued', 'mapping', 'reducing', ...TERMINAL_JOB_STATUSES];
/** Task durations, lease to accepted answer, in seconds: from a tiny task's milliseconds to a long split's minutes. */
const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

export class CoordinatorMetrics {
  readonly registry = new Registry();
  /** What the scheduler calls as events happen. */
  readonly events: SchedulerMetrics;
  #scheduler: SchedulerService | undefined;

  constructor() {
    const registers = [this.registry];
    const completed = new Counter({ name: `${PREFIX}tasks_completed_total`, help: 'Tasks that got their accepted answer, by kind.', labelNames: ['kind'], registers });
    const failed = new Counter({ name: `${PREFIX}tasks_failed_total`, help: 'Task attempts whose job code failed on a volunteer (threw, timed out, answered wrong), by kind.', labelNames: ['kind'], registers });
    const expired = new Counter({ name: `${PREFIX}leases_expired_total`, help: 'Leases that reached their deadline without an answer or a renewal.', registers });
    const backups = new Counter({ name: `${PREFIX}backup_copies_total`, help: 'Backup copies started for slow tasks.', registers });
    const votesLost = new Counter({ name: `${PREFIX}votes_lost_total`, help: 'Answers outvoted on replicated or spot-checked tasks.', registers });
    const bytesOut = new Counter({ name: `${PREFIX}bytes_out_total`, help: 'Task input sent to volunteers, in bytes.', registers });
    const bytesIn = new Counter({ name: `${PREFIX}bytes_in_total`, help: 'Task output received from volunteers, in bytes.', registers });
    const duration = new Histogram({
      name: `${PREFIX}task_duration_seconds`,
      help: 'Time from a task\'s winning lease to its accepted answer, by kind.',
      labelNames: ['kind'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    // Both kinds appear from the first scrape, at 0, so a rate over them is defined at once.
    for (const kind of ['map', 'reduce'] satisfies TaskKind[]) {
      completed.inc({ kind }, 0);
      failed.inc({ kind }, 0);
      duration.zero({ kind });
    }
    this.events = {
      taskDone: (kind, durationMs) => {
        completed.inc({ kind });
        duration.observe({ kind }, durationMs / 1000);
      },
      taskFailed: (kind) => failed.inc({ kind }),
      leaseExpired: () => expired.inc(),
      backupStarted: () => backups.inc(),
      votesLost: (count) => votesLost.inc(count),
      bytesSent: (bytes) => bytesOut.inc(bytes),
      bytesReceived: (bytes) => bytesIn.inc(bytes),
    };

    const scheduler = () => this.#scheduler;
    new Gauge({
      name: `${PREFIX}jobs`,
      help: 'Jobs held, by state.',
      labelNames: ['state'],
      registers,
      async collect() {
        const counts = new Map<JobStatus, number>(JOB_STATUSES.map((state) => [state, 0]));
        for (const job of (await scheduler()?.listJobs()) ?? []) counts.set(job.state, counts.get(job.state)! + 1);
        for (const [state, count] of counts) this.set({ state }, count);
      },
    });
    new Gauge({
      name: `${PREFIX}tasks`,
      help: 'Tasks of the jobs still running, by kind and state (waiting, running, done).',
      labelNames: ['kind', 'state'],
      registers,
      async collect() {
        const counts = await scheduler()?.liveTaskCounts();
        if (!counts) return;
        for (const kind of ['map', 'reduce'] as const) {
          for (const state of ['waiting', 'running', 'done'] as const) this.set({ kind, state }, counts[kind][state]);
        }
      },
    });
    new Gauge({
      name: `${PREFIX}volunteers`,
      help: 'Volunteers connected.',
      registers,
      async collect() {
        this.set((await scheduler()?.cluster())?.volunteers ?? 0);
      },
    });
    new Gauge({
      name: `${PREFIX}worker_slots`,
      help: 'Worker slots of the volunteers connected, by use (busy: running a task, idle).',
      labelNames: ['use'],
      registers,
      async collect() {
        const cluster = await scheduler()?.cluster();
        this.set({ use: 'busy' }, cluster?.busySlots ?? 0);
        this.set({ use: 'idle' }, Math.max(0, (cluster?.slots ?? 0) - (cluster?.busySlots ?? 0)));
      },
    });
    collectDefaultMetrics({ register: this.registry, prefix: PREFIX });
  }

  /** The scheduler the gauges read; it is built after this (it takes `events`). */
  observe(scheduler: SchedulerService): void {
    this.#scheduler = scheduler;
  }

  async serve(response: ServerResponse): Promise<void> {
    const text = await this.registry.metrics();
    response.writeHead(200, { 'content-type': this.registry.contentType, 'cache-control': 'no-store' });
    response.end(text);
  }
}
