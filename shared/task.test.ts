import { describe, expect, it } from 'vitest';
import { defaultBackoffMs, initialTaskState, transitionTask, TaskTransitionError, type Lease, type TaskEvent, type TaskState } from './task.ts';

const policy = { maxAttempts: 2, backoffMs: (attempts: number) => attempts * 100 };
const lease = (token: string, deadlineMs = 1000): Lease => ({ token, volunteerId: 'v1', leasedAtMs: 0, deadlineMs });
const leased = (attemptsStarted: number, token = 't1'): TaskState => ({ status: 'leased', attemptsStarted, lease: lease(token) });
const error = { name: 'Error', message: 'boom' };

describe('transitionTask', () => {
  it.each<[string, TaskState, TaskEvent, number, TaskState]>([
    ['leases a pending task', initialTaskState(), { type: 'lease', lease: lease('t1') }, 0, leased(1)],
    ['completes with the live token', leased(1), { type: 'complete', token: 't1' }, 400, { status: 'done', attemptsStarted: 1, volunteerId: 'v1', finishedAtMs: 400, durationMs: 400 }],
    ['renews with a later deadline', leased(1), { type: 'renew', token: 't1', deadlineMs: 5000 }, 500, { status: 'leased', attemptsStarted: 1, lease: lease('t1', 5000) }],
    ['retries a failure with backoff', leased(1), { type: 'fail', token: 't1', error }, 500, { status: 'pending', attemptsStarted: 1, notBeforeMs: 600, lastError: error }],
    ['retries an abandoned lease', leased(1), { type: 'abandon', token: 't1', reason: 'gone' }, 500, { status: 'pending', attemptsStarted: 1, notBeforeMs: 600, lastError: { name: 'LeaseLost', message: 'gone' } }],
    ['fails for good after maxAttempts', leased(2), { type: 'fail', token: 't1', error }, 500, { status: 'failed', attemptsStarted: 2, error }],
    ['keeps the last error across a new lease', { status: 'pending', attemptsStarted: 1, notBeforeMs: 0, lastError: error }, { type: 'lease', lease: lease('t2') }, 0, { status: 'leased', attemptsStarted: 2, lease: lease('t2'), lastError: error }],
  ])('%s', (_name, from, event, nowMs, expected) => {
    expect(transitionTask(from, event, nowMs, policy)).toEqual(expected);
  });

  it.each<[string, TaskState, TaskEvent, number]>([
    ['a lease on a leased task', leased(1), { type: 'lease', lease: lease('t2') }, 0],
    ['a lease during backoff', { status: 'pending', attemptsStarted: 1, notBeforeMs: 100 }, { type: 'lease', lease: lease('t2') }, 50],
    ['a completion with a foreign token', leased(1), { type: 'complete', token: 'other' }, 10],
    ['a completion after the deadline', leased(1), { type: 'complete', token: 't1' }, 1001],
    ['a renewal after the deadline', leased(1), { type: 'renew', token: 't1', deadlineMs: 9000 }, 1001],
    ['a completion of a done task', { status: 'done', attemptsStarted: 1, volunteerId: 'v', finishedAtMs: 1, durationMs: 1 }, { type: 'complete', token: 't1' }, 10],
    ['a failure of a pending task', initialTaskState(), { type: 'fail', token: 't1', error }, 10],
    ['anything on a failed task', { status: 'failed', attemptsStarted: 2, error }, { type: 'abandon', token: 't1', reason: 'x' }, 10],
  ])('refuses %s', (_name, from, event, nowMs) => {
    expect(transitionTask(from, event, nowMs, policy)).toBeInstanceOf(TaskTransitionError);
  });
});

describe('defaultBackoffMs', () => {
  it('doubles from 250 ms and caps at 8 s', () => {
    expect([0, 1, 2, 3, 6, 7, 20].map(defaultBackoffMs)).toEqual([0, 250, 500, 1000, 8000, 8000, 8000]);
  });
});
