/**
 * A volunteer's own controls over real sockets: pausing gives back the tasks it holds
 * but has not started, at once and without spending their attempts, while the task it
 * runs finishes and is reported; a lower CPU share makes it hold only what it runs.
 */
import { describe, expect, it } from 'vitest';
import type { TaskSummary } from '../shared/job.ts';
import type { JobSourceReply, TaskAssignment, TaskOutput } from '../shared/protocol.ts';
import { InProcessExecutor } from '../node-volunteer/in-process-executor.ts';
import { taskRevoked, type TaskExecutor } from '../runtime/task-executor.ts';
import { api, startVolunteer, stopAfterEach, testCoordinator, waitFor, waitForJobEnd } from '../testing/integration-rig.ts';

const TRIVIAL = 'export function map(k, v, emit) { emit(v % 2, 1); }\nexport function reduce(k, vs) { return vs.length; }';

/** One slot; tasks beyond it wait unstarted; the running one finishes when the test says. */
class GatedExecutor implements TaskExecutor {
  readonly slots = 1;
  readonly inner = new InProcessExecutor();
  #running: string | undefined;
  #waiting: { taskId: string; start: () => void }[] = [];
  #open: (() => void) | undefined;

  async run(assignment: TaskAssignment, job: JobSourceReply, signal: AbortSignal): Promise<TaskOutput> {
    if (this.#running !== undefined) {
      await new Promise<void>((resolve, reject) => {
        const entry = { taskId: assignment.taskId, start: resolve };
        this.#waiting.push(entry);
        signal.addEventListener('abort', () => {
          this.#waiting = this.#waiting.filter((other) => other !== entry);
          reject(taskRevoked());
        });
      });
    }
    this.#running = assignment.taskId;
    await new Promise<void>((resolve) => (this.#open = resolve));
    try {
      return await this.inner.run(assignment, job, signal);
    } finally {
      this.#running = undefined;
      this.#waiting.shift()?.start();
    }
  }

  get runningTask(): string | undefined {
    return this.#running;
  }

  /** Lets the running task finish. */
  finish(): void {
    this.#open?.();
  }

  unstarted(): string[] {
    return this.#waiting.map((entry) => entry.taskId);
  }

  resize(): void {}
  dispose(): void {}
}

describe('volunteer controls', () => {
  const rig = stopAfterEach();

  it('pause gives back unstarted tasks at once, with no attempt spent; the running one is reported', async () => {
    const coordinator = (rig.coordinator = await testCoordinator());
    const gated = new GatedExecutor();
    const pausing = startVolunteer(coordinator.url, gated);
    rig.volunteers.push(pausing);
    await waitFor('the gated volunteer', () => pausing.state()?.connected);
    const { body } = await api<{ id: string }>(coordinator.url, '/api/jobs', {
      method: 'POST',
      json: { name: 'controls', source: TRIVIAL, input: { kind: 'range', from: 0, to: 6 }, recordsPerTask: 1, reducers: 1 },
    });
    // One running, one waiting behind it: the volunteer holds two slots' worth.
    await waitFor('a task running and one waiting', () => gated.runningTask !== undefined && gated.unstarted().length === 1);
    const waiting = gated.unstarted()[0]!;
    const running = gated.runningTask!;

    pausing.client.pause('paused by hand');
    const tasks = async () => (await api<TaskSummary[]>(coordinator.url, `/api/jobs/${body.id}/tasks`)).body;
    await waitFor('the waiting task back at the coordinator', async () => (await tasks()).find((task) => task.id === waiting)?.status === 'pending');
    expect((await tasks()).find((task) => task.id === waiting)).toMatchObject({ attemptsStarted: 0 });
    expect(pausing.state().pausedBecause).toEqual(['paused by hand']);

    // Another volunteer does the rest; the paused one finishes its task and takes no more.
    rig.volunteers.push(startVolunteer(coordinator.url));
    gated.finish();
    const job = await waitForJobEnd(coordinator.url, body.id);
    expect(job.state).toBe('succeeded');
    const byTask = new Map((await tasks()).map((task) => [task.id, task.volunteerId]));
    expect(byTask.get(running)).toBe(pausing.state().volunteerId);
    expect(byTask.get(waiting)).not.toBe(pausing.state().volunteerId);
    expect(pausing.state().tasksDone).toBe(1);

    pausing.client.resume('paused by hand');
    expect(pausing.state().pausedBecause).toEqual([]);
  });

  it('a share below 1 holds only the tasks it runs, rests between them, and counts worker time', async () => {
    const coordinator = (rig.coordinator = await testCoordinator());
    const volunteer = startVolunteer(coordinator.url, new InProcessExecutor({ slots: 2 }));
    rig.volunteers.push(volunteer);
    await waitFor('a volunteer', () => volunteer.state()?.connected);
    volunteer.client.setShare(0.5);
    const { body } = await api<{ id: string }>(coordinator.url, '/api/jobs', {
      method: 'POST',
      json: { name: 'half share', source: TRIVIAL, input: { kind: 'range', from: 0, to: 20 }, recordsPerTask: 1, reducers: 1 },
    });
    let most = 0;
    await waitFor('the job to end', async () => {
      most = Math.max(most, (await coordinator.scheduler.cluster()).volunteerList[0]?.running ?? 0);
      return (await api<{ state: string }>(coordinator.url, `/api/jobs/${body.id}`)).body.state === 'succeeded';
    });
    expect(most).toBeLessThanOrEqual(2);
    expect(volunteer.state().share).toBe(0.5);
    expect(volunteer.state().workerMs).toBeGreaterThan(0);
  });
});
