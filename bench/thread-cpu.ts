/**
 * Where the CPU time of a run went, thread by thread: the coordinator's and every
 * Chromium process's threads, read from /proc/PID/task/TID/stat before and after, and
 * summed by what the thread does (a tab's job workers, its page thread, V8's helper
 * threads, the browser process...). On two shared cores this is the profile that says
 * what a benchmark's wall time is made of; a V8 CPU profile cannot, since it samples
 * one thread's wall clock and counts time spent waiting for a core as work.
 */
import { readdirSync } from 'node:fs';
import { chromiumRole, descendants, readProc, statCpuSeconds } from './lib.ts';

/** CPU seconds per thread, keyed "pid/tid", with the label of the thread's group. */
type Snapshot = Map<string, { group: string; seconds: number }>;

export interface CpuShare {
  group: string;
  seconds: number;
}

/** What a process is: the coordinator, or a Chromium process (lib.ts `chromiumRole`). */
function roleOf(pid: number, coordinatorPid: number | undefined): string | undefined {
  return pid === coordinatorPid ? 'coordinator' : chromiumRole(pid);
}

/**
 * The group a thread's time is reported under. Linux keeps the first 15 bytes of a
 * thread's name: "DedicatedWorker thread" is "DedicatedWorker", "ThreadPoolForegroundWorker"
 * is "ThreadPoolForeg".
 */
function groupOf(role: string, comm: string, isMainThread: boolean): string {
  if (role === 'coordinator') return isMainThread ? 'coordinator: main thread (JS, Socket.IO, SQLite)' : 'coordinator: other threads (GC, libuv, SQLite WAL)';
  if (role === 'renderer') {
    if (comm.startsWith('DedicatedWorker')) return 'tabs: Web Workers (job code and the task runtime)';
    if (isMainThread) return 'tabs: page main thread (Socket.IO, Comlink, the page)';
    if (comm.startsWith('ThreadPool')) return 'tabs: V8 and Blink helper threads (concurrent GC, compiling)';
    return 'tabs: other renderer threads (IO, compositor)';
  }
  if (role === 'browser') return 'Chromium browser process (IPC, sockets)';
  return `Chromium ${role}`;
}

function snapshot(coordinatorPid: number | undefined): Snapshot {
  const threads: Snapshot = new Map();
  const pids = [...(coordinatorPid !== undefined ? [coordinatorPid] : []), ...descendants(process.pid)];
  for (const pid of new Set(pids)) {
    const role = roleOf(pid, coordinatorPid);
    if (role === undefined) continue;
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      const stat = readProc(pid, `task/${tid}/stat`);
      if (!stat) continue;
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      threads.set(`${pid}/${tid}`, { group: groupOf(role, comm, String(pid) === tid), seconds: statCpuSeconds(stat) });
    }
  }
  return threads;
}

/**
 * Measures the CPU time the coordinator and this process's Chromium descendants spend
 * between `start()` and `stop()`. Threads that ended before `stop()` are lost (Linux
 * forgets them), so a run should keep its tabs and workers alive until then.
 */
export class ThreadCpu {
  readonly #coordinatorPid: number | undefined;
  #before: Snapshot = new Map();

  constructor(coordinatorPid: number | undefined) {
    this.#coordinatorPid = coordinatorPid;
  }

  start(): void {
    this.#before = snapshot(this.#coordinatorPid);
  }

  /** CPU seconds per group since `start()`, the biggest first. */
  stop(): CpuShare[] {
    const totals = new Map<string, number>();
    for (const [key, { group, seconds }] of snapshot(this.#coordinatorPid)) {
      const spent = seconds - (this.#before.get(key)?.seconds ?? 0);
      if (spent > 0) totals.set(group, (totals.get(group) ?? 0) + spent);
    }
    return [...totals].map(([group, seconds]) => ({ group, seconds })).sort((a, b) => b.seconds - a.seconds);
  }
}

/** Table rows: group, CPU seconds, share of all, and CPU ms per `unit` (e.g. per MB of input). */
export function cpuShareRows(shares: readonly CpuShare[], units: number, unitName: string): string[][] {
  const total = shares.reduce((sum, share) => sum + share.seconds, 0);
  const row = (group: string, seconds: number) => [group, seconds.toFixed(2), `${((seconds / total) * 100).toFixed(0)}%`, ((seconds * 1000) / units).toFixed(0)];
  return [['where the CPU time went', 'CPU s', 'share', `ms/${unitName}`], ...shares.filter((share) => share.seconds >= 0.01).map((share) => row(share.group, share.seconds)), row('total', total)];
}
