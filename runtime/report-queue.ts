/**
 * Task ends on their way to the coordinator: every end queued in one turn leaves in one
 * `tasks:report` (several, past LIMITS.tasksPerMessage), and each waits for its own
 * outcome in the answer. A worker answers a batch of tasks at once, so their ends go
 * together: one message and one commit for the lot, not one of each per task.
 */
import { LIMITS } from '../shared/limits.ts';
import type { TaskEnd } from '../shared/task-batch.ts';
import type { CallFailure } from './coordinator-call.ts';

/** What became of one reported end: recorded, or why not. */
export type ReportOutcome = { ok: true } | { ok: false; failure: CallFailure };

/** Sends the ends leased on `session` as one report; answers one outcome per end, in order. */
export type SendReport = (session: number, ends: TaskEnd[]) => Promise<ReportOutcome[]>;

interface Queued {
  session: number;
  end: TaskEnd;
  settle: (outcome: ReportOutcome) => void;
}

export class ReportQueue {
  readonly #send: SendReport;
  #queue: Queued[] = [];
  #flushQueued = false;

  constructor(send: SendReport) {
    this.#send = send;
  }

  /** Queues an end leased on `session`; resolves with its outcome once the report is answered. Never rejects. */
  add(session: number, end: TaskEnd): Promise<ReportOutcome> {
    return new Promise<ReportOutcome>((settle) => {
      this.#queue.push({ session, end, settle });
      if (this.#flushQueued) return;
      this.#flushQueued = true;
      // At the end of the turn, when every end the turn produced is queued.
      queueMicrotask(() => {
        this.#flushQueued = false;
        this.#flush();
      });
    });
  }

  #flush(): void {
    const queue = this.#queue;
    this.#queue = [];
    const bySession = new Map<number, Queued[]>();
    for (const entry of queue) {
      const list = bySession.get(entry.session);
      if (list) list.push(entry);
      else bySession.set(entry.session, [entry]);
    }
    for (const [session, entries] of bySession) {
      for (let at = 0; at < entries.length; at += LIMITS.tasksPerMessage) {
        const chunk = entries.slice(at, at + LIMITS.tasksPerMessage);
        void this.#send(
          session,
          chunk.map((entry) => entry.end),
        ).then(
          (outcomes) => chunk.forEach((entry, i) => entry.settle(outcomes[i] ?? missing)),
          (error: unknown) => {
            const failure: ReportOutcome = { ok: false, failure: { kind: 'unanswered', reason: `the report could not be sent: ${String(error)}` } };
            for (const entry of chunk) entry.settle(failure);
          },
        );
      }
    }
  }
}

const missing: ReportOutcome = { ok: false, failure: { kind: 'unanswered', reason: 'the coordinator answered the report without an outcome for this task' } };
