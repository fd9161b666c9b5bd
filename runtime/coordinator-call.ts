/**
 * Every acknowledged message a volunteer sends goes through `callCoordinator`: the emit
 * with its timeout, the `ok` check, and an error ack or a missing answer turned into a
 * `CallFailure`. It never throws, so a caller handles the three outcomes in one place and
 * no rejection goes unhandled.
 */
import type { Socket } from 'socket.io-client';
import type { WireError } from '../shared/errors.ts';
import type { Ack, CoordinatorToVolunteerEvents, VolunteerToCoordinatorEvents } from '../shared/protocol.ts';
import { toTaskError } from './task-error.ts';

/** The volunteer's end of the connection, typed by the protocol's event maps. */
export type VolunteerSocket = Socket<CoordinatorToVolunteerEvents, VolunteerToCoordinatorEvents>;

type Outgoing = VolunteerToCoordinatorEvents;

/** The events the coordinator answers with an `Ack`. */
export type AckedEvent = {
  [E in keyof Outgoing]: Parameters<Outgoing[E]> extends [unknown, (reply: Ack<never>) => void] ? E : never;
}[keyof Outgoing];

/** What an acknowledged event sends. */
export type CallRequest<E extends AckedEvent> = Parameters<Outgoing[E]>[0];

/** What an acknowledged event's ack carries when it is `ok`. */
export type CallValue<E extends AckedEvent> = Parameters<Outgoing[E]>[1] extends (reply: Ack<infer T>) => void ? T : never;

/** Why a call brought no value. */
export type CallFailure =
  /** The coordinator answered with an error ack. */
  | { kind: 'refused'; error: WireError }
  /** No answer came within the timeout, or the connection dropped first. */
  | { kind: 'unanswered'; reason: string };

export type CallResult<T> = { ok: true; value: T } | { ok: false; failure: CallFailure };

/** Sends `event` and waits at most `timeoutMs` for its ack. */
export async function callCoordinator<E extends AckedEvent>(
  socket: VolunteerSocket,
  event: E,
  request: CallRequest<E>,
  timeoutMs: number,
): Promise<CallResult<CallValue<E>>> {
  // Socket.IO's own conditional types do not resolve for an event name that is still a
  // type parameter; the maps above give the same types, checked at every call site.
  const timed = socket.timeout(timeoutMs) as unknown as { emitWithAck(event: E, request: CallRequest<E>): Promise<Ack<CallValue<E>>> };
  try {
    const reply = await timed.emitWithAck(event, request);
    return reply.ok ? { ok: true, value: reply.value } : { ok: false, failure: { kind: 'refused', error: reply.error } };
  } catch (error) {
    return { ok: false, failure: { kind: 'unanswered', reason: toTaskError(error).message } };
  }
}

/** How a call site names its failures, e.g. `{ refused: 'lease renewal was refused', unanswered: 'lease renewal went unanswered' }`. */
export interface FailureWording {
  refused: string;
  unanswered: string;
}

/**
 * The failure as one readable line: `CODE: message` for a refusal, the reason for a
 * missing answer, after the call site's wording when given (one phrase for both, or one
 * for each).
 */
export function describeFailure(failure: CallFailure, wording?: string | FailureWording): string {
  const detail = failure.kind === 'refused' ? `${failure.error.code}: ${failure.error.message}` : failure.reason;
  if (wording === undefined) return detail;
  const lead = typeof wording === 'string' ? wording : wording[failure.kind];
  return `${lead}: ${detail}`;
}
