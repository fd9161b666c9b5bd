import { describe, expect, it } from 'vitest';
import {
  connectionView,
  initialLifecycle,
  renewIntervalMs,
  retryDueAtMs,
  sessionOf,
  transitionVolunteer,
  VolunteerTransitionError,
  type VolunteerEvent,
  type VolunteerLifecycle,
} from './volunteer-lifecycle.ts';

const policy = { retryMs: 2000 };
const welcome = { volunteerId: 'v1', leaseMs: 30_000 };
const connecting = (session = 0, reconnectAtMs?: number): VolunteerLifecycle => ({ status: 'connecting', session, reconnectAtMs });
const greeting = (session = 1, more: Partial<Extract<VolunteerLifecycle, { status: 'greeting' }>> = {}): VolunteerLifecycle => ({
  status: 'greeting',
  session,
  retryAtMs: undefined,
  forgottenWelcome: undefined,
  renewing: false,
  ...more,
});
const ready = (session = 1, renewing = false): VolunteerLifecycle => ({ status: 'ready', session, welcome, renewEveryMs: 10_000, renewing });
const disconnected = (session = 2, reconnectAtMs?: number): VolunteerLifecycle => ({ status: 'disconnected', session, reconnectAtMs });
const stopped: VolunteerLifecycle = { status: 'stopped' };

describe('transitionVolunteer', () => {
  it.each<[string, VolunteerLifecycle, VolunteerEvent, number, VolunteerLifecycle]>([
    ['starts connecting', initialLifecycle(), { type: 'start' }, 0, connecting()],
    ['greets on a new session once connected', connecting(), { type: 'connected' }, 0, greeting(1)],
    ['is welcomed with a renewal interval of a third of the lease', greeting(1), { type: 'welcomed', session: 1, welcome }, 0, ready(1)],
    ['waits to resend a failed hello', greeting(1), { type: 'hello-failed', session: 1 }, 500, greeting(1, { retryAtMs: 2500 })],
    ['resends the hello once due', greeting(1, { retryAtMs: 2500 }), { type: 'retry-due' }, 2500, greeting(1)],
    ['greets again on the same session when forgotten', ready(1, true), { type: 'forgotten', session: 1 }, 0, greeting(1, { forgottenWelcome: welcome, renewing: true })],
    [
      'keeps a renewal out across a re-welcome of the same session',
      greeting(1, { forgottenWelcome: welcome, renewing: true }),
      { type: 'welcomed', session: 1, welcome },
      0,
      ready(1, true),
    ],
    ['marks a renewal out', ready(1), { type: 'renew-sent' }, 0, ready(1, true)],
    ['settles the renewal', ready(1, true), { type: 'renew-settled', session: 1 }, 0, ready(1)],
    ['settles a renewal while greeting again', greeting(1, { renewing: true }), { type: 'renew-settled', session: 1 }, 0, greeting(1)],
    ['drops to a new session on a network drop', ready(1), { type: 'disconnected', serverClosed: false }, 700, disconnected(2)],
    ['drops while greeting too', greeting(3), { type: 'disconnected', serverClosed: false }, 700, disconnected(4)],
    ['reconnects by itself after the server closed the socket on purpose', ready(1), { type: 'disconnected', serverClosed: true }, 700, disconnected(2, 2700)],
    ['greets again on reconnecting', disconnected(2), { type: 'connected' }, 0, greeting(3)],
    ['waits to reopen a socket Socket.IO gave up on', connecting(), { type: 'connect-failed', socketGaveUp: true }, 100, connecting(0, 2100)],
    ['leaves a network failure to Socket.IO', disconnected(2), { type: 'connect-failed', socketGaveUp: false }, 100, disconnected(2)],
    ['keeps the deadline it has through a network failure', disconnected(2, 2700), { type: 'connect-failed', socketGaveUp: false }, 100, disconnected(2, 2700)],
    ['reopens the socket once due', disconnected(2, 2700), { type: 'retry-due' }, 2700, disconnected(2)],
    ['reopens at once when started again meanwhile', connecting(0, 2100), { type: 'start' }, 50, connecting(0)],
    ['stops from any live state', ready(1), { type: 'stop' }, 0, stopped],
    ['stops before it started', initialLifecycle(), { type: 'stop' }, 0, stopped],
  ])('%s', (_name, from, event, nowMs, expected) => {
    expect(transitionVolunteer(from, event, nowMs, policy)).toEqual(expected);
  });

  it.each<[string, VolunteerLifecycle, VolunteerEvent, number]>([
    ['a welcome from an older connection', greeting(3), { type: 'welcomed', session: 1, welcome }, 0],
    ['a failed hello from an older connection', greeting(3), { type: 'hello-failed', session: 1 }, 0],
    ['a welcome with no hello out', greeting(1, { retryAtMs: 2000 }), { type: 'welcomed', session: 1, welcome }, 0],
    ['a welcome after the drop', disconnected(2), { type: 'welcomed', session: 2, welcome }, 0],
    ['a second welcome', ready(1), { type: 'welcomed', session: 1, welcome }, 0],
    ['NOT_READY from an older connection', ready(3), { type: 'forgotten', session: 1 }, 0],
    ['NOT_READY while greeting again already', greeting(1, { forgottenWelcome: welcome }), { type: 'forgotten', session: 1 }, 0],
    ['a retry before it is due (a timer that fired early)', greeting(1, { retryAtMs: 2500 }), { type: 'retry-due' }, 2499],
    ['a retry when none waits', ready(1), { type: 'retry-due' }, 9999],
    ['a reconnect when none waits', disconnected(2), { type: 'retry-due' }, 9999],
    ['a second renewal while one is out', ready(1, true), { type: 'renew-sent' }, 0],
    ['a renewal while greeting', greeting(1), { type: 'renew-sent' }, 0],
    ['a renewal answer from an older connection', ready(3, true), { type: 'renew-settled', session: 1 }, 0],
    ['a renewal answer with none out', ready(1), { type: 'renew-settled', session: 1 }, 0],
    ['a connect while connected', ready(1), { type: 'connected' }, 0],
    ['a disconnect while not connected', disconnected(2), { type: 'disconnected', serverClosed: false }, 0],
    ['a connect failure while connected', ready(1), { type: 'connect-failed', socketGaveUp: true }, 0],
    ['a start while connected', ready(1), { type: 'start' }, 0],
    ['a start after stop', stopped, { type: 'start' }, 0],
    ['a connect after stop', stopped, { type: 'connected' }, 0],
    ['a second stop', stopped, { type: 'stop' }, 0],
  ])('refuses %s', (_name, from, event, nowMs) => {
    const refusal = transitionVolunteer(from, event, nowMs, policy);
    expect(refusal).toBeInstanceOf(VolunteerTransitionError);
    expect(refusal).toMatchObject({ from: from.status, event: event.type });
  });
});

describe('what the lifecycle shows and asks for', () => {
  it.each<[string, VolunteerLifecycle, ReturnType<typeof connectionView>]>([
    ['not started', initialLifecycle(), { connection: 'connecting', connected: false, volunteerId: undefined }],
    ['connecting', connecting(), { connection: 'connecting', connected: false, volunteerId: undefined }],
    ['greeting', greeting(1), { connection: 'connecting', connected: false, volunteerId: undefined }],
    // The runs go on while it greets again, so the page keeps showing it connected.
    ['greeting again, forgotten', greeting(1, { forgottenWelcome: welcome }), { connection: 'connected', connected: true, volunteerId: 'v1' }],
    ['ready', ready(1), { connection: 'connected', connected: true, volunteerId: 'v1' }],
    ['disconnected', disconnected(2), { connection: 'disconnected', connected: false, volunteerId: undefined }],
    ['stopped', stopped, { connection: 'disconnected', connected: false, volunteerId: undefined }],
  ])('shows %s as its connection', (_name, state, view) => {
    expect(connectionView(state)).toEqual(view);
  });

  it.each<[string, VolunteerLifecycle, number | undefined]>([
    ['a failed hello', greeting(1, { retryAtMs: 2500 }), 2500],
    ['a refused connection', connecting(0, 2100), 2100],
    ['a socket the server closed', disconnected(2, 2700), 2700],
    ['a hello out', greeting(1), undefined],
    ['ready', ready(1), undefined],
    ['stopped', stopped, undefined],
  ])('times the retry of %s', (_name, state, dueAtMs) => {
    expect(retryDueAtMs(state)).toBe(dueAtMs);
  });

  it('has a session only between start and stop', () => {
    expect([initialLifecycle(), connecting(0), greeting(1), ready(1), disconnected(2), stopped].map(sessionOf)).toEqual([undefined, 0, 1, 1, 2, undefined]);
  });

  it.each([
    [30_000, 10_000],
    [150, 100],
    [0, 100],
    [600_000, 60_000],
  ])('renews a %d ms lease every %d ms', (leaseMs, everyMs) => {
    expect(renewIntervalMs(leaseMs)).toBe(everyMs);
  });

  it('walks a whole life: hello refused, welcomed, dropped, welcomed again, stopped', () => {
    const events: [VolunteerEvent, number][] = [
      [{ type: 'start' }, 0],
      [{ type: 'connected' }, 10],
      [{ type: 'hello-failed', session: 1 }, 20],
      [{ type: 'retry-due' }, 2020],
      [{ type: 'welcomed', session: 1, welcome }, 2030],
      [{ type: 'disconnected', serverClosed: false }, 5000],
      [{ type: 'connected' }, 5100],
      [{ type: 'welcomed', session: 3, welcome: { volunteerId: 'v2', leaseMs: 150 } }, 5110],
      [{ type: 'stop' }, 6000],
    ];
    const seen: string[] = [];
    let state = initialLifecycle();
    for (const [event, nowMs] of events) {
      const next = transitionVolunteer(state, event, nowMs, policy);
      if (next instanceof VolunteerTransitionError) throw next;
      state = next;
      seen.push(`${state.status}${sessionOf(state) === undefined ? '' : `#${sessionOf(state)}`}`);
    }
    expect(seen).toEqual(['connecting#0', 'greeting#1', 'greeting#1', 'greeting#1', 'ready#1', 'disconnected#2', 'greeting#3', 'ready#3', 'stopped']);
  });
});
