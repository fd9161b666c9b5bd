/**
 * Free space on the disk that holds the coordinator's data: watched on a timer, so the
 * log says when it runs low even while nobody submits, and measured again before each
 * new job or upload, which is refused early, with a 507 that says where and how much,
 * while the writes of jobs already running still fit. When a write fails for want of
 * space anyway, the same 507 rather than a 500 or a crash.
 */
import type { Logger } from './logger.ts';
import { statfsSync, type StatsFs } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { TabreduceError } from '../shared/errors.ts';
import { formatBytes } from '../shared/format-bytes.ts';

export class DiskSpace {
  #freeBytes: number;
  #low = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    /** The directory whose filesystem is watched: the data directory. */
    readonly directory: string,
    /** Below this many free bytes new work is refused (TABREDUCE_MIN_FREE_BYTES). */
    readonly minFreeBytes: number,
    private readonly log: Logger,
  ) {
    this.#freeBytes = bytesFree(statfsSync(directory));
    this.#note();
  }

  /** Free bytes at the last measurement. */
  get freeBytes(): number {
    return this.#freeBytes;
  }

  /** Measures every `intervalMs` until `stop()`. */
  watch(intervalMs: number): void {
    this.#timer = setInterval(() => {
      statfs(this.directory).then(
        (stats) => this.#update(bytesFree(stats)),
        // A directory that cannot be measured keeps its last figure; its writes will tell.
        () => {},
      );
    }, intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** Measures now. */
  refresh(): number {
    try {
      this.#update(bytesFree(statfsSync(this.directory)));
    } catch {
      // As in watch(): the last figure stands.
    }
    return this.#freeBytes;
  }

  /**
   * Refuses `what` ("job", "upload") of about `bytes` with INSUFFICIENT_STORAGE when it
   * would leave less than `minFreeBytes` free.
   */
  requireRoom(what: string, bytes = 0): void {
    // Measured now, not at the last tick: a disk can fill (or be freed) within a second,
    // and a statfs costs microseconds, next to a job or an upload.
    if (this.refresh() - bytes >= this.minFreeBytes) return;
    const needs = bytes > 0 ? ` and this ${what} needs ${describeBytes(bytes)}` : '';
    throw new TabreduceError(
      'INSUFFICIENT_STORAGE',
      `${this.directory} has ${describeBytes(this.#freeBytes)} free; the coordinator keeps ${describeBytes(this.minFreeBytes)} free (TABREDUCE_MIN_FREE_BYTES)${needs}, so it refuses the ${what}: free some space and try again`,
    );
  }

  /** The refusal that a write failed for want of space becomes; undefined for any other error. */
  refusalFor(error: unknown): TabreduceError | undefined {
    if (!isDiskFull(error)) return undefined;
    return new TabreduceError(
      'INSUFFICIENT_STORAGE',
      `${this.directory} ran out of space, and has ${describeBytes(this.refresh())} free now: nothing was stored; free some space and try again`,
    );
  }

  #update(freeBytes: number): void {
    this.#freeBytes = freeBytes;
    this.#note();
  }

  /** Logs each crossing of the floor, once, rather than every refusal. */
  #note(): void {
    const low = this.#freeBytes < this.minFreeBytes;
    if (low === this.#low) return;
    this.#low = low;
    this.log[low ? 'warn' : 'info'](
      { directory: this.directory, freeBytes: this.#freeBytes, minFreeBytes: this.minFreeBytes },
      low
        ? `disk space low: ${this.directory} has ${describeBytes(this.#freeBytes)} free, under TABREDUCE_MIN_FREE_BYTES (${describeBytes(this.minFreeBytes)}): new jobs and uploads are refused, running jobs go on`
        : `disk space back: ${this.directory} has ${describeBytes(this.#freeBytes)} free: new jobs and uploads are taken again`,
    );
  }
}

/** Whether an error means the disk had no room: ENOSPC or EDQUOT from Node, SQLITE_FULL from SQLite. */
export function isDiskFull(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT' || code === 'SQLITE_FULL';
}

/** What an unprivileged writer may still use (root's reserve not counted). */
function bytesFree(stats: StatsFs): number {
  return stats.bavail * stats.bsize;
}

/** "1.5 MiB (1572864 bytes)": readable, with the exact figure a script can parse. */
export function describeBytes(bytes: number): string {
  return bytes < 1024 ? `${bytes} bytes` : `${formatBytes(bytes)} (${bytes} bytes)`;
}
