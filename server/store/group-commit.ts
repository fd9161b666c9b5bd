/**
 * Group commit for the SQLite store: the writes of many scheduler calls join one
 * transaction, committed together, because a commit per write caps the coordinator far
 * below what tiny tasks need (the figures are in sqlite-store.ts).
 *
 * A group is committed when the first of these comes:
 * - `everyMs` after its first write, for writes nobody waits for (task changes);
 * - the end of the event-loop turn in which someone called `durable()`: an answer that
 *   says "stored" waits for that commit, never for the timer, and every waiter of one
 *   turn shares one commit. Measured with bench/dispatch.ts (20,000 tiny tasks, 4 tabs,
 *   before and after in one session): results acknowledged after their commit cost about
 *   3% saturated (662 and 668 tasks/s before, 633 and 653 after; coordinator CPU 8.5 s
 *   before, 8.8 to 9.3 s after) and nothing unsaturated (351 and 385 before, 403 and 400);
 * - `flush()`, which the scheduler calls before it answers a read.
 *
 * A group is all or nothing. When the disk refuses a write (a full disk, an I/O error),
 * the group is failed at once: its later writes are not run (SQLite may have rolled the
 * transaction back already, and a write outside one would commit on its own, half a
 * scheduler decision on disk), and at its commit it is rolled back whole. The rollback
 * listener then hears which jobs the group touched, before any further write, so their
 * owner can bring them back to what the store holds; the group's waiters are rejected,
 * so nothing that waited was ever told "stored".
 */
import type Database from 'better-sqlite3';

interface Waiter {
  resolve(): void;
  reject(error: unknown): void;
}

interface Group {
  /** The jobs this group's writes touched: what a rollback must report. */
  jobIds: Set<string>;
  waiters: Waiter[];
  /** The error that failed one of the group's writes: it will be rolled back, not committed. */
  failed?: unknown;
  timer: NodeJS.Timeout;
}

/** Listens for rolled-back groups: the jobs their writes touched, and why the group failed. */
export type RollbackListener = (jobIds: ReadonlySet<string>, error: unknown) => void;

export class GroupCommit {
  #group: Group | undefined;
  #commitScheduled = false;
  #rolledBack: RollbackListener = () => {};

  constructor(
    private readonly db: Database.Database,
    /** How long writes nobody waits for gather before they are committed, in ms. */
    private readonly everyMs: number,
  ) {}

  /**
   * Runs one write of job `jobId` inside the open group, opening one if none is. A write
   * the disk refuses fails the group instead of throwing, since the caller (a scheduler
   * decision halfway through) cannot undo what it did in memory; any other error (a
   * constraint, a bug) is thrown as before, and leaves the group as it was.
   */
  write(jobId: string, apply: () => void): void {
    const group = this.#group ?? this.#open();
    group.jobIds.add(jobId);
    if (group.failed !== undefined) return;
    try {
      apply();
    } catch (error) {
      if (!isStorageError(error)) throw error;
      group.failed = error;
      this.#commitSoon();
    }
  }

  /** Resolves once the open group is committed (at once when none is open); rejects when it is rolled back. */
  durable(): Promise<void> {
    const group = this.#group;
    if (!group) return Promise.resolve();
    return new Promise((resolve, reject) => {
      group.waiters.push({ resolve, reject });
      this.#commitSoon();
    });
  }

  /** Commits the open group now, or rolls it back when it failed; never throws for either. */
  flush(): void {
    const group = this.#group;
    if (!group) return;
    this.#group = undefined;
    clearTimeout(group.timer);
    let failure = group.failed;
    if (failure === undefined) {
      try {
        this.db.exec('COMMIT');
      } catch (error) {
        failure = error;
      }
    }
    if (failure === undefined) {
      for (const waiter of group.waiters) waiter.resolve();
      return;
    }
    // SQLite rolls a transaction back itself when its COMMIT fails for lack of space;
    // one whose write failed may still be open, and must not be committed later.
    try {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
    } catch {
      // Nothing more to undo by hand; the listener and the waiters must hear all the same.
    }
    try {
      this.#rolledBack(group.jobIds, failure);
    } finally {
      for (const waiter of group.waiters) waiter.reject(failure);
    }
  }

  onRollback(listener: RollbackListener): void {
    this.#rolledBack = listener;
  }

  #open(): Group {
    this.db.exec('BEGIN');
    const timer = setTimeout(() => this.flush(), this.everyMs);
    // A pending group must not keep a process alive that has nothing else to do.
    timer.unref();
    this.#group = { jobIds: new Set(), waiters: [], timer };
    return this.#group;
  }

  /** At the end of this event-loop turn, so that every write and waiter of the turn shares the commit. */
  #commitSoon(): void {
    if (this.#commitScheduled) return;
    this.#commitScheduled = true;
    setImmediate(() => {
      this.#commitScheduled = false;
      this.flush();
    });
  }
}

/** Whether SQLite refused a write for want of space or because the disk failed (SQLITE_FULL, SQLITE_IOERR_*). */
export function isStorageError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code === 'SQLITE_FULL' || code.startsWith('SQLITE_IOERR'));
}
