import { describe, expect, it } from 'vitest';
import { transitionTask, type Lease, type TaskEvent, type TaskPolicy, type TaskState } from '../../shared/task.ts';
import { deriveTaskEffects, type TaskEffects } from './task-effects.ts';

const single: TaskPolicy = { maxAttempts: 2, backoffMs: () => 100, replication: 1, maxAnswers: 1 };
const voted: TaskPolicy = { maxAttempts: 2, backoffMs: () => 100, replication: 2, maxAnswers: 5 };
const lease = (token: string, volunteerId: string, backup = false): Lease => ({ token, volunteerId, leasedAtMs: 0, deadlineMs: 1000, backup });
const pending: TaskState = { status: 'pending', attemptsStarted: 0, notBeforeMs: 0 };
const leased = (...leases: Lease[]): TaskState => ({ status: 'leased', attemptsStarted: leases.length, leases });

/** The effects of one real transition, from `before` under `event` at 10 ms. */
function effectsOf(before: TaskState, event: TaskEvent, policy = single): TaskEffects {
  const after = transitionTask(before, event, 10, policy);
  if (after instanceof Error) throw after;
  return deriveTaskEffects(event, before, after, 10, policy);
}

const tokens = (effects: TaskEffects) => ({
  started: effects.started.map((l) => l.token),
  ended: effects.ended.map(({ lease: l, outcome, revoke }) => ({ token: l.token, outcome, revoke })),
});

describe('deriveTaskEffects', () => {
  it('a first lease starts one lease, queues nothing, wakes nobody', () => {
    const effects = effectsOf(pending, { type: 'lease', lease: lease('t1', 'v1') });
    expect(tokens(effects)).toEqual({ started: ['t1'], ended: [] });
    expect(effects).toMatchObject({ retried: false });
    expect(effects.enqueue).toBeUndefined();
    expect(effects.wake).toBeUndefined();
  });

  it('a lease on a replicated task queues its next copy at the back and wakes one who may run it', () => {
    const effects = effectsOf(pending, { type: 'lease', lease: lease('t1', 'v1') }, voted);
    expect(effects).toMatchObject({ enqueue: 'back', wake: 'copy' });
  });

  it('a lease after a failure is a retry', () => {
    const retrying: TaskState = { status: 'pending', attemptsStarted: 1, notBeforeMs: 0 };
    expect(effectsOf(retrying, { type: 'lease', lease: lease('t2', 'v2') }).retried).toBe(true);
  });

  it('a failure with attempts left ends the lease as failed and queues a retry at the back, waking nobody during its backoff', () => {
    const effects = effectsOf(leased(lease('t1', 'v1')), { type: 'fail', token: 't1', error: { name: 'E', message: 'm' } });
    expect(tokens(effects)).toEqual({ started: [], ended: [{ token: 't1', outcome: 'failed', revoke: false }] });
    expect(effects.enqueue).toBe('back');
    expect(effects.wake).toBeUndefined();
    expect(effects.settled).toBeUndefined();
  });

  it('an abandoned lease with no backoff wakes a volunteer at once', () => {
    const noBackoff = { ...single, backoffMs: () => 0 };
    const effects = effectsOf(leased(lease('t1', 'v1')), { type: 'abandon', token: 't1', reason: 'gone' }, noBackoff);
    expect(tokens(effects).ended).toEqual([{ token: 't1', outcome: 'lost', revoke: false }]);
    expect(effects).toMatchObject({ enqueue: 'back', wake: 'any' });
  });

  it('the last attempt failing settles the task as failed', () => {
    const exhausted: TaskState = { status: 'leased', attemptsStarted: 2, leases: [lease('t2', 'v1')] };
    const effects = effectsOf(exhausted, { type: 'fail', token: 't2', error: { name: 'E', message: 'm' } });
    expect(effects.settled).toBe('failed');
    expect(effects.enqueue).toBeUndefined();
  });

  it('an answer while a backup runs settles the task and revokes the backup as superseded', () => {
    const effects = effectsOf(leased(lease('t1', 'v1'), lease('t2', 'v2', true)), { type: 'complete', token: 't1', digest: '' });
    expect(effects.settled).toBe('done');
    expect(tokens(effects).ended).toEqual([
      { token: 't1', outcome: undefined, revoke: false },
      { token: 't2', outcome: 'superseded', revoke: true },
    ]);
  });

  it('losing one copy while another runs ends only that lease, and keeps the task off the queue', () => {
    const effects = effectsOf(leased(lease('t1', 'v1'), lease('t2', 'v2', true)), { type: 'abandon', token: 't2', reason: 'gone' });
    expect(tokens(effects).ended).toEqual([{ token: 't2', outcome: 'lost', revoke: false }]);
    expect(effects.enqueue).toBeUndefined();
  });

  it('a vote that decides nothing ends its lease and queues the task at the front for someone else', () => {
    const effects = effectsOf(leased(lease('t1', 'v1')), { type: 'complete', token: 't1', digest: 'd1' }, voted);
    expect(tokens(effects).ended).toEqual([{ token: 't1', outcome: undefined, revoke: false }]);
    expect(effects).toMatchObject({ enqueue: 'front', wake: 'copy' });
    expect(effects.settled).toBeUndefined();
  });

  it('a copy handed back goes to the front, and the caller wakes others', () => {
    const effects = effectsOf(leased(lease('t1', 'v1')), { type: 'return', token: 't1' });
    expect(tokens(effects).ended).toEqual([{ token: 't1', outcome: 'returned', revoke: false }]);
    expect(effects.enqueue).toBe('front');
    expect(effects.wake).toBeUndefined();
  });

  it('a renewal changes nothing but a deadline', () => {
    const effects = effectsOf(leased(lease('t1', 'v1')), { type: 'renew', token: 't1', deadlineMs: 2000 });
    expect(tokens(effects)).toEqual({ started: [], ended: [] });
    expect(effects.enqueue).toBeUndefined();
  });

  it('a restart requeues without revoking anyone or recording an attempt', () => {
    const effects = effectsOf(leased(lease('t1', 'v1')), { type: 'requeue' });
    expect(tokens(effects).ended).toEqual([{ token: 't1', outcome: undefined, revoke: false }]);
    expect(effects.enqueue).toBe('back');
  });

  it.each<[string, number, TaskEffects['enqueue'], TaskEffects['wake']]>([
    ['with an attempt left, queues a replacement at the front and wakes one who may run it', 2, 'front', 'copy'],
    ['with its attempts spent, queues nothing and wakes nobody: the running copy decides', 3, undefined, undefined],
  ])('a lost copy of a replicated task while another runs, %s', (_name, attemptsStarted, enqueue, wake) => {
    const running: TaskState = { status: 'leased', attemptsStarted, leases: [lease('t1', 'v1'), lease('t2', 'v2')] };
    const effects = effectsOf(running, { type: 'abandon', token: 't2', reason: 'gone' }, voted);
    expect(tokens(effects).ended).toEqual([{ token: 't2', outcome: 'lost', revoke: false }]);
    expect([effects.enqueue, effects.wake, effects.settled]).toEqual([enqueue, wake, undefined]);
  });

  it('a lease after a restart gave back its attempt is no retry', () => {
    const requeued = transitionTask(leased(lease('t1', 'v1')), { type: 'requeue' }, 10, single);
    if (requeued instanceof Error) throw requeued;
    expect(effectsOf(requeued, { type: 'lease', lease: lease('t2', 'v2') }).retried).toBe(false);
  });

  it('a backup copy starts a lease and counts no retry', () => {
    const effects = effectsOf(leased(lease('t1', 'v1')), { type: 'backup', lease: lease('t2', 'v2', true) });
    expect(tokens(effects).started).toEqual(['t2']);
    expect(effects.retried).toBe(false);
  });
});
