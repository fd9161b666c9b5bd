import { describe, expect, it } from 'vitest';
import { LIMITS } from '../shared/limits.ts';
import {
  askAgainAfterAnswer,
  BATCH_MS,
  batchSize,
  capacity,
  initialWorkDemand,
  MAX_BATCH,
  mayHoldAnother,
  restMs,
  tasksToAskFor,
  transitionDemand,
  type DemandEvent,
  type WorkDemand,
} from './work-demand.ts';

const demand = (more: Partial<WorkDemand> = {}): WorkDemand => ({ ...initialWorkDemand(), ...more });

describe('tasksToAskFor', () => {
  it.each<[string, WorkDemand, number, number, number]>([
    ['two per slot when idle', demand(), 2, 0, 4],
    ['what is left of two per slot', demand(), 2, 3, 1],
    ['none when full', demand(), 2, 4, 0],
    ['none past full (slots were taken away)', demand(), 1, 4, 0],
    ['less what is asked for already', demand({ tasksAskedFor: 3 }), 2, 0, 1],
    ['none while paused', demand({ pausedBecause: ['paused by hand'] }), 2, 0, 0],
    ['one per slot under a share below 1', demand({ share: 0.5 }), 2, 0, 2],
    ['none for a resting slot', demand({ share: 0.5, restingSlots: 1 }), 2, 1, 0],
    ['for the slot that is not resting', demand({ share: 0.5, restingSlots: 1 }), 2, 0, 1],
    ['none with every slot resting', demand({ share: 0.25, restingSlots: 3 }), 2, 0, 0],
    ['every slot again at full share, resting or not', demand({ share: 1, restingSlots: 2 }), 2, 0, 4],
    ['none without slots', demand(), 0, 0, 0],
    ['two per slot for the most slots', demand(), LIMITS.slotsPerVolunteer, 0, LIMITS.slotsPerVolunteer * 2],
  ])('asks for %s', (_name, state, slots, held, expected) => {
    expect(tasksToAskFor(state, slots, held)).toBe(expected);
  });

  it.each<[string, WorkDemand, number, number | undefined, number]>([
    ['two per slot while a task’s time is unknown', demand(), 2, undefined, 4],
    ['two per slot for tasks longer than a batch', demand(), 2, 500, 4],
    ['two batches of BATCH_MS per slot for short tasks', demand(), 2, BATCH_MS / 10, 2 * 2 * 10],
    ['two batches of at most MAX_BATCH per slot for tiny tasks', demand(), 1, 0.001, 2 * MAX_BATCH],
    ['at most a message’s worth in all', demand(), 8, 0.001, LIMITS.tasksPerMessage],
    ['only what it runs under a share below 1, however short', demand({ share: 0.5 }), 2, 0.001, 2],
  ])('asks for %s', (_name, state, slots, taskMs, expected) => {
    expect(tasksToAskFor(state, slots, 0, taskMs)).toBe(expected);
  });
});

describe('batchSize', () => {
  it.each<[number | undefined, number]>([
    [undefined, 1],
    [Number.NaN, 1],
    [BATCH_MS * 2, 1],
    [BATCH_MS / 4, 4],
    [0, MAX_BATCH],
  ])('a task of %s ms: %s per batch', (taskMs, expected) => {
    expect(batchSize(taskMs)).toBe(expected);
  });
});

describe('what the demand allows', () => {
  it.each<[string, WorkDemand, number, number, boolean]>([
    ['keeps a task that fits', demand(), 1, 1, true],
    ['keeps, at full share, up to twice what it asks for: a task’s measured time moves meanwhile', demand(), 1, 3, true],
    ['gives back a task past that', demand(), 1, 4, false],
    ['gives back a task at zero slots', demand(), 0, 0, false],
    ['gives back whatever arrives while paused', demand({ pausedBecause: ['hidden'] }), 4, 0, false],
    ['gives back what it would not run now under a lower share', demand({ share: 0.5 }), 1, 1, false],
  ])('%s', (_name, state, slots, held, expected) => {
    expect(mayHoldAnother(state, slots, held)).toBe(expected);
  });

  it.each<[number, number, number]>([
    [0.5, 1000, 1000],
    [0.25, 1000, 3000],
    [0.05, 100, 1900],
  ])('at share %d, a slot that ran %d ms rests %d ms', (share, ranMs, rest) => {
    expect(restMs(demand({ share }), ranMs)).toBeCloseTo(rest);
  });

  it('does not rest at full share', () => {
    expect(restMs(demand(), 1000)).toBeUndefined();
  });

  it.each<[string, number, number, boolean]>([
    ['after an answer with tasks', 0, 2, true],
    ['after an empty answer, when a hint came meanwhile', 0, 0, true],
    ['not after an empty answer with no hint since', 1, 0, false],
  ])('asks again %s', (_name, workHintsBefore, tasksReceived, expected) => {
    expect(askAgainAfterAnswer(demand({ workHints: 1 }), workHintsBefore, tasksReceived)).toBe(expected);
  });

  it('holds twice its slots at full share and only what it runs below', () => {
    expect([capacity(demand(), 3), capacity(demand({ share: 0.5 }), 3), capacity(demand({ share: 0.5, restingSlots: 5 }), 3)]).toEqual([6, 3, 0]);
  });
});

describe('transitionDemand', () => {
  it.each<[string, WorkDemand, DemandEvent, WorkDemand]>([
    ['pauses for a reason', demand(), { type: 'pause', reason: 'hidden' }, demand({ pausedBecause: ['hidden'] })],
    ['holds several reasons in the order given', demand({ pausedBecause: ['hidden'] }), { type: 'pause', reason: 'on battery' }, demand({ pausedBecause: ['hidden', 'on battery'] })],
    ['lifts one reason', demand({ pausedBecause: ['hidden', 'on battery'] }), { type: 'resume', reason: 'hidden' }, demand({ pausedBecause: ['on battery'] })],
    ['sets a share', demand(), { type: 'set-share', share: 0.5 }, demand({ share: 0.5 })],
    ['clamps a share to the lowest', demand(), { type: 'set-share', share: 0.01 }, demand({ share: 0.05 })],
    ['clamps a share to all', demand({ share: 0.5 }), { type: 'set-share', share: 3 }, demand()],
    ['gives all for a share that is no number', demand({ share: 0.5 }), { type: 'set-share', share: Number.NaN }, demand()],
    ['counts tasks asked for', demand({ tasksAskedFor: 1 }), { type: 'asked', tasks: 3 }, demand({ tasksAskedFor: 4 })],
    ['counts an answer off', demand({ tasksAskedFor: 4 }), { type: 'answered', tasks: 3 }, demand({ tasksAskedFor: 1 })],
    ['never counts below nothing', demand({ tasksAskedFor: 1 }), { type: 'answered', tasks: 3 }, demand()],
    ['forgets the requests of a lost connection', demand({ tasksAskedFor: 4 }), { type: 'connection-lost' }, demand()],
    ['counts hints', demand({ workHints: 2 }), { type: 'work-hint' }, demand({ workHints: 3 })],
    ['rests a slot', demand({ share: 0.5 }), { type: 'rest-started' }, demand({ share: 0.5, restingSlots: 1 })],
    ['ends a rest', demand({ share: 0.5, restingSlots: 2 }), { type: 'rest-ended' }, demand({ share: 0.5, restingSlots: 1 })],
  ])('%s', (_name, from, event, expected) => {
    expect(transitionDemand(from, event)).toEqual(expected);
  });

  it.each<[string, WorkDemand, DemandEvent]>([
    ['a pause for a reason that holds already', demand({ pausedBecause: ['hidden'] }), { type: 'pause', reason: 'hidden' }],
    ['a resume for a reason that does not hold', demand({ pausedBecause: ['hidden'] }), { type: 'resume', reason: 'on battery' }],
    ['the share it has', demand({ share: 0.5 }), { type: 'set-share', share: 0.5 }],
    ['a share that clamps to the one it has', demand(), { type: 'set-share', share: 7 }],
    ['asking for nothing', demand(), { type: 'asked', tasks: 0 }],
    ['an answer to a request for nothing', demand({ tasksAskedFor: 2 }), { type: 'answered', tasks: 0 }],
    ['a lost connection with nothing asked for', demand(), { type: 'connection-lost' }],
  ])('returns the same demand for %s', (_name, from, event) => {
    expect(transitionDemand(from, event)).toBe(from);
  });
});
