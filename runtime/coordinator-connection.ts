/**
 * The volunteer's connection to the coordinator: the socket, its lifecycle
 * (volunteer-lifecycle.ts) with the one retry timer its deadlines ask for, the hello, and
 * the heartbeat of each welcomed connection. It knows nothing of tasks: `VolunteerClient`
 * hears through `ConnectionHooks` when work may flow, when a session ends and when to
 * renew, and tags its work with the session it belongs to.
 */
import type { io, ManagerOptions, SocketOptions } from 'socket.io-client';
import { VOLUNTEER_NAMESPACE } from '../shared/protocol.ts';
import { callCoordinator, describeFailure, type AckedEvent, type CallRequest, type CallResult, type CallValue, type VolunteerSocket } from './coordinator-call.ts';
import type { Heartbeat, StartHeartbeat } from './heartbeat.ts';
import { initialLifecycle, retryDueAtMs, sessionOf, transitionVolunteer, VolunteerTransitionError } from './volunteer-lifecycle.ts';
import type { VolunteerEvent, VolunteerLifecycle } from './volunteer-lifecycle.ts';

/** Everything a connection needs, with the client's defaults already applied. */
export interface ConnectionOptions {
  /** The coordinator's origin. */
  url: string;
  /** What the hello says this volunteer is, already cut to size. */
  agent: string;
  /** The slots the hello announces, read at each hello. */
  slots: () => number;
  /** socket.io-client's `io`. */
  io: typeof io;
  /** How long to wait for any ack, in ms. */
  ackTimeoutMs: number;
  /** Wait before resending a failed hello or reopening a socket Socket.IO gave up on, in ms. */
  retryMs: number;
  /** Where each welcomed connection's renewal beat comes from (heartbeat.ts). */
  heartbeat: StartHeartbeat;
  /** Extra Socket.IO options (transports, reconnection delays). */
  socketOptions: Partial<ManagerOptions & SocketOptions> | undefined;
}

/** What the connection tells its client; each hook is called synchronously, as the change happens. */
export interface ConnectionHooks {
  /** The connection as the page shows it changed (`connectionView` of the lifecycle). */
  changed(): void;
  /** Something went wrong, as one readable line. */
  failed(message: string): void;
  /** Welcomed (again): work may be asked for. */
  welcomed(): void;
  /** The session ended (the socket dropped, or the client stopped): whatever was leased on it goes. */
  ended(): void;
  /** A beat of the welcomed connection's heartbeat: time to renew leases. */
  beat(): void;
  /** The coordinator says new work may be available. */
  workAvailable(): void;
  /** The coordinator took these tasks back. */
  revoked(taskIds: readonly string[]): void;
  /** The coordinator asks for up to `max` tasks not started yet back, for an idle volunteer. */
  yieldRequested(max: number): void;
}

export class CoordinatorConnection {
  readonly #socket: VolunteerSocket;
  readonly #options: ConnectionOptions;
  readonly #hooks: ConnectionHooks;
  #lifecycle: VolunteerLifecycle = initialLifecycle();
  /** Drives renewal while welcomed; one per welcome. */
  #heartbeat: Heartbeat | undefined;
  /** Fires at the lifecycle's retry deadline, `#retryTimerDueAtMs`. */
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #retryTimerDueAtMs: number | undefined;

  constructor(options: ConnectionOptions, hooks: ConnectionHooks) {
    this.#options = options;
    this.#hooks = hooks;
    this.#socket = options.io(options.url + VOLUNTEER_NAMESPACE, {
      autoConnect: false,
      // Each client gets its own connection (socket.io would otherwise share one per
      // origin), so several volunteers in one process stay independent.
      forceNew: true,
      // WebSocket only: behind a load balancer over many coordinators (docs/scaling.md),
      // HTTP long-polling would need every request of a session on one coordinator.
      transports: ['websocket'],
      ...options.socketOptions,
    });
    this.#socket.on('connect', () => this.#onConnect());
    this.#socket.on('disconnect', (reason) => this.#onDisconnect(reason));
    this.#socket.on('connect_error', (error) => this.#onConnectError(error));
    this.#socket.on('work:available', () => hooks.workAvailable());
    this.#socket.on('task:revoke', ({ taskIds }) => {
      // A malformed list is ignored rather than thrown on inside Socket.IO's dispatch.
      if (Array.isArray(taskIds)) hooks.revoked(taskIds);
    });
    this.#socket.on('tasks:yield', (request) => {
      const max = request?.max;
      if (Number.isSafeInteger(max) && max > 0) hooks.yieldRequested(max);
    });
  }

  get lifecycle(): VolunteerLifecycle {
    return this.#lifecycle;
  }

  /** The session work is tagged with now; undefined before start and after stop. */
  get session(): number | undefined {
    return sessionOf(this.#lifecycle);
  }

  /** Welcomed on the current connection: only then may it ask for work. */
  get ready(): boolean {
    return this.#lifecycle.status === 'ready';
  }

  /** Whether `session` is the live one: work tagged with an older one is never reported. */
  isCurrent(session: number): boolean {
    return this.session === session;
  }

  /** Opens the socket; false when it is open or opening already, or stopped. */
  start(): boolean {
    if (this.#socket.active || !this.#move({ type: 'start' })) return false;
    this.#socket.connect();
    return true;
  }

  /** Closes the socket for good, ending the session; false when stopped already. */
  stop(): boolean {
    if (this.#lifecycle.status === 'stopped') return false;
    // Fires 'disconnect' at once when connected, which ends the session.
    this.#socket.disconnect();
    this.#socket.removeAllListeners();
    this.#endSession();
    this.#move({ type: 'stop' });
    this.#hooks.changed();
    return true;
  }

  /** Sends `event` and waits for its ack, at most the ack timeout; never throws. */
  call<E extends AckedEvent>(event: E, request: CallRequest<E>): Promise<CallResult<CallValue<E>>> {
    return callCoordinator(this.#socket, event, request, this.#options.ackTimeoutMs);
  }

  /** Tells the coordinator the new slot count, when welcomed (a later hello says it otherwise). */
  announceSlots(slots: number): void {
    if (this.ready) this.#socket.emit('volunteer:slots', { slots });
  }

  /** The coordinator answered NOT_READY on `session`: it forgot us (a restart), so introduce ourselves again. */
  forgotten(session: number): void {
    if (this.#move({ type: 'forgotten', session })) void this.#hello();
  }

  /** Marks a lease renewal as out; false (send none) unless welcomed with none out already. */
  beginRenewal(): boolean {
    return this.#move({ type: 'renew-sent' });
  }

  /** The renewal sent on `session` was answered, or never will be. */
  endRenewal(session: number): void {
    this.#move({ type: 'renew-settled', session });
  }

  #onConnect(): void {
    if (!this.#move({ type: 'connected' })) return;
    this.#hooks.changed();
    void this.#hello();
  }

  #onDisconnect(reason: string): void {
    this.#endSession();
    // Socket.IO reconnects by itself except when the server closed the socket on purpose;
    // the lifecycle then sets a deadline to reconnect anyway.
    this.#move({ type: 'disconnected', serverClosed: reason === 'io server disconnect' });
    this.#hooks.changed();
  }

  #onConnectError(error: Error): void {
    this.#hooks.failed(`cannot reach the coordinator: ${error.message}`);
    // `active` is false when the server refused the connection (not a network failure):
    // Socket.IO then gives up, so the lifecycle sets a deadline to retry.
    this.#move({ type: 'connect-failed', socketGaveUp: !this.#socket.active });
  }

  #onRetryDue(): void {
    this.#retryTimer = undefined;
    this.#retryTimerDueAtMs = undefined;
    if (!this.#move({ type: 'retry-due' })) return;
    if (this.#lifecycle.status === 'greeting') void this.#hello();
    else if (!this.#socket.active) this.#socket.connect();
  }

  /** Forgets what belongs to the current connection here (its heartbeat), and lets the client do the same. */
  #endSession(): void {
    this.#heartbeat?.stop();
    this.#heartbeat = undefined;
    this.#hooks.ended();
  }

  async #hello(): Promise<void> {
    const session = this.session!;
    const announced = this.#options.slots();
    const reply = await this.call('volunteer:hello', { agent: this.#options.agent, slots: announced });
    if (!reply.ok) {
      if (this.#move({ type: 'hello-failed', session })) this.#hooks.failed(describeFailure(reply.failure, 'the coordinator did not welcome this volunteer'));
      return;
    }
    if (!this.#move({ type: 'welcomed', session, welcome: reply.value }) || this.#lifecycle.status !== 'ready') return;
    // The slot count changed while the hello was out (a page that applies its saved
    // worker count as it connects): `announceSlots` said nothing then, so say it now.
    if (this.#options.slots() !== announced) this.#socket.emit('volunteer:slots', { slots: this.#options.slots() });
    this.#heartbeat?.stop();
    this.#heartbeat = this.#options.heartbeat(this.#lifecycle.renewEveryMs, () => this.#hooks.beat());
    this.#hooks.welcomed();
  }

  /**
   * Applies a lifecycle event; false when it was refused: an answer that belongs to an
   * older connection, or a socket event that does not apply, both left without effect.
   */
  #move(event: VolunteerEvent): boolean {
    const next = transitionVolunteer(this.#lifecycle, event, performance.now(), { retryMs: this.#options.retryMs });
    const applied = !(next instanceof VolunteerTransitionError);
    if (applied) this.#lifecycle = next;
    this.#syncRetryTimer();
    return applied;
  }

  /** Keeps the one retry timer on the lifecycle's deadline, and sets it again when it fired early. */
  #syncRetryTimer(): void {
    const dueAtMs = retryDueAtMs(this.#lifecycle);
    if (dueAtMs === this.#retryTimerDueAtMs) return;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#retryTimerDueAtMs = dueAtMs;
    if (dueAtMs !== undefined) this.#retryTimer = setTimeout(() => this.#onRetryDue(), Math.max(0, dueAtMs - performance.now()));
  }
}
