/**
 * The browser part of core sharing (the decisions and the lock names are in
 * core-share.ts): holds this tab's presence lock and its core locks, watches the other
 * tabs' presence locks to learn when one leaves, and listens on a BroadcastChannel for
 * "look again". Every change is handled by one loop, one pass at a time:
 *
 *   read the locks ─▶ this tab's share ─▶ workers = min(share, cores held)
 *                                        ─▶ release the cores beyond the share whose workers are gone
 *                                        ─▶ while short: a queued request on every core it lacks
 *
 * A queued core request is granted the moment another tab releases that core, or
 * closes, or crashes: that is the rebalancing, with no timer. A grant this tab no
 * longer needs is released at its next pass.
 *
 * Where the browser has no Web Locks or no BroadcastChannel, or the locks fail (an
 * opaque origin), each tab runs the workers it is set to, as tabs did before.
 */
import { CORE_SHARE_CHANNEL, coreLockName, coresToRelease, coresToWaitFor, presenceLockName, readLocks, shareOf, type CoreShareView, type LockSnapshotLike, type TabPresence } from './core-share.ts';

/** What is used of `navigator.locks`; a fake in the unit tests. */
export interface LocksLike {
  request(name: string, options: { mode?: 'exclusive' | 'shared'; ifAvailable?: boolean; signal?: AbortSignal }, callback: (lock: unknown) => unknown): Promise<unknown>;
  query(): Promise<LockSnapshotLike>;
}

/** A "look again" channel between the tabs of one browser. */
export interface ChannelLike {
  post(): void;
  close(): void;
}

export interface CoreShareOptions {
  /** The device's logical cores. */
  cores: number;
  /** Web Locks (`navigator.locks`); undefined where the browser has none. */
  locks: LocksLike | undefined;
  /** Opens the channel, calling `onMessage` for each message another tab posts; undefined where there is none. */
  openChannel: ((onMessage: () => void) => ChannelLike) | undefined;
  /** The worker count chosen on the page. */
  chosen: number;
  /** Runs this many workers (VolunteerClient.setSlots): lowering it retires workers after their running task. */
  setWorkers(count: number): void;
  /** Workers alive now, retiring ones included (WorkerPool.workerCount). */
  workersAlive(): number;
  /** Called with the new view after each change. */
  onChange(view: CoreShareView): void;
  /** Default `Date.now`. */
  now?: () => number;
  /** This tab's id; default random. */
  tabId?: string;
}

interface Held {
  /** Lets go of the lock; resolves once the lock manager has (so a "look again" sent after it finds the core free). */
  release(): Promise<void>;
}

/**
 * Requests a lock. Resolves once it is granted, with the means to release it; with
 * `ifAvailable`, with undefined when it is taken. Rejects when the request is aborted
 * or the lock manager refuses.
 */
function hold(locks: LocksLike, name: string, options: { ifAvailable?: boolean; signal?: AbortSignal }): Promise<Held | undefined> {
  return new Promise((resolve, reject) => {
    const done: Promise<unknown> = locks.request(name, options, (lock) => {
      if (!lock) return resolve(undefined);
      // The lock is held until this promise settles.
      return new Promise<void>((letGo) => resolve({ release: () => (letGo(), done.then(() => undefined, () => undefined)) }));
    });
    done.catch(reject);
  });
}

const isAbort = (error: unknown) => (error as { name?: unknown } | null)?.name === 'AbortError';

export class CoreShare {
  readonly #options: CoreShareOptions;
  /** Undefined without coordination: the APIs are missing, or they failed. */
  #locks: LocksLike | undefined;
  #self: TabPresence;
  #presence: { tab: TabPresence; held: Held } | undefined;
  readonly #cores = new Map<number, Held>();
  /** Queued requests for cores this tab lacks, while it holds fewer than its share. */
  readonly #waits = new Map<number, AbortController>();
  /** Watches on the other tabs' presence locks, by lock name: granted when that tab leaves or changes its wish. */
  readonly #watches = new Map<string, AbortController>();
  #channel: ChannelLike | undefined;
  #chosen: number;
  #paused = false;
  #workers = 0;
  #share = 0;
  /** A core was granted since the other tabs were last told. */
  #granted = false;
  #view: CoreShareView;
  #started = false;
  #stopped = false;
  #passRunning = false;
  #passAgain = false;

  constructor(options: CoreShareOptions) {
    this.#options = options;
    this.#chosen = options.chosen;
    this.#locks = options.locks && options.openChannel ? options.locks : undefined;
    const id = options.tabId ?? Math.random().toString(36).slice(2, 10);
    this.#self = { id, joinedAtMs: (options.now ?? Date.now)(), seq: 0, wish: this.#wish() };
    this.#view = this.#viewOf({ settled: false, otherTabs: 0, othersHold: 0 });
  }

  get view(): CoreShareView {
    return this.#view;
  }

  /** Joins the other tabs (or, without the APIs, starts the chosen workers). */
  start(): void {
    if (this.#started || this.#stopped) return;
    this.#started = true;
    if (!this.#locks) return this.#uncoordinated();
    try {
      this.#channel = this.#options.openChannel!(() => this.#schedule());
    } catch {
      this.#locks = undefined;
      return this.#uncoordinated();
    }
    this.#schedule();
  }

  /** The worker count chosen on the page changed. */
  setChosen(chosen: number): void {
    if (chosen === this.#chosen) return;
    this.#chosen = chosen;
    this.#wishChanged();
  }

  /** The tab stopped or resumed taking work: paused, it wishes for no worker. */
  setPaused(paused: boolean): void {
    if (paused === this.#paused) return;
    this.#paused = paused;
    this.#wishChanged();
  }

  /** Call after the executor changed (a task ended): a core may be waiting for its retiring worker to go. */
  workersChanged(): void {
    if (this.#cores.size > this.#share && this.#options.workersAlive() < this.#cores.size) this.#schedule();
  }

  /** Leaves: releases every lock and stops listening. The workers are left to their owner. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const controller of [...this.#waits.values(), ...this.#watches.values()]) controller.abort();
    this.#waits.clear();
    this.#watches.clear();
    for (const held of this.#cores.values()) void held.release();
    this.#cores.clear();
    void this.#presence?.held.release();
    this.#presence = undefined;
    this.#channel?.close();
    this.#channel = undefined;
  }

  #wish(): number {
    return this.#paused ? 0 : Math.max(0, Math.min(this.#chosen, this.#options.cores));
  }

  #wishChanged(): void {
    if (!this.#started || this.#stopped) return;
    if (!this.#locks) return this.#uncoordinated();
    this.#schedule();
  }

  /** Without coordination: the chosen count, as tabs always did. */
  #uncoordinated(): void {
    this.#apply(this.#chosen);
    this.#share = this.#chosen;
    this.#publish({ coordinated: false, settled: true, otherTabs: 0, othersHold: 0 });
  }

  /** Runs a pass now, or once the running one ends. */
  #schedule(): void {
    if (this.#stopped || !this.#started || !this.#locks) return;
    if (this.#passRunning) {
      this.#passAgain = true;
      return;
    }
    this.#passRunning = true;
    void this.#loop();
  }

  async #loop(): Promise<void> {
    try {
      do {
        this.#passAgain = false;
        await this.#pass();
      } while (this.#passAgain && !this.#stopped);
    } catch (error) {
      if (this.#stopped) return;
      // The locks failed us (a storage partition gone, an opaque origin): run as tabs did before.
      console.warn('tabreduce: cannot share cores with the other tabs:', error);
      this.#fallBack();
    } finally {
      this.#passRunning = false;
    }
  }

  async #pass(): Promise<void> {
    const locks = this.#locks!;
    let changed = await this.#announce(locks);
    if (this.#stopped) return;
    const seen = readLocks(await locks.query(), this.#options.cores);
    if (this.#stopped) return;
    this.#watchOthers(locks, seen.lockNames);
    const heldBefore = new Set(this.#cores.keys());
    const othersHold = [...seen.heldCores].filter((core) => !heldBefore.has(core)).length;
    const share = shareOf(this.#options.cores, seen.tabs, this.#self);
    this.#share = share;
    // Down first, so that a core is let go only once its worker has finished its task.
    this.#apply(Math.min(share, this.#cores.size));
    const release = coresToRelease(share, [...this.#cores.keys()], this.#options.workersAlive());
    for (const core of release) {
      const held = this.#cores.get(core)!;
      this.#cores.delete(core);
      await held.release();
      changed = true;
    }
    if (this.#stopped) return;
    this.#waitForCores(locks, coresToWaitFor(share, [...this.#cores.keys()], this.#options.cores));
    this.#apply(Math.min(share, this.#cores.size));
    if (changed || this.#granted) {
      this.#granted = false;
      this.#channel?.post();
    }
    this.#publish({ coordinated: true, settled: true, otherTabs: seen.tabs.filter((tab) => tab.id !== this.#self.id).length, othersHold });
  }

  /** Holds the presence lock for the current wish (the new one before the old goes); true when it changed. */
  async #announce(locks: LocksLike): Promise<boolean> {
    const wish = this.#wish();
    if (this.#presence && this.#presence.tab.wish === wish) return false;
    const tab: TabPresence = { ...this.#self, seq: this.#presence ? this.#presence.tab.seq + 1 : 0, wish };
    // A name no other tab uses: granted at once.
    const held = await hold(locks, presenceLockName(tab), { ifAvailable: true });
    if (!held) throw new Error(`the lock ${presenceLockName(tab)} is taken`);
    if (this.#stopped) {
      void held.release();
      return false;
    }
    const previous = this.#presence;
    this.#presence = { tab, held };
    this.#self = tab;
    if (previous) await previous.held.release();
    return true;
  }

  /** Keeps one watch on each other tab's presence lock, and none on locks that are gone. */
  #watchOthers(locks: LocksLike, lockNames: Map<string, string>): void {
    const wanted = new Set([...lockNames].filter(([id]) => id !== this.#self.id).map(([, name]) => name));
    for (const [name, controller] of this.#watches) {
      if (wanted.has(name)) continue;
      controller.abort();
      this.#watches.delete(name);
    }
    for (const name of wanted) {
      if (this.#watches.has(name)) continue;
      const controller = new AbortController();
      this.#watches.set(name, controller);
      // Granted once that tab lets go of it: it closed, crashed, or changed its wish.
      // Shared, so that every tab watching is granted at once, and so that readLocks does
      // not take the watcher's brief hold for the tab still being there (exclusive
      // watches were passed from watcher to watcher, each seeing the departed tab present).
      locks.request(name, { mode: 'shared', signal: controller.signal }, () => {
        if (this.#watches.get(name) === controller) this.#watches.delete(name);
        this.#schedule();
      }).catch((error: unknown) => {
        if (!isAbort(error)) this.#schedule();
      });
    }
  }

  /** Keeps a queued request on exactly the cores in `cores`. */
  #waitForCores(locks: LocksLike, cores: number[]): void {
    const wanted = new Set(cores);
    for (const [core, controller] of this.#waits) {
      if (wanted.has(core)) continue;
      controller.abort();
      this.#waits.delete(core);
    }
    for (const core of wanted) {
      if (this.#waits.has(core)) continue;
      const controller = new AbortController();
      this.#waits.set(core, controller);
      hold(locks, coreLockName(core), { signal: controller.signal }).then(
        (held) => {
          if (this.#waits.get(core) === controller) this.#waits.delete(core);
          if (!held) return;
          if (this.#stopped || !this.#locks || this.#cores.has(core)) return void held.release();
          // Kept even if no longer needed (a race with an abort): the next pass releases what is beyond the share.
          this.#cores.set(core, held);
          this.#granted = true;
          this.#schedule();
        },
        (error: unknown) => {
          if (this.#waits.get(core) === controller) this.#waits.delete(core);
          if (!isAbort(error)) this.#schedule();
        },
      );
    }
  }

  /** Gives up on the locks for good: lets go of what it holds, and runs the chosen count from now on. */
  #fallBack(): void {
    for (const controller of [...this.#waits.values(), ...this.#watches.values()]) controller.abort();
    this.#waits.clear();
    this.#watches.clear();
    for (const held of this.#cores.values()) void held.release().catch(() => undefined);
    this.#cores.clear();
    // Released too, so that the other tabs keep no share for a tab that no longer takes part.
    void this.#presence?.held.release().catch(() => undefined);
    this.#presence = undefined;
    this.#channel?.close();
    this.#channel = undefined;
    this.#locks = undefined;
    this.#uncoordinated();
  }

  #apply(workers: number): void {
    if (workers === this.#workers) return;
    this.#workers = workers;
    this.#options.setWorkers(workers);
  }

  #viewOf(parts: Pick<CoreShareView, 'settled' | 'otherTabs' | 'othersHold'> & { coordinated?: boolean }): CoreShareView {
    return {
      coordinated: parts.coordinated ?? this.#locks !== undefined,
      settled: parts.settled,
      cores: this.#options.cores,
      chosen: this.#chosen,
      paused: this.#paused,
      workers: this.#workers,
      share: this.#share,
      otherTabs: parts.otherTabs,
      othersHold: parts.othersHold,
    };
  }

  #publish(parts: Pick<CoreShareView, 'coordinated' | 'settled' | 'otherTabs' | 'othersHold'>): void {
    const next = this.#viewOf(parts);
    const before = this.#view;
    if ((Object.keys(next) as (keyof CoreShareView)[]).every((key) => next[key] === before[key])) return;
    this.#view = next;
    this.#options.onChange(next);
  }
}
