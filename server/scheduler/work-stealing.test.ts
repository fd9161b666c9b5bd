import { describe, expect, it } from 'vitest';
import { answer, requestNow, setup, submitLetters } from '../../testing/scheduler-fixture.ts';

/** A job of `tasks` map tasks, and volunteers of one slot each (a fair share of the queue is never less than half of it for two). */
function jobOf(tasks: number, volunteers: string[]) {
  const rig = setup({ leaseMs: 60_000 });
  const job = submitLetters(rig.scheduler, 'ab'.repeat(tasks));
  for (const id of volunteers) rig.scheduler.connect(id, 'test', 1, 0);
  return { ...rig, job };
}

describe('work stealing at the end of a phase', () => {
  it('asks the volunteer holding a task beyond its slots to hand one back when another finds nothing', () => {
    const { scheduler, events } = jobOf(3, ['a', 'b']);
    const heldByA = requestNow(scheduler, 'a', 2, 0); // one running, one waiting for its slot
    const [ranByB] = requestNow(scheduler, 'b', 2, 0);
    expect(heldByA).toHaveLength(2);
    answer(scheduler, 'b', ranByB!, 1000);

    expect(requestNow(scheduler, 'b', 2, 1000)).toEqual([]);
    expect(events.yields).toEqual([{ volunteerId: 'a', max: 1 }]);

    // a hands back the task it had not started: b, waiting, is told, and gets it.
    const waiting = heldByA[1]!;
    expect(scheduler.returnTasks('a', [{ taskId: waiting.taskId, leaseToken: waiting.leaseToken }], 1001)).toEqual([waiting.taskId]);
    expect(events.woken).toContain('b');
    expect(requestNow(scheduler, 'b', 2, 1002).map((task) => task.taskId)).toEqual([waiting.taskId]);
  });

  it('asks nobody when every holder runs all it holds', () => {
    const { scheduler, events } = jobOf(2, ['a', 'b', 'c']);
    const [first] = requestNow(scheduler, 'a', 1, 0);
    requestNow(scheduler, 'b', 1, 0);
    expect(requestNow(scheduler, 'c', 1, 0)).toEqual([]);
    answer(scheduler, 'a', first!, 1000);
    expect(requestNow(scheduler, 'a', 1, 1000)).toEqual([]);
    expect(events.yields).toEqual([]);
  });

  it('asks a holder once for each task it holds beyond its slots, however many wait, until it asks again', () => {
    const { scheduler, events } = jobOf(2, ['a']);
    expect(requestNow(scheduler, 'a', 2, 0)).toHaveLength(2);
    scheduler.connect('b', 'test', 1, 0);
    scheduler.connect('c', 'test', 1, 0);
    expect(requestNow(scheduler, 'b', 1, 0)).toEqual([]);
    expect(requestNow(scheduler, 'c', 1, 0)).toEqual([]);
    expect(events.yields).toEqual([{ volunteerId: 'a', max: 1 }]);
    // It asked for work since: what it holds is what it wants, and it may be asked again.
    requestNow(scheduler, 'a', 1, 10);
    expect(requestNow(scheduler, 'b', 1, 10)).toEqual([]);
    expect(events.yields).toEqual([{ volunteerId: 'a', max: 1 }, { volunteerId: 'a', max: 1 }]);
  });

  it('leaves tiny tasks where they are: their batches end soon anyway', () => {
    const { scheduler, events } = jobOf(3, ['a', 'b']);
    const heldByA = requestNow(scheduler, 'a', 2, 0);
    const [ranByB] = requestNow(scheduler, 'b', 2, 0);
    answer(scheduler, 'b', ranByB!, 5); // 5 ms a task
    expect(heldByA).toHaveLength(2);
    expect(requestNow(scheduler, 'b', 2, 5)).toEqual([]);
    expect(events.yields).toEqual([]);
  });

  it('asks nothing while the phase still has a task to hand out, if not yet', () => {
    const { scheduler, events } = jobOf(3, ['a', 'b']);
    expect(requestNow(scheduler, 'a', 2, 0)).toHaveLength(2);
    const [ranByB] = requestNow(scheduler, 'b', 2, 0);
    scheduler.fail('b', ranByB!.taskId, ranByB!.leaseToken, { name: 'Error', message: 'boom' }, 1000);
    // Its retry waits out a backoff of 100 ms, and comes to b then: nothing is asked back.
    expect(requestNow(scheduler, 'b', 2, 1000)).toEqual([]);
    expect(events.yields).toEqual([]);
    expect(requestNow(scheduler, 'b', 2, 1100).map((task) => task.taskId)).toEqual([ranByB!.taskId]);
  });
});
