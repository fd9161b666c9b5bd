/**
 * How the volunteer tabs of one browser share its cores: the decisions, pure. Three
 * tabs of one browser on a 2-core machine used to start 2 workers each, 6 busy threads
 * on 2 cores; together they now run at most `navigator.hardwareConcurrency` workers.
 * The browser part (Web Locks, BroadcastChannel) is core-share-locks.ts.
 *
 * What the tabs of one browser profile share, all of it in its Web Locks:
 *
 *   tabreduce-tab:<joinedAtMs>:<tabId>:<seq>:<wish>   held by each tab while it is open:
 *                                                     who is here, since when, wanting how many
 *   tabreduce-core-<i>, 0 <= i < cores                 a tab runs one worker per core lock it holds
 *
 * A lock is released when its tab closes or crashes, so the set of held locks is always
 * the truth, which no list kept by messages could promise. Every tab reads it
 * (`navigator.locks.query()`) and computes the same fair share for each tab
 * (`allocateCores`); a BroadcastChannel message only says "look again".
 *
 *   ┌─ joined / wish changed / a tab left / a core was released ──────────────────┐
 *   ▼                                                                             │
 *   read the locks ─▶ share = allocateCores(...)[me] ─┬─ held > share: workers = share;
 *                                                     │   release a core once its worker
 *                                                     │   has finished its task
 *                                                     ├─ held < share: wait for free cores
 *                                                     └─ held = share: nothing to do
 *
 * The fair share is max-min over the wishes (the worker counts the tabs' users chose):
 * no tab gets more than it wished for, no core stays idle while some tab wants it, and
 * a tab short of its wish has at most one core less than any other. Ties go to the tab
 * that came first, so a newcomer takes the smaller part, and takes nothing only while
 * there are more tabs than cores (it gets a core when one closes). First come, first
 * served (each tab keeps what it could take) was simpler but unfair: one tab set to
 * every core would leave every later tab idle for as long as it stays open. The lock on
 * each core is what keeps the total at most `cores` even while two tabs read the locks
 * at different moments and briefly disagree.
 */

/** The prefix of the lock each tab holds while it is open. */
export const TAB_LOCK_PREFIX = 'tabreduce-tab:';
/** The prefix of the lock on each core: `tabreduce-core-0` .. `tabreduce-core-<cores - 1>`. */
export const CORE_LOCK_PREFIX = 'tabreduce-core-';
/** The BroadcastChannel on which tabs tell each other to read the locks again. */
export const CORE_SHARE_CHANNEL = 'tabreduce-cores';

export const coreLockName = (core: number): string => `${CORE_LOCK_PREFIX}${core}`;

/** One tab as its presence lock describes it. */
export interface TabPresence {
  id: string;
  /** When the tab joined (`Date.now()`), in ms: the older tab wins a tie. */
  joinedAtMs: number;
  /** Bumped at each change of wish, so that of two locks of one tab (changing), the newer counts. */
  seq: number;
  /** Workers the tab wants: its user's choice, 0 while paused. */
  wish: number;
}

export const presenceLockName = (tab: TabPresence): string => `${TAB_LOCK_PREFIX}${tab.joinedAtMs}:${tab.id}:${tab.seq}:${tab.wish}`;

/** The tab a presence lock's name describes; undefined for any other name. */
export function parsePresence(name: string): TabPresence | undefined {
  if (!name.startsWith(TAB_LOCK_PREFIX)) return undefined;
  const parts = name.slice(TAB_LOCK_PREFIX.length).split(':');
  if (parts.length !== 4) return undefined;
  const [joined, id, seq, wish] = parts as [string, string, string, string];
  const numbers = [Number(joined), Number(seq), Number(wish)];
  if (id === '' || !numbers.every((n) => Number.isSafeInteger(n) && n >= 0)) return undefined;
  return { id, joinedAtMs: numbers[0]!, seq: numbers[1]!, wish: numbers[2]! };
}

/** The part of a `LockManagerSnapshot` read here. */
export interface LockSnapshotLike {
  held?: readonly { name?: string; mode?: string }[];
}

export interface SharedLocks {
  /** Every open tab once (its newest presence lock), oldest first. */
  tabs: TabPresence[];
  /** The presence lock names of `tabs`, by tab id: what to watch to learn a tab left. */
  lockNames: Map<string, string>;
  /** Cores whose lock some tab holds. */
  heldCores: Set<number>;
}

/**
 * Reads who is here and which cores are taken from the held locks. Only exclusive holds
 * count: the other tabs watch a tab's presence lock with shared requests, granted (for a
 * moment) once it is gone, and such a hold must not make it look present. Pending
 * requests are ignored.
 */
export function readLocks(snapshot: LockSnapshotLike, cores: number): SharedLocks {
  const newest = new Map<string, { tab: TabPresence; name: string }>();
  const heldCores = new Set<number>();
  for (const { name, mode } of snapshot.held ?? []) {
    if (name === undefined || mode === 'shared') continue;
    if (name.startsWith(CORE_LOCK_PREFIX)) {
      const core = Number(name.slice(CORE_LOCK_PREFIX.length));
      if (Number.isInteger(core) && core >= 0 && core < cores) heldCores.add(core);
      continue;
    }
    const tab = parsePresence(name);
    if (!tab) continue;
    const seen = newest.get(tab.id);
    if (!seen || tab.seq > seen.tab.seq) newest.set(tab.id, { tab, name });
  }
  const entries = [...newest.values()].sort((a, b) => compareTabs(a.tab, b.tab));
  return { tabs: entries.map((entry) => entry.tab), lockNames: new Map(entries.map((entry) => [entry.tab.id, entry.name])), heldCores };
}

/** Older first; the id breaks a tie of two tabs that joined in the same millisecond. */
function compareTabs(a: TabPresence, b: TabPresence): number {
  return a.joinedAtMs - b.joinedAtMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/**
 * The max-min fair share of `cores` among `tabs`, by tab id: cores are dealt one at a
 * time, round the tabs oldest first, skipping those that have what they wish for. So
 * each tab gets min(wish, about cores / tabs), what a modest tab leaves goes to the
 * others, the shares sum to min(cores, total wish), and a remainder goes to the oldest.
 */
export function allocateCores(cores: number, tabs: readonly TabPresence[]): Map<string, number> {
  const ordered = [...tabs].sort(compareTabs);
  const share = new Map(ordered.map((tab) => [tab.id, 0]));
  let left = Math.max(0, Math.floor(cores));
  for (;;) {
    const wanting = ordered.filter((tab) => share.get(tab.id)! < tab.wish);
    if (wanting.length === 0 || left === 0) return share;
    for (const tab of wanting) {
      if (left === 0) break;
      share.set(tab.id, share.get(tab.id)! + 1);
      left--;
    }
  }
}

/**
 * This tab's share, from the tabs the locks show and this tab as it is now (which the
 * locks may not show yet, or show with its previous wish while it changes).
 */
export function shareOf(cores: number, tabs: readonly TabPresence[], self: TabPresence): number {
  const others = tabs.filter((tab) => tab.id !== self.id);
  return allocateCores(cores, [...others, self]).get(self.id) ?? 0;
}

/**
 * The cores to let go of now: those beyond the share, but never one whose worker is
 * still finishing a task (`workersAlive` counts retiring workers too). The highest
 * numbers go first; which ones does not matter.
 */
export function coresToRelease(share: number, held: readonly number[], workersAlive: number): number[] {
  const sorted = [...held].sort((a, b) => a - b);
  const keep = Math.max(share, Math.min(workersAlive, sorted.length));
  return sorted.slice(keep);
}

/** The cores to wait for: every one this tab lacks while it holds fewer than its share, none otherwise. */
export function coresToWaitFor(share: number, held: readonly number[], cores: number): number[] {
  if (held.length >= share) return [];
  const mine = new Set(held);
  return Array.from({ length: cores }, (_, core) => core).filter((core) => !mine.has(core));
}

/** What the volunteer page shows about this tab's workers, and what explains them. */
export interface CoreShareView {
  /** False where the browser lacks Web Locks or BroadcastChannel: each tab then runs what it is set to, as before. */
  coordinated: boolean;
  /** Whether the tab has read the locks once (until then it runs nothing). */
  settled: boolean;
  /** The device's logical cores (`navigator.hardwareConcurrency`). */
  cores: number;
  /** The worker count chosen on this page. */
  chosen: number;
  /** Paused (by hand, hidden, on battery): the tab wishes for no worker, so its cores go to the other tabs. */
  paused: boolean;
  /** Workers this tab runs now. */
  workers: number;
  /** Its fair share: `workers` moves to it, down after the running tasks, up once cores are free. */
  share: number;
  /** Other volunteer tabs of this browser. */
  otherTabs: number;
  /** Cores those tabs hold. */
  othersHold: number;
}

const count = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** One sentence: how many workers this tab runs, and why that many. */
export function describeCoreShare(view: CoreShareView): string {
  const workers = view.workers === 0 ? 'No workers' : count(view.workers, 'worker');
  if (!view.coordinated) return `${workers}, as chosen: this browser cannot share its cores among its tabs, so each runs what it is set to`;
  if (!view.settled) return `${workers} yet: agreeing with this browser's other volunteer tabs on its ${count(view.cores, 'core')}`;
  if (view.paused) {
    return view.workers === 0
      ? `${workers} while paused: this browser's other volunteer tabs may use its cores`
      : `${workers} until the running ${view.workers === 1 ? 'task ends' : 'tasks end'}, then none while paused`;
  }
  if (view.workers > view.share) return `${workers}, ${view.share} once the running ${view.workers - view.share === 1 ? 'task ends' : 'tasks end'}: another tab of this browser takes its share of the ${count(view.cores, 'core')}`;
  if (view.workers < view.share) return `${workers}, ${view.share} as soon as another tab of this browser hands over ${view.share - view.workers === 1 ? 'a core' : 'cores'} after its running task`;
  if (view.otherTabs === 0) return `${workers}, as chosen`;
  const others = `this browser's ${view.otherTabs === 1 ? 'other volunteer tab runs' : `${view.otherTabs} other volunteer tabs run`} ${view.othersHold} of its ${count(view.cores, 'core')}`;
  if (view.workers >= view.chosen) return `${workers}, as chosen; ${others}`;
  if (view.workers === 0) return `${workers} of the ${view.chosen} chosen: ${others}; this tab gets its share when one of them closes or runs fewer`;
  return `${workers} of the ${view.chosen} chosen: ${others}`;
}
