import { describe, expect, it } from 'vitest';
import { jobStatus, JobTransitionError, transitionJob, upgradeJobState, type JobEvent, type JobState } from './job-lifecycle.ts';

const failure = { name: 'Error', message: 'boom', taskId: 'j/map/0' };

describe('transitionJob', () => {
  it.each<[string, JobState, JobEvent, JobState]>([
    ['starts a queued job', { status: 'queued' }, { type: 'start' }, { status: 'running', startedAtMs: 7 }],
    ['succeeds when reduces are done', { status: 'running', startedAtMs: 1 }, { type: 'succeed' }, { status: 'succeeded', startedAtMs: 1, finishedAtMs: 7 }],
    ['fails from any live state', { status: 'running', startedAtMs: 1 }, { type: 'fail', error: failure }, { status: 'failed', finishedAtMs: 7, error: failure }],
    ['cancels a queued job', { status: 'queued' }, { type: 'cancel' }, { status: 'cancelled', finishedAtMs: 7 }],
  ])('%s', (_name, from, event, expected) => {
    expect(transitionJob(from, event, 7)).toEqual(expected);
  });

  it.each<[string, JobState, JobEvent]>([
    ['succeeding before starting', { status: 'queued' }, { type: 'succeed' }],
    ['a second start', { status: 'running', startedAtMs: 1 }, { type: 'start' }],
    ['cancelling a finished job', { status: 'succeeded', startedAtMs: 1, finishedAtMs: 2 }, { type: 'cancel' }],
    ['failing a cancelled job', { status: 'cancelled', finishedAtMs: 2 }, { type: 'fail', error: failure }],
  ])('refuses %s', (_name, from, event) => {
    expect(transitionJob(from, event, 7)).toBeInstanceOf(JobTransitionError);
  });
});

describe('jobStatus', () => {
  it.each<[string, JobState, number, string]>([
    ['a queued job', { status: 'queued' }, 0, 'queued'],
    ['a running job with map tasks left is mapping', { status: 'running', startedAtMs: 1 }, 2, 'mapping'],
    ['a running job whose map tasks are all done is reducing', { status: 'running', startedAtMs: 1 }, 3, 'reducing'],
    ['a finished job', { status: 'succeeded', startedAtMs: 1, finishedAtMs: 2 }, 3, 'succeeded'],
  ])('%s', (_name, state, mapsDone, expected) => {
    expect(jobStatus(state, mapsDone, 3)).toBe(expected);
  });

  it('reads a phase stored by an earlier version as running', () => {
    expect(upgradeJobState({ status: 'reducing', startedAtMs: 4, mapsDoneAtMs: 5 })).toEqual({ status: 'running', startedAtMs: 4 });
    expect(upgradeJobState({ status: 'cancelled', finishedAtMs: 5 })).toEqual({ status: 'cancelled', finishedAtMs: 5 });
  });
});
