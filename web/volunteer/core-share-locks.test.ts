/**
 * CoreShare with several tabs of one "browser": a fake lock manager with the Web Locks
 * rules that matter here (exclusive locks granted in request order, `ifAvailable`,
 * aborting a queued request, the callback's promise holding the lock, every lock of a
 * tab released when it crashes) and a fake BroadcastChannel. Throughout, the workers
 * alive in all tabs together must never exceed the cores. Real Chromium runs in
 * e2e/core-share.spec.ts.
 */
import { afterEach, describe, expect, test, vi } from 'vitest';
import type { LockSnapshotLike } from './core-share.ts';
import { CoreShare, type ChannelLike, type LocksLike } from './core-share-locks.ts';

interface Request {
  tab: string;
  mode: 'exclusive' | 'shared';
  callback: (lock: unknown) => unknown;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/** The Web Locks and BroadcastChannel of one browser profile, shared by its tabs. */
class FakeBrowser {
  readonly #held = new Map<string, Request[]>();
  readonly #queues = new Map<string, Request[]>();
  readonly #channels = new Map<string, () => void>();
  readonly crashed = new Set<string>();
  failQueries = false;

  locksFor(tab: string): LocksLike {
    return {
      request: (name, options, callback) =>
        new Promise((resolve, reject) => {
          // A crashed tab's document does nothing more.
          if (this.crashed.has(tab)) return;
          const request: Request = { tab, mode: options.mode ?? 'exclusive', callback, resolve, reject };
          if (options.signal?.aborted) return reject(new DOMException('aborted', 'AbortError'));
          const queue = this.#queues.get(name) ?? [];
          this.#queues.set(name, queue);
          if (options.ifAvailable && !(queue.length === 0 && this.#grantable(name, request))) {
            return void Promise.resolve()
              .then(() => callback(null))
              .then(resolve, reject);
          }
          queue.push(request);
          options.signal?.addEventListener('abort', () => {
            const index = queue.indexOf(request);
            if (index < 0) return;
            queue.splice(index, 1);
            reject(new DOMException('aborted', 'AbortError'));
          });
          this.#process(name);
        }),
      query: async (): Promise<LockSnapshotLike> => {
        if (this.crashed.has(tab)) return new Promise(() => {});
        if (this.failQueries) throw new DOMException('the storage is gone', 'InvalidStateError');
        return { held: [...this.#held].flatMap(([name, holders]) => holders.map((holder) => ({ name, mode: holder.mode }))) };
      },
    };
  }

  channelFor(tab: string) {
    return (onMessage: () => void): ChannelLike => {
      this.#channels.set(tab, onMessage);
      return {
        post: () => {
          for (const [other, deliver] of this.#channels) if (other !== tab) setTimeout(() => this.#channels.get(other) === deliver && deliver(), 0);
        },
        close: () => void this.#channels.delete(tab),
      };
    };
  }

  /** The tab's document is gone: its locks are released, its queued requests dropped, its channel closed. */
  crash(tab: string): void {
    this.crashed.add(tab);
    this.#channels.delete(tab);
    for (const queue of this.#queues.values()) queue.splice(0, queue.length, ...queue.filter((request) => request.tab !== tab));
    for (const [name, holders] of [...this.#held]) for (const holder of holders) if (holder.tab === tab) this.#release(name, holder);
  }

  /** Exclusive: nobody holds it. Shared: nobody holds it exclusively. */
  #grantable(name: string, request: Request): boolean {
    const holders = this.#held.get(name) ?? [];
    return holders.length === 0 || (request.mode === 'shared' && holders.every((holder) => holder.mode === 'shared'));
  }

  /** Grants queued requests in order, as long as the first can be granted. */
  #process(name: string): void {
    const queue = this.#queues.get(name) ?? [];
    while (queue.length > 0 && this.#grantable(name, queue[0]!)) this.#grant(name, queue.shift()!);
  }

  #grant(name: string, request: Request): void {
    this.#held.set(name, [...(this.#held.get(name) ?? []), request]);
    void Promise.resolve()
      .then(() => request.callback({ name, mode: request.mode }))
      .then(
        (value) => {
          this.#release(name, request);
          request.resolve(value);
        },
        (error: unknown) => {
          this.#release(name, request);
          request.reject(error);
        },
      );
  }

  #release(name: string, request: Request): void {
    const holders = this.#held.get(name) ?? [];
    if (!holders.includes(request)) return;
    const rest = holders.filter((holder) => holder !== request);
    if (rest.length > 0) this.#held.set(name, rest);
    else this.#held.delete(name);
    this.#process(name);
  }
}

/** One volunteer tab: its CoreShare and a stand-in pool whose busy workers finish when the test says. */
class FakeTab {
  workers = 0;
  /** Workers in the middle of a task: a retiring one stays alive until its task ends. */
  busy = 0;
  readonly share: CoreShare;

  constructor(
    readonly browser: FakeBrowser,
    readonly id: string,
    { chosen = 2, cores = 2, joinedAtMs = 0, coordinated = true } = {},
    onWorkers: () => void = () => {},
  ) {
    this.share = new CoreShare({
      cores,
      chosen,
      locks: coordinated ? browser.locksFor(id) : undefined,
      openChannel: coordinated ? browser.channelFor(id) : undefined,
      tabId: id,
      now: () => joinedAtMs,
      setWorkers: (count) => {
        this.workers = count;
        onWorkers();
      },
      workersAlive: () => this.alive,
      onChange: () => {},
    });
    this.share.start();
  }

  get alive(): number {
    return this.browser.crashed.has(this.id) ? 0 : Math.max(this.workers, this.busy);
  }

  /** One busy worker finishes its task. */
  finishTask(): void {
    this.busy--;
    this.share.workersChanged();
  }
}

/** A browser with `cores` cores that fails the test if its tabs ever run more workers than that. */
function browserWith(cores: number) {
  const browser = new FakeBrowser();
  const tabs: FakeTab[] = [];
  let mostAlive = 0;
  const open = (id: string, options: { chosen?: number; joinedAtMs?: number; coordinated?: boolean } = {}) => {
    const tab = new FakeTab(browser, id, { cores, joinedAtMs: tabs.length + 1, ...options }, () => {
      mostAlive = Math.max(mostAlive, tabs.reduce((sum, each) => sum + each.alive, 0));
    });
    tabs.push(tab);
    return tab;
  };
  const workers = () => tabs.map((tab) => (browser.crashed.has(tab.id) ? 0 : tab.workers));
  return { browser, open, workers, mostAlive: () => mostAlive, stopAll: () => tabs.forEach((tab) => tab.share.stop()) };
}

/** Lets every pending message, grant and pass run. */
async function quiet(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setTimeout(resolve, 0));
}

let stopAll = () => {};
afterEach(() => stopAll());

describe('CoreShare', () => {
  test('three tabs on two cores run two workers between them; when one closes, the tab that had none takes its core', async () => {
    const machine = browserWith(2);
    stopAll = machine.stopAll;
    machine.open('a');
    await vi.waitFor(() => expect(machine.workers()).toEqual([2]));
    const b = machine.open('b');
    const c = machine.open('c');
    await vi.waitFor(() => expect(machine.workers()).toEqual([1, 1, 0]));
    await vi.waitFor(() => expect(c.share.view).toMatchObject({ settled: true, workers: 0, share: 0, otherTabs: 2, othersHold: 2 }));
    machine.browser.crash('a');
    await vi.waitFor(() => expect(machine.workers()).toEqual([0, 1, 1]));
    await vi.waitFor(() => expect(b.share.view).toMatchObject({ workers: 1, otherTabs: 1, othersHold: 1 }));
    expect(machine.mostAlive()).toBeLessThanOrEqual(2);
  });

  test("a newcomer gets its core only once the old tab's running task has ended", async () => {
    const machine = browserWith(2);
    stopAll = machine.stopAll;
    const a = machine.open('a');
    await vi.waitFor(() => expect(a.workers).toBe(2));
    a.busy = 2;
    const b = machine.open('b');
    await vi.waitFor(() => expect(a.workers).toBe(1));
    await quiet();
    expect(b.workers).toBe(0);
    expect(b.share.view).toMatchObject({ workers: 0, share: 1 });
    a.finishTask();
    await vi.waitFor(() => expect(b.workers).toBe(1));
    expect(machine.mostAlive()).toBeLessThanOrEqual(2);
  });

  test('pausing hands the cores to the other tabs; resuming takes the share back', async () => {
    const machine = browserWith(2);
    stopAll = machine.stopAll;
    const a = machine.open('a');
    machine.open('b');
    await vi.waitFor(() => expect(machine.workers()).toEqual([1, 1]));
    a.share.setPaused(true);
    await vi.waitFor(() => expect(machine.workers()).toEqual([0, 2]));
    expect(a.share.view).toMatchObject({ paused: true, workers: 0 });
    a.share.setPaused(false);
    await vi.waitFor(() => expect(machine.workers()).toEqual([1, 1]));
    expect(machine.mostAlive()).toBeLessThanOrEqual(2);
  });

  test('a tab that chooses fewer workers leaves the rest to the others, and gets them back when it asks', async () => {
    const machine = browserWith(4);
    stopAll = machine.stopAll;
    machine.open('a', { chosen: 4 });
    const b = machine.open('b', { chosen: 4 });
    await vi.waitFor(() => expect(machine.workers()).toEqual([2, 2]));
    b.share.setChosen(1);
    await vi.waitFor(() => expect(machine.workers()).toEqual([3, 1]));
    b.share.setChosen(4);
    await vi.waitFor(() => expect(machine.workers()).toEqual([2, 2]));
    expect(machine.mostAlive()).toBeLessThanOrEqual(4);
  });

  test('a tab that stops lets go of its cores at once', async () => {
    const machine = browserWith(2);
    stopAll = machine.stopAll;
    const a = machine.open('a');
    machine.open('b');
    await vi.waitFor(() => expect(machine.workers()).toEqual([1, 1]));
    a.share.stop();
    await vi.waitFor(() => expect(machine.workers()[1]).toBe(2));
  });

  test('without Web Locks or BroadcastChannel, each tab runs what it is set to', () => {
    const machine = browserWith(2);
    stopAll = machine.stopAll;
    const a = machine.open('a', { coordinated: false });
    const b = machine.open('b', { coordinated: false });
    expect([a.workers, b.workers]).toEqual([2, 2]);
    expect(a.share.view).toMatchObject({ coordinated: false, workers: 2 });
    a.share.setChosen(1);
    expect(a.workers).toBe(1);
  });

  test('locks that fail give the chosen count, as before', async () => {
    const machine = browserWith(2);
    stopAll = machine.stopAll;
    machine.browser.failQueries = true;
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const a = machine.open('a', { chosen: 2 });
    await vi.waitFor(() => expect(a.share.view).toMatchObject({ coordinated: false, workers: 2 }));
    expect(warn).toHaveBeenCalled();
    warn.mockRestore();
  });
});
