/**
 * Type tests of the wire, as Socket.IO's own test-d: each `@ts-expect-error` below is a
 * mistake that must not compile. `npm run typecheck` compiles this file, and an
 * expectation that stops failing (the mistake compiles after all) fails the build. The
 * functions are never called: they exist to be compiled. Vitest runs the file too, for
 * the one test at the bottom.
 */
import type { Socket as DashboardClientSocket } from 'socket.io-client';
import { describe, expectTypeOf, test } from 'vitest';
import { z } from 'zod';
import type { DashboardNamespace } from '../server/dashboard-feed.ts';
import type { VolunteerNamespace } from '../server/socket-gateway.ts';
import type { VolunteerSocket } from '../runtime/volunteer-client.ts';
import type { TaskError } from './errors.ts';
import type { JobInput, JobSubmission } from './job.ts';
import type { Key } from './keys.ts';
import type {
  Ack,
  CoordinatorToDashboardEvents,
  DashboardToCoordinatorEvents,
  LeaseRef,
  RenewReceipt,
  TaskGrant,
  VolunteerAckValue,
  VolunteerEvent,
  VolunteerPayload,
  VolunteerWelcome,
} from './protocol.ts';
import { jobInputSchema, jobSubmissionSchema, keySchema, leaseRefSchema, taskErrorSchema, volunteerSchemas, type VolunteerSchemaMap } from './schemas.ts';

/** Each schema's output, event by event, to compare with the protocol's payloads. */
type SchemaOutputs = { [E in VolunteerEvent]: z.output<(typeof volunteerSchemas)[E]> };
type Payloads = { [E in VolunteerEvent]: VolunteerPayload<E> };

function schemasEqualTheirTypes() {
  // `satisfies z.ZodType<T>` in schemas.ts only proves output ⊆ T; equality also catches
  // an optional field that one side has and the other forgot.
  expectTypeOf<SchemaOutputs>().toEqualTypeOf<Payloads>();
  expectTypeOf<z.output<typeof jobSubmissionSchema>>().toEqualTypeOf<JobSubmission>();
  expectTypeOf<z.output<typeof jobInputSchema>>().toEqualTypeOf<JobInput>();
  expectTypeOf<z.output<typeof taskErrorSchema>>().toEqualTypeOf<TaskError>();
  expectTypeOf<z.output<typeof leaseRefSchema>>().toEqualTypeOf<LeaseRef>();
  expectTypeOf<z.output<typeof keySchema>>().toEqualTypeOf<Key>();
}

function schemaMismatchesDoNotCompile() {
  const leaseToken = z.string();
  // @ts-expect-error a schema missing a required field of its type
  void (z.strictObject({ taskId: z.string() }) satisfies z.ZodType<LeaseRef>);
  // @ts-expect-error a field of the wrong type
  void (z.strictObject({ taskId: z.string(), leaseToken: z.number() }) satisfies z.ZodType<LeaseRef>);

  // An extra optional field passes `satisfies`, which is why the equality checks exist.
  const withExtra = z.strictObject({ taskId: z.string(), leaseToken, note: z.string().optional() }) satisfies z.ZodType<LeaseRef>;
  // @ts-expect-error a field only the schema has
  expectTypeOf<z.output<typeof withExtra>>().toEqualTypeOf<LeaseRef>();

  // @ts-expect-error an event the protocol does not have
  void ({ ...volunteerSchemas, 'task:steal': z.strictObject({}) } satisfies VolunteerSchemaMap);
  const { 'task:return': _returnSchema, ...withoutReturn } = volunteerSchemas;
  // @ts-expect-error an event of the protocol without a schema
  void (withoutReturn satisfies VolunteerSchemaMap);
  // @ts-expect-error a schema that checks another event's payload
  void ({ ...volunteerSchemas, 'task:request': z.strictObject({ slots: z.int() }) } satisfies VolunteerSchemaMap);
}

function ackValues() {
  expectTypeOf<VolunteerAckValue<'task:request'>>().toEqualTypeOf<TaskGrant>();
  expectTypeOf<VolunteerAckValue<'task:renew'>>().toEqualTypeOf<RenewReceipt>();
  // No ack: the gateway cannot register a request handler for it.
  expectTypeOf<VolunteerAckValue<'volunteer:slots'>>().toBeNever();
}

function coordinatorSide(namespace: VolunteerNamespace) {
  namespace.on('connection', (socket) => {
    socket.on('task:request', (request, ack) => {
      expectTypeOf(request.max).toBeNumber();
      // @ts-expect-error a field the payload does not have
      void request.min;
      ack({ ok: true, value: { tasks: [] } });
      // @ts-expect-error a wrong ack shape
      ack({ ok: true, value: { task: [] } });
      // @ts-expect-error an ack that answers another event
      ack({ ok: true, value: { renewed: [], lost: [] } });
      ack({ ok: false, error: { code: 'NOT_READY', message: 'say volunteer:hello first' } });
      // @ts-expect-error an error code not in the catalogue
      ack({ ok: false, error: { code: 'NOT_HELLO', message: '' } });
    });
    socket.on('volunteer:slots', (update) => expectTypeOf(update.slots).toBeNumber());
    // @ts-expect-error an event volunteers do not send
    socket.on('task:requets', () => {});

    socket.emit('task:revoke', { taskIds: ['t1'], reason: 'the job was cancelled' });
    // @ts-expect-error a wrong payload
    socket.emit('task:revoke', { taskIds: 't1', reason: 'the job was cancelled' });
    // @ts-expect-error an event volunteers do not listen to
    socket.emit('task:revoked', { taskIds: ['t1'], reason: 'the job was cancelled' });
  });
  namespace.to('v-1').emit('work:available');
  // @ts-expect-error a misspelt event
  namespace.to('v-1').emit('work:avaliable');
}

async function volunteerSide(socket: VolunteerSocket) {
  expectTypeOf(await socket.emitWithAck('volunteer:hello', { agent: 'test', slots: 2 })).toEqualTypeOf<Ack<VolunteerWelcome>>();
  // @ts-expect-error a misspelt event
  await socket.emitWithAck('task:requets', { max: 1 });
  // @ts-expect-error a wrong payload
  await socket.emitWithAck('task:request', { max: '1' });
  // @ts-expect-error a payload of another event
  await socket.emitWithAck('task:request', { slots: 1 });
  // @ts-expect-error reading an ack as another event's answer
  const _wrongAck: Ack<RenewReceipt> = await socket.emitWithAck('task:request', { max: 1 });
  socket.emit('task:request', { max: 1 }, (reply) => expectTypeOf(reply).toEqualTypeOf<Ack<TaskGrant>>());
  // @ts-expect-error an ack callback that expects another shape
  socket.emit('task:request', { max: 1 }, (reply: Ack<{ granted: number }>) => void reply);
  socket.emit('volunteer:slots', { slots: 1 });
  // @ts-expect-error a misspelt field
  socket.emit('volunteer:slots', { slot: 1 });

  // Socket.IO's client types the answer of `timeout(ms).emitWithAck` as `any`
  // (socketio/socket.io#4925: `FirstArg` picks the timeout's Error), so a reply read that
  // way is only as right as its annotation. When this starts failing, the bug is fixed
  // and the annotations in runtime/volunteer-client.ts can go.
  expectTypeOf(await socket.timeout(1000).emitWithAck('task:request', { max: 1 })).toBeAny();
  // @ts-expect-error the event and payload are still checked, only the answer is not
  await socket.timeout(1000).emitWithAck('task:request', { max: '1' });

  socket.on('task:revoke', ({ taskIds }) => expectTypeOf(taskIds).toEqualTypeOf<string[]>());
  // @ts-expect-error a field the payload does not have
  socket.on('task:revoke', ({ taskId }) => void taskId);
  // @ts-expect-error an event the coordinator does not send
  socket.on('work:avaliable', () => {});
}

function dashboardSide(namespace: DashboardNamespace, socket: DashboardClientSocket<CoordinatorToDashboardEvents, DashboardToCoordinatorEvents>) {
  namespace.emit('dashboard:snapshot', { jobs: [], cluster: { volunteers: 0, slots: 0, busySlots: 0, volunteerList: [] } });
  // @ts-expect-error a snapshot without its cluster
  namespace.emit('dashboard:snapshot', { jobs: [] });
  socket.on('dashboard:snapshot', (snapshot) => expectTypeOf(snapshot.jobs).toBeArray());
  // @ts-expect-error the dashboard only listens
  socket.emit('dashboard:refresh');
}

describe('the wire types', () => {
  test('compile as the expectations in this file say (checked by npm run typecheck)', () => {
    // Nothing to run: referencing the functions keeps them from looking unused.
    expectTypeOf(schemasEqualTheirTypes).toBeFunction();
    expectTypeOf(schemaMismatchesDoNotCompile).toBeFunction();
    expectTypeOf(ackValues).toBeFunction();
    expectTypeOf(coordinatorSide).toBeFunction();
    expectTypeOf(volunteerSide).toBeFunction();
    expectTypeOf(dashboardSide).toBeFunction();
  });
});
