import { describe, expect, it } from 'vitest';
import type { JobSourceReply, TaskAssignment } from '../shared/protocol.ts';
import { RunningTasks } from './running-tasks.ts';

const assignment = (taskId: string, jobId = 'job-a'): TaskAssignment => ({
  kind: 'reduce',
  taskId,
  jobId,
  index: 0,
  leaseToken: `lease-${taskId}`,
  sourceDigest: 'd',
  timeoutMs: 1000,
  partition: 0,
  blocks: new Uint8Array(),
});
const job = (jobId: string, name: string): JobSourceReply => ({ jobId, name, source: '', digest: 'd' });

describe('RunningTasks', () => {
  it('holds a task once, releases it once, and aborts what it drops', () => {
    const tasks = new RunningTasks();
    const task = tasks.add(assignment('t1'), 1)!;
    expect(tasks.add(assignment('t1'), 1)).toBeUndefined();
    expect(tasks.size).toBe(1);
    expect(tasks.release(task)).toBe(true);
    expect(tasks.release(task)).toBe(false);

    const dropped = tasks.add(assignment('t2'), 1)!;
    expect(tasks.drop('t2')).toBe(true);
    expect(dropped.controller.signal.aborted).toBe(true);
    expect(tasks.drop('t2')).toBe(false);
    // A dropped task's late end does not let go of a newer task with its id.
    const again = tasks.add(assignment('t2'), 2)!;
    expect(tasks.release(dropped)).toBe(false);
    expect(tasks.taskIds()).toEqual(['t2']);
    expect(again.controller.signal.aborted).toBe(false);
  });

  it('names the leases and the unstarted tasks of one session only', () => {
    const tasks = new RunningTasks();
    const old = tasks.add(assignment('old'), 1)!;
    const handed = tasks.add(assignment('handed'), 2)!;
    const waiting = tasks.add(assignment('waiting'), 2)!;
    tasks.add(assignment('fresh'), 2);
    old.handedOver = handed.handedOver = waiting.handedOver = true;
    expect(tasks.leases(2).map((lease) => lease.leaseToken)).toEqual(['lease-handed', 'lease-waiting', 'lease-fresh']);
    expect(tasks.unstarted(2, new Set(['waiting', 'old'])).map((task) => task.assignment.taskId)).toEqual(['waiting', 'fresh']);
  });

  it('shows each job running once, by name and source, once its source is here', () => {
    const tasks = new RunningTasks();
    tasks.add(assignment('a1'), 1)!.job = job('job-a', 'word count');
    tasks.add(assignment('b1', 'job-b'), 1);
    tasks.add(assignment('a2'), 1)!.job = job('job-a', 'word count');
    tasks.add(assignment('c1', 'job-c'), 1)!.job = job('job-c', 'word count');
    expect(tasks.jobs()).toEqual({ currentJobs: ['word count'], runningJobs: [job('job-a', 'word count'), job('job-c', 'word count')] });
  });
});
