import { describe, expect, it } from 'vitest';
import { defaultReducers, defaultRecordsPerTask, JobTransitionError, transitionJob, type JobEvent, type JobState } from './job.ts';

const failure = { name: 'Error', message: 'boom', taskId: 'j/map/0' };

describe('transitionJob', () => {
  it.each<[string, JobState, JobEvent, JobState]>([
    ['starts a queued job', { status: 'queued' }, { type: 'start' }, { status: 'mapping', startedAtMs: 7 }],
    ['moves to reduce when maps are done', { status: 'mapping', startedAtMs: 1 }, { type: 'maps-done' }, { status: 'reducing', startedAtMs: 1, mapsDoneAtMs: 7 }],
    ['succeeds when reduces are done', { status: 'reducing', startedAtMs: 1, mapsDoneAtMs: 3 }, { type: 'reduces-done' }, { status: 'succeeded', startedAtMs: 1, finishedAtMs: 7 }],
    ['fails from any live state', { status: 'reducing', startedAtMs: 1, mapsDoneAtMs: 3 }, { type: 'fail', error: failure }, { status: 'failed', finishedAtMs: 7, error: failure }],
    ['cancels a queued job', { status: 'queued' }, { type: 'cancel' }, { status: 'cancelled', finishedAtMs: 7 }],
  ])('%s', (_name, from, event, expected) => {
    expect(transitionJob(from, event, 7)).toEqual(expected);
  });

  it.each<[string, JobState, JobEvent]>([
    ['maps-done before starting', { status: 'queued' }, { type: 'maps-done' }],
    ['reduces-done while mapping', { status: 'mapping', startedAtMs: 1 }, { type: 'reduces-done' }],
    ['a second start', { status: 'mapping', startedAtMs: 1 }, { type: 'start' }],
    ['cancelling a finished job', { status: 'succeeded', startedAtMs: 1, finishedAtMs: 2 }, { type: 'cancel' }],
    ['failing a cancelled job', { status: 'cancelled', finishedAtMs: 2 }, { type: 'fail', error: failure }],
  ])('refuses %s', (_name, from, event) => {
    expect(transitionJob(from, event, 7)).toBeInstanceOf(JobTransitionError);
  });
});

describe('defaults', () => {
  it('picks R as the square root of the map tasks, within 1..64', () => {
    expect([1, 2, 4, 10, 100, 10_000].map(defaultReducers)).toEqual([1, 2, 2, 4, 10, 64]);
  });
  it('aims for about 1,000 map tasks', () => {
    expect([1, 999, 1000, 100_000, 1e9].map(defaultRecordsPerTask)).toEqual([1, 1, 1, 100, 10_000]);
  });
});
