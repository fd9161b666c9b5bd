import { describe, expect, it } from 'vitest';
import { initialTaskState } from '../../shared/task.ts';
import type { TaskRecord } from '../store/job-store.ts';
import { LeaseTable, type LeaseEntry } from './lease-table.ts';

const task = (jobId: string, index: number): TaskRecord => ({ id: `${jobId}/map/${index}`, jobId, kind: 'map', index, state: initialTaskState() });

describe('LeaseTable', () => {
  const a0 = task('a', 0);
  const a1 = task('a', 1);
  const b0 = task('b', 0);
  const entries: LeaseEntry[] = [
    { token: 't1', volunteerId: 'v1', jobId: 'a', task: a0 },
    { token: 't2', volunteerId: 'v2', jobId: 'a', task: a0 },
    { token: 't3', volunteerId: 'v1', jobId: 'a', task: a1 },
    { token: 't4', volunteerId: 'v1', jobId: 'b', task: b0 },
  ];
  const filled = () => {
    const table = new LeaseTable();
    for (const entry of entries) table.add(entry);
    return table;
  };

  it('indexes every lease by token, volunteer, job and task', () => {
    const table = filled();
    expect(table.size).toBe(4);
    expect(table.get('t3')?.task).toBe(a1);
    expect(table.ofVolunteer('v1').map((entry) => entry.token)).toEqual(['t1', 't3', 't4']);
    expect(table.ofJob('a').map((entry) => entry.token)).toEqual(['t1', 't2', 't3']);
    expect(table.countOfJob('a')).toBe(3);
    expect(table.countOfVolunteer('v2')).toBe(1);
    expect([...table.tasksOfJob('a')]).toEqual([a0, a1]);
  });

  it('keeps every index in step when a lease ends, and forgets empty ones', () => {
    const table = filled();
    expect(table.remove('t1')?.token).toBe('t1');
    expect(table.remove('t1')).toBeUndefined();
    table.remove('t4');
    expect(table.size).toBe(2);
    expect(table.ofVolunteer('v1').map((entry) => entry.token)).toEqual(['t3']);
    expect(table.countOfJob('b')).toBe(0);
    expect(table.ofJob('b')).toEqual([]);
    expect([...table.tasksOfJob('a')]).toEqual([a0, a1]);
    table.remove('t2');
    expect([...table.tasksOfJob('a')]).toEqual([a1]);
  });

  it('finds a lease only for its own volunteer and task, and refuses a live token twice', () => {
    const table = filled();
    expect(table.find('v1', 'a/map/0', 't1')?.token).toBe('t1');
    expect(table.find('v2', 'a/map/0', 't1')).toBeUndefined();
    expect(table.find('v1', 'a/map/1', 't1')).toBeUndefined();
    expect(() => table.require('v2', 'a/map/0', 't1')).toThrow(expect.objectContaining({ code: 'LEASE_INVALID' }));
    expect(() => table.add(entries[0]!)).toThrow(/live already/);
  });

  it('gives snapshots that stay whole while leases end during iteration', () => {
    const table = filled();
    const seen: string[] = [];
    for (const entry of table.ofVolunteer('v1')) {
      seen.push(entry.token);
      table.remove(entry.token);
    }
    expect(seen).toEqual(['t1', 't3', 't4']);
    expect(table.size).toBe(1);
  });
});
