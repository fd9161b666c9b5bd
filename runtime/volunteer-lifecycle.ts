/**
 * The volunteer's connection lifecycle. One transition function, `transitionVolunteer`,
 * is the only way it changes state; an event that does not apply (an answer from an
 * older connection, a welcome with no hello out) is refused with a
 * VolunteerTransitionError. Pure: time comes in as `nowMs`; coordinator-connection.ts turns the
 * deadlines in a state (`retryAtMs`, `reconnectAtMs`) into its one retry timer.
 *
 *              start                connected                welcomed
 *    idle ───────────▶ connecting ─────────────▶ greeting ────────────▶ ready
 *                                        ┌─────▶ (hello out)              │
 *                                        │         │     ▲                │
 *                                        │  hello- │     │ retry-due:     │
 *                                        │  failed ▼     │ hello again    │
 *                                        │     greeting, retryAtMs        │ disconnected
 *                                        │                                │ (from greeting
 *                                        │ connected                      ▼  too)
 *                                        └────────────────────────── disconnected
 *
 *    ready ──forgotten (NOT_READY)──▶ greeting with forgottenWelcome: hello again on the
 *                                     same connection, while the runs go on
 *    ready ──renew-sent──▶ ready, renewing ──renew-settled──▶ ready
 *    connecting, disconnected ──connect-failed, Socket.IO gave up──▶ the same, reconnectAtMs
 *                             ──retry-due, or start──▶ the same, the socket reopened
 *    greeting, ready ──disconnected by the server on purpose──▶ disconnected, reconnectAtMs
 *    any but stopped ──stop──▶ stopped
 *
 * Each `connected` and `disconnected` starts a new session: work is tagged with the
 * session it was leased on, and an answer tagged with an older one is refused, since
 * the coordinator has already given that work to someone else. A renewal in flight
 * belongs to its session too, so a new connection renews at once.
 */
import type { VolunteerWelcome } from '../shared/protocol.ts';
import type { VolunteerState } from './volunteer-state.ts';

export type VolunteerLifecycle =
  /** Built, not started. */
  | { status: 'idle' }
  /**
   * Started, the socket opening (Socket.IO retries by itself). With `reconnectAtMs`, the
   * coordinator refused the connection and Socket.IO gave up: the client reopens it then.
   */
  | { status: 'connecting'; session: number; reconnectAtMs: number | undefined }
  /**
   * Connected, `volunteer:hello` out. With `retryAtMs`, the hello was refused or went
   * unanswered, and goes again then. `forgottenWelcome`: the welcome this connection had
   * before the coordinator forgot it (it restarted); the page keeps showing it, since
   * the runs go on.
   */
  | {
      status: 'greeting';
      session: number;
      retryAtMs: number | undefined;
      forgottenWelcome: VolunteerWelcome | undefined;
      /** A lease renewal of this session awaits its answer. */
      renewing: boolean;
    }
  /** Welcomed: tasks flow, and leases renew every `renewEveryMs`. */
  | {
      status: 'ready';
      session: number;
      welcome: VolunteerWelcome;
      renewEveryMs: number;
      /** A lease renewal awaits its answer: beats meanwhile are skipped (a tab unfrozen after a pause gets a burst of them). */
      renewing: boolean;
    }
  /**
   * The connection dropped and its runs with it; Socket.IO reconnects. With
   * `reconnectAtMs`, the server closed the socket on purpose and Socket.IO will not: the
   * client reconnects then anyway, since an open volunteer tab should keep volunteering
   * and whatever made the coordinator drop it (a restart, a refused message) may pass.
   */
  | { status: 'disconnected'; session: number; reconnectAtMs: number | undefined }
  /** Stopped for good. */
  | { status: 'stopped' };

export type VolunteerStatus = VolunteerLifecycle['status'];

export type VolunteerEvent =
  | { type: 'start' }
  /** The socket connected: a new session. */
  | { type: 'connected' }
  /** The socket could not connect; `socketGaveUp`: Socket.IO will not retry (the server refused, not the network). */
  | { type: 'connect-failed'; socketGaveUp: boolean }
  | { type: 'welcomed'; session: number; welcome: VolunteerWelcome }
  /** The hello was refused or went unanswered. */
  | { type: 'hello-failed'; session: number }
  /** The coordinator answered NOT_READY: it forgot this volunteer. */
  | { type: 'forgotten'; session: number }
  /** The retry timer fired for the state's `retryAtMs` or `reconnectAtMs`. */
  | { type: 'retry-due' }
  | { type: 'renew-sent' }
  | { type: 'renew-settled'; session: number }
  /** The socket closed; `serverClosed`: on purpose, by the server. */
  | { type: 'disconnected'; serverClosed: boolean }
  | { type: 'stop' };

/** What the transitions need to know besides the state and the time. */
export interface LifecyclePolicy {
  /** Wait before resending a failed hello or reopening a socket Socket.IO gave up on, in ms. */
  retryMs: number;
}

export class VolunteerTransitionError extends Error {
  constructor(
    readonly from: VolunteerStatus,
    readonly event: VolunteerEvent['type'],
    why: string,
  ) {
    super(`cannot ${event} a volunteer that is ${from}: ${why}`);
    this.name = 'VolunteerTransitionError';
  }
}

/** Bounds on the renewal interval (leaseMs / 3), in ms, whatever lease the coordinator hands out. */
export const RENEW_MIN_MS = 100;
export const RENEW_MAX_MS = 60_000;

/** How often to renew leases of length `leaseMs`, in ms: a third of it, within RENEW_MIN_MS..RENEW_MAX_MS. */
export function renewIntervalMs(leaseMs: number): number {
  return Math.min(RENEW_MAX_MS, Math.max(RENEW_MIN_MS, Math.floor(leaseMs / 3) || RENEW_MIN_MS));
}

export const initialLifecycle = (): VolunteerLifecycle => ({ status: 'idle' });

/** The session of the live connection (or of the one being opened); undefined before start and after stop. */
export function sessionOf(state: VolunteerLifecycle): number | undefined {
  return state.status === 'idle' || state.status === 'stopped' ? undefined : state.session;
}

/** When the retry timer should fire: a hello to resend or a socket to reopen; undefined when nothing waits. */
export function retryDueAtMs(state: VolunteerLifecycle): number | undefined {
  if (state.status === 'greeting') return state.retryAtMs;
  if (state.status === 'connecting' || state.status === 'disconnected') return state.reconnectAtMs;
  return undefined;
}

/** The connection as the page shows it. */
export function connectionView(state: VolunteerLifecycle): Pick<VolunteerState, 'connection' | 'connected' | 'volunteerId'> {
  switch (state.status) {
    case 'idle':
    case 'connecting':
      return { connection: 'connecting', connected: false, volunteerId: undefined };
    case 'greeting':
      return state.forgottenWelcome
        ? { connection: 'connected', connected: true, volunteerId: state.forgottenWelcome.volunteerId }
        : { connection: 'connecting', connected: false, volunteerId: undefined };
    case 'ready':
      return { connection: 'connected', connected: true, volunteerId: state.welcome.volunteerId };
    case 'disconnected':
    case 'stopped':
      return { connection: 'disconnected', connected: false, volunteerId: undefined };
    default: {
      const unreachable: never = state;
      return unreachable;
    }
  }
}

/** The next state, or a VolunteerTransitionError when the event does not apply. */
export function transitionVolunteer(
  state: VolunteerLifecycle,
  event: VolunteerEvent,
  nowMs: number,
  policy: LifecyclePolicy,
): VolunteerLifecycle | VolunteerTransitionError {
  const refuse = (why: string) => new VolunteerTransitionError(state.status, event.type, why);
  const fromOlderSession = (session: number) => sessionOf(state) !== session;
  switch (event.type) {
    case 'start':
      if (state.status === 'idle') return { status: 'connecting', session: 0, reconnectAtMs: undefined };
      // Started again while waiting to reopen the socket: it opens now.
      if (state.status === 'connecting' || state.status === 'disconnected') return { ...state, reconnectAtMs: undefined };
      return refuse(state.status === 'stopped' ? 'a stopped volunteer does not start again' : 'it is connected');
    case 'connected':
      if (state.status !== 'connecting' && state.status !== 'disconnected') return refuse('only a closed socket connects');
      return { status: 'greeting', session: state.session + 1, retryAtMs: undefined, forgottenWelcome: undefined, renewing: false };
    case 'connect-failed':
      if (state.status !== 'connecting' && state.status !== 'disconnected') return refuse('only a closed socket fails to connect');
      return event.socketGaveUp ? { ...state, reconnectAtMs: nowMs + policy.retryMs } : state;
    case 'welcomed':
    case 'hello-failed':
      if (fromOlderSession(event.session)) return refuse('the answer belongs to an older connection');
      if (state.status !== 'greeting' || state.retryAtMs !== undefined) return refuse('no hello is out');
      if (event.type === 'hello-failed') return { ...state, retryAtMs: nowMs + policy.retryMs };
      return {
        status: 'ready',
        session: state.session,
        welcome: event.welcome,
        renewEveryMs: renewIntervalMs(event.welcome.leaseMs),
        renewing: state.renewing,
      };
    case 'forgotten':
      if (fromOlderSession(event.session)) return refuse('the answer belongs to an older connection');
      if (state.status !== 'ready') return refuse('only a welcomed volunteer can be forgotten');
      return { status: 'greeting', session: state.session, retryAtMs: undefined, forgottenWelcome: state.welcome, renewing: state.renewing };
    case 'retry-due': {
      const dueAtMs = retryDueAtMs(state);
      if (dueAtMs === undefined) return refuse('nothing waits to be retried');
      // Timers may fire a little early by this clock; the client sets the timer again.
      if (nowMs < dueAtMs) return refuse('the retry is not due yet');
      if (state.status === 'greeting') return { ...state, retryAtMs: undefined };
      if (state.status === 'connecting' || state.status === 'disconnected') return { ...state, reconnectAtMs: undefined };
      return refuse('nothing waits to be retried');
    }
    case 'renew-sent':
      if (state.status !== 'ready') return refuse('only a welcomed volunteer renews leases');
      if (state.renewing) return refuse('a renewal is already out');
      return { ...state, renewing: true };
    case 'renew-settled':
      if (fromOlderSession(event.session)) return refuse('the answer belongs to an older connection');
      if ((state.status !== 'ready' && state.status !== 'greeting') || !state.renewing) return refuse('no renewal is out');
      return { ...state, renewing: false };
    case 'disconnected':
      if (state.status !== 'greeting' && state.status !== 'ready') return refuse('only a connected socket disconnects');
      return { status: 'disconnected', session: state.session + 1, reconnectAtMs: event.serverClosed ? nowMs + policy.retryMs : undefined };
    case 'stop':
      if (state.status === 'stopped') return refuse('it is stopped already');
      return { status: 'stopped' };
    default: {
      const unreachable: never = event;
      return unreachable;
    }
  }
}
