/**
 * The volunteer gateway: the only place that speaks Socket.IO to tabs. It checks every
 * incoming payload against its schema before the scheduler sees it, answers every
 * request with an Ack, and turns scheduler notifications into messages.
 */
import type { Logger } from './logger.ts';
import { randomUUID } from 'node:crypto';
import type { Namespace, Socket } from 'socket.io';
import { TabreduceError, toWireError, type ErrorCode, type WireError } from '../shared/errors.ts';
import type {
  Ack,
  CoordinatorToVolunteerEvents,
  TaskAssignment,
  TaskBatch,
  VolunteerAckValue,
  VolunteerEvent,
  VolunteerPayload,
  VolunteerToCoordinatorEvents,
} from '../shared/protocol.ts';
import { describeZodError, volunteerSchemas } from '../shared/schemas.ts';
import { packTaskBatch, unpackReports, type TaskEnd } from '../shared/task-batch.ts';
import { ConnectionGuard, DEFAULT_GUARD_LIMITS, type GuardLimits } from './connection-guard.ts';
import { onceReady, type MaybePromise, type SchedulerService } from './scheduler-service.ts';

type VolunteerSocket = Socket<VolunteerToCoordinatorEvents, CoordinatorToVolunteerEvents, Record<string, never>, SocketData>;
export type VolunteerNamespace = Namespace<VolunteerToCoordinatorEvents, CoordinatorToVolunteerEvents, Record<string, never>, SocketData>;

interface SocketData {
  /** Set once the volunteer said hello: the id the scheduler knows it by. */
  volunteerId?: string;
}

export interface GatewayOptions {
  leaseMs: number;
  now: () => number;
  log: Logger;
  /** Resolves once every write so far is committed: a result's acknowledgement waits for it. */
  stored: () => Promise<void>;
  /** Per-connection event rate and abuse limits (connection-guard.ts). */
  limits?: GuardLimits;
}

/** The events a volunteer may send (those with a schema); anything else is abuse. */
const KNOWN_EVENTS: ReadonlySet<string> = new Set(Object.keys(volunteerSchemas));

/** Refusals that an honest volunteer never provokes, so they count as abuse. */
const ABUSIVE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['BAD_REQUEST', 'BAD_RESULT', 'RATE_LIMITED']);

/** Socket.IO's disconnect reason, as a task error a submitter can act on. */
export function describeDisconnect(reason: string): string {
  switch (reason) {
    case 'ping timeout':
      return 'the volunteer stopped answering while it ran this task (tab frozen, or machine asleep)';
    case 'transport close':
    case 'transport error':
      return "the volunteer's connection dropped while it ran this task: its tab was closed or crashed (job code that exhausts memory crashes the tab)";
    case 'client namespace disconnect':
      return 'the volunteer left while it ran this task (it stopped volunteering)';
    default:
      return `the volunteer disconnected while it ran this task (${reason})`;
  }
}

export class VolunteerGateway {
  constructor(
    private readonly namespace: VolunteerNamespace,
    private readonly scheduler: SchedulerService,
    private readonly options: GatewayOptions,
  ) {
    namespace.on('connection', (socket) => this.attach(socket));
  }

  /** Tells these idle volunteers to ask for work. */
  announceWork(volunteerIds: string[]): void {
    this.namespace.to(volunteerIds).emit('work:available');
  }

  revoke(volunteerId: string, taskIds: string[], reason: string): void {
    this.namespace.to(volunteerId).emit('task:revoke', { taskIds, reason });
  }

  /** Asks a volunteer to hand back up to `max` tasks it has not started, for an idle one. */
  askToYield(volunteerId: string, max: number): void {
    this.namespace.to(volunteerId).emit('tasks:yield', { max });
  }

  private readonly guards = new WeakMap<VolunteerSocket, ConnectionGuard>();

  private attach(socket: VolunteerSocket): void {
    const { scheduler, options } = this;
    const guard = new ConnectionGuard(options.limits ?? DEFAULT_GUARD_LIMITS, options.now());
    this.guards.set(socket, guard);
    // Every incoming event, known or not, with or without an ack, goes through the bucket.
    socket.onAny((event: string, ...args: unknown[]) => {
      if (KNOWN_EVENTS.has(event)) return;
      const ack = args.at(-1);
      if (typeof ack === 'function') (ack as (answer: Ack<never>) => void)({ ok: false, error: { code: 'BAD_REQUEST', message: `unknown event ${JSON.stringify(String(event).slice(0, 40))}` } });
      this.abuse(socket, `sent an unknown event ${JSON.stringify(String(event).slice(0, 40))}`);
    });
    const volunteerIdOf = (): string => {
      const id = socket.data.volunteerId;
      if (!id) throw new TabreduceError('NOT_READY', 'say volunteer:hello before anything else');
      return id;
    };

    this.handle(socket, 'volunteer:hello', (hello) => {
      // One id per connection: a reconnecting tab is a new volunteer, and the leases of
      // its old connection were released when that connection dropped.
      const volunteerId = socket.data.volunteerId ?? `v-${randomUUID().slice(0, 8)}`;
      socket.data.volunteerId = volunteerId;
      void socket.join(volunteerId);
      return onceReady(scheduler.connect(volunteerId, hello.agent, hello.slots, options.now()), () => ({ volunteerId, leaseMs: options.leaseMs }));
    });
    socket.on('volunteer:slots', (update) => {
      if (!guard.allow(options.now())) return this.abuse(socket, 'sends events too fast');
      const parsed = volunteerSchemas['volunteer:slots'].safeParse(update);
      if (!parsed.success) return this.abuse(socket, 'sent malformed volunteer:slots');
      if (socket.data.volunteerId) this.unanswered('volunteer:slots', socket.data.volunteerId, scheduler.setSlots(socket.data.volunteerId, parsed.data.slots));
    });
    this.handle(socket, 'task:request', (request) => tasksReply(scheduler.requestTasks(volunteerIdOf(), request.max, options.now())));
    // A result and the request for the next work share one round trip: for small tasks
    // the round trip, not the work, is what limits the rate.
    // The receipt of a result says it is stored. A scheduler's promise resolves once it is
    // committed; an answer at hand is only written, so the receipt waits for the commit that
    // holds it and the next tasks' leases (every answer of one event-loop turn shares it).
    // The next tasks are asked for once the result is recorded, either way.
    const onceStored = <T, R>(recorded: MaybePromise<T>, reply: (recorded: T) => MaybePromise<R>): Promise<R> => {
      if (recorded instanceof Promise) return recorded.then(reply);
      const answer = reply(recorded);
      return Promise.all([options.stored(), answer]).then(([, value]) => value);
    };
    const nextTasks = (volunteerId: string, next: number | undefined) => tasksReply(next ? scheduler.requestTasks(volunteerId, next, options.now()) : []);
    this.handle(socket, 'task:complete', (completion) => {
      const volunteerId = volunteerIdOf();
      return onceStored(scheduler.complete(volunteerId, completion.taskId, completion.leaseToken, completion.output, options.now()), () => nextTasks(volunteerId, completion.next));
    });
    this.handle(socket, 'task:fail', (failure) => {
      const volunteerId = volunteerIdOf();
      return onceStored(scheduler.fail(volunteerId, failure.taskId, failure.leaseToken, failure.error, options.now()), () => nextTasks(volunteerId, failure.next));
    });
    // The batched forms, which the runtime uses: one claim, or one report of many ends, per
    // message. Each result is judged alone: a refused one leaves the others recorded.
    this.handle(socket, 'tasks:claim', (claim) => batchReply(scheduler.requestTasks(volunteerIdOf(), claim.max, options.now())));
    this.handle(socket, 'tasks:report', (report) => {
      const volunteerId = volunteerIdOf();
      const nowMs = options.now();
      const unpacked = unpackReports(report);
      // A result whose bytes the wire could not carry never reaches the scheduler.
      const ends: TaskEnd[] = [];
      for (const result of unpacked) if (result.end) ends.push(result.end);
      return onceStored(scheduler.settle(volunteerId, ends, nowMs), (settled) => {
        let at = 0;
        const outcomes = unpacked.map((result): WireError | null => {
          if (result.problem !== undefined) return { code: 'BAD_RESULT', message: `task ${result.taskId}: ${result.problem}` };
          const outcome = settled[at++];
          if (!outcome) return null;
          if (outcome.code === 'INTERNAL') options.log.error({ err: outcome.cause ?? outcome, taskId: result.end.taskId, volunteerId }, 'tasks:report failed');
          return { code: outcome.code, message: outcome.message };
        });
        const refused = outcomes.find((outcome) => outcome !== null && ABUSIVE_CODES.has(outcome.code));
        if (refused) this.abuse(socket, `tasks:report: ${refused.code}`);
        const next = report.next ? scheduler.requestTasks(volunteerId, report.next, nowMs) : [];
        return onceReady(batchReply(next), (batch) => ({ ...batch, outcomes }));
      });
    });
    this.handle(socket, 'task:renew', (request) => scheduler.renew(volunteerIdOf(), request.leases, options.now()));
    this.handle(socket, 'task:return', (request) => onceReady(scheduler.returnTasks(volunteerIdOf(), request.leases, options.now()), (returned) => ({ returned })));
    this.handle(socket, 'job:source', (request) => scheduler.getSourceForVolunteer(volunteerIdOf(), request.jobId));
    socket.on('disconnect', (reason) => {
      if (socket.data.volunteerId) this.unanswered('disconnect', socket.data.volunteerId, scheduler.disconnect(socket.data.volunteerId, options.now(), describeDisconnect(reason)));
    });
  }

  /** An event with no acknowledgement to carry a refusal: a promise that rejects is logged, not left unhandled. */
  private unanswered(event: string, volunteerId: string, done: MaybePromise<void>): void {
    if (done instanceof Promise) done.catch((error: unknown) => this.options.log.error({ err: error, event, volunteerId }, `${event} failed`));
  }

  /** Counts one abusive event on this connection; past the limit the connection is dropped. */
  private abuse(socket: VolunteerSocket, what: string): void {
    const guard = this.guards.get(socket);
    if (!guard?.abused(this.options.now()) || socket.disconnected) return;
    this.options.log.warn({ volunteerId: socket.data.volunteerId ?? socket.id }, `dropping a volunteer connection: it ${what}, and too often`);
    socket.disconnect(true);
  }

  /**
   * Registers a request handler: validates the payload against the event's schema,
   * runs the handler, and answers with an Ack. A client that sends no ack callback is
   * ignored rather than crashing anything.
   */
  private handle<E extends VolunteerEvent>(
    socket: VolunteerSocket,
    event: E,
    handler: (payload: VolunteerPayload<E>) => MaybePromise<VolunteerAckValue<E>>,
  ): void {
    const schema = volunteerSchemas[event];
    // The event map types each handler precisely; this one generic registration needs a looser view.
    (socket as unknown as { on(event: string, listener: (...args: unknown[]) => void): void }).on(
      event,
      (payload: unknown, ack: unknown) => {
        const guard = this.guards.get(socket)!;
        if (typeof ack !== 'function') return this.abuse(socket, `sent ${event} without an acknowledgement callback`);
        const reply = ack as (answer: Ack<VolunteerAckValue<E>>) => void;
        const refuse = (error: WireError) => {
          reply({ ok: false, error });
          if (ABUSIVE_CODES.has(error.code)) this.abuse(socket, `${event}: ${error.code}`);
        };
        if (!guard.allow(this.options.now())) {
          return refuse({ code: 'RATE_LIMITED', message: `${event}: this connection sends more than ${(this.options.limits ?? DEFAULT_GUARD_LIMITS).eventsPerSecond} events a second; slow down` });
        }
        const parsed = schema.safeParse(payload);
        if (!parsed.success) return refuse({ code: 'BAD_REQUEST', message: `${event}: ${describeZodError(parsed.error)}` });
        const failed = (error: unknown) => {
          const wire = toWireError(error);
          if (wire.code === 'INTERNAL') this.options.log.error({ err: error, event, volunteerId: socket.data.volunteerId }, `${event} failed`);
          refuse(wire);
        };
        try {
          // Sound: schemas.ts checks each event's schema against its payload type, which a generic `E` hides from the compiler.
          const value = handler(parsed.data as VolunteerPayload<E>);
          // Most answers are at hand; one that reads an uploaded file is a promise.
          if (value instanceof Promise) value.then((settled) => reply({ ok: true, value: settled }), failed);
          else reply({ ok: true, value });
        } catch (error) {
          failed(error);
        }
      },
    );
  }
}

/** The tasks as one batch, at once or once their inputs are read. */
function batchReply(tasks: MaybePromise<TaskAssignment[]>): MaybePromise<TaskBatch> {
  return onceReady(tasks, packTaskBatch);
}

/** `{ tasks }`, at once or once the tasks' inputs are read. */
function tasksReply(tasks: MaybePromise<TaskAssignment[]>): MaybePromise<{ tasks: TaskAssignment[] }> {
  return onceReady(tasks, (ready) => ({ tasks: ready }));
}
