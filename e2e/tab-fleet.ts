/**
 * A fleet of volunteer tabs for chaos tests. Every tab's WebSocket runs through a
 * Playwright route, so the fleet sees each task the coordinator hands a tab before the
 * tab does, and can close that tab right there: the kill is sure to land while the tab
 * holds a lease in the phase the test aimed at, however late a busy machine lets the
 * test process react.
 * Tabs speak to the coordinator over WebSocket only (runtime/coordinator-connection.ts),
 * so no task reaches a tab any other way.
 */
import { expect, type Browser, type Page, type WebSocketRoute } from '@playwright/test';
import { openVolunteer } from './fixtures.ts';

export type TaskKind = 'map' | 'reduce';

/**
 * - `before-delivery`: the tab is closed instead of receiving the task: it holds the
 *   lease but never starts.
 * - `after-delivery`: the tab receives the task and is closed at once, while it runs.
 */
export type KillMoment = 'before-delivery' | 'after-delivery';

/** A tab the fleet closed, and what it held. */
export interface Kill {
  kind: TaskKind;
  /** The count of tasks of this kind handed to the fleet, that triggered it. */
  nth: number;
  moment: KillMoment;
  /** The tasks in the message that triggered it: leased to the tab as it closed. */
  taskIds: string[];
}

interface Trap {
  kind: TaskKind;
  nth: number;
  moment: KillMoment;
  sprung: (kill: Kill) => void;
}

/** Volunteer tabs, each in its own browser context, whose sockets the fleet relays and can cut. */
export class TabFleet {
  readonly #browser: Browser;
  readonly #baseUrl: string;
  readonly #tabs = new Set<Page>();
  readonly #handedOut: Record<TaskKind, number> = { map: 0, reduce: 0 };
  #traps: Trap[] = [];
  /** Openings and closings under way; `settle` waits for them. */
  readonly #pending = new Set<Promise<unknown>>();
  /** Failures of openings and closings nobody awaited; `settle` throws the first. */
  readonly #failures: unknown[] = [];

  constructor(browser: Browser, baseUrl: string) {
    this.#browser = browser;
    this.#baseUrl = baseUrl;
  }

  /** Tabs open or opening, the ones being closed excluded. */
  get size(): number {
    return this.#tabs.size;
  }

  /**
   * Opens a volunteer tab whose WebSocket the fleet watches; resolves once the tab is
   * welcomed, or once the fleet closed it if that came first.
   */
  open(): Promise<Page> {
    let opened: Page | undefined;
    const opening = openVolunteer(this.#browser, this.#baseUrl, async (page) => {
      opened = page;
      this.#tabs.add(page);
      await page.routeWebSocket(/\/socket\.io\//, (route) => this.#relay(page, route));
    }).catch((error: unknown) => {
      // Closed by the fleet while it was being welcomed: the chaos working, not a failure.
      if (opened && !this.#tabs.has(opened)) return opened;
      throw error;
    });
    return this.#track(opening);
  }

  /**
   * Closes the tab that is handed the `nth` task of `kind` (counted over the fleet,
   * retries and backups included), at `moment`, and opens a tab in its place.
   * Resolves once the tab is closed.
   */
  closeOnTask(kind: TaskKind, nth: number, moment: KillMoment): Promise<Kill> {
    return new Promise((sprung) => this.#traps.push({ kind, nth, moment, sprung }));
  }

  /** Waits for every opening and closing under way; throws the first that failed. */
  async settle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled(this.#pending);
    if (this.#failures.length > 0) throw this.#failures[0];
  }

  /** Every tab of the fleet says it is connected. */
  async expectAllConnected(): Promise<void> {
    for (const page of this.#tabs) await expect(page.getByTestId('connection-status')).toHaveText('connected');
  }

  /** Closes every tab. */
  async closeAll(): Promise<void> {
    await this.settle();
    await Promise.all([...this.#tabs].map((page) => page.context().close()));
    this.#tabs.clear();
  }

  /** Connects the tab's socket to the coordinator, passing every message on except those a trap stops. */
  #relay(page: Page, route: WebSocketRoute): void {
    const server = route.connectToServer();
    // Messages from the page go on to the coordinator untouched (the default).
    server.onMessage((message) => {
      // A tab being closed gets nothing more, and what it is sent counts for nobody.
      if (!this.#tabs.has(page)) return;
      const trap = typeof message === 'string' ? this.#springTrap(message) : undefined;
      if (trap?.moment !== 'before-delivery') route.send(message);
      if (!trap) return;
      this.#tabs.delete(page);
      const closing = Promise.all([server.close(), route.close()]).then(() => page.context().close());
      void this.#track(closing).then(() => trap.sprung(trap.kill));
      void this.open();
    });
  }

  /** Counts the tasks a message hands out; answers the trap they spring, if any. */
  #springTrap(message: string): (Trap & { kill: Kill }) | undefined {
    // A task:request answer lists its tasks as JSON ({"kind":"map","taskId":...}); their
    // binary inputs follow in frames of their own. No other message names a task kind.
    const kinds = [...message.matchAll(/"kind":"(map|reduce)"/g)].map((match) => match[1] as TaskKind);
    if (kinds.length === 0) return undefined;
    const taskIds = [...message.matchAll(/"taskId":"([^"]+)"/g)].map((match) => match[1]!);
    let sprung: (Trap & { kill: Kill }) | undefined;
    for (const kind of kinds) {
      const nth = ++this.#handedOut[kind];
      const trap = this.#traps.find((entry) => entry.kind === kind && entry.nth === nth);
      if (!trap || sprung) continue;
      this.#traps = this.#traps.filter((entry) => entry !== trap);
      sprung = { ...trap, kill: { kind, nth, moment: trap.moment, taskIds } };
    }
    // A second trap due in the same message (one tab, one request) waits for the next task.
    for (const trap of this.#traps) trap.nth = Math.max(trap.nth, this.#handedOut[trap.kind] + 1);
    return sprung;
  }

  #track<T>(work: Promise<T>): Promise<T> {
    this.#pending.add(work);
    work.then(
      () => this.#pending.delete(work),
      (error: unknown) => {
        this.#pending.delete(work);
        this.#failures.push(error);
      },
    );
    return work;
  }
}
