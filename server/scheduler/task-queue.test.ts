import { describe, expect, it } from 'vitest';
import { TaskQueue } from './task-queue.ts';

describe('TaskQueue', () => {
  it('hands out indices front to back, retries at the back', () => {
    const queue = new TaskQueue([0, 1, 2]);
    expect(queue.takeFirst(() => true)).toBe(0);
    queue.push(0);
    expect([queue.takeFirst(() => true), queue.takeFirst(() => true), queue.takeFirst(() => true)]).toEqual([1, 2, 0]);
    expect(queue.takeFirst(() => true)).toBeUndefined();
    expect(queue.size).toBe(0);
  });

  it('skips indices that are not ready, keeping them in place', () => {
    const queue = new TaskQueue([5, 6, 7]);
    expect(queue.takeFirst((index) => index !== 5)).toBe(6);
    expect(queue.some((index) => index === 5)).toBe(true);
    expect(queue.takeFirst(() => true)).toBe(5);
    expect(queue.size).toBe(1);
  });

  it('stays fast and bounded over a long run', () => {
    const queue = new TaskQueue(Array.from({ length: 200_000 }, (_, i) => i));
    const started = performance.now();
    let taken = 0;
    while (queue.takeFirst(() => true) !== undefined) taken++;
    expect(taken).toBe(200_000);
    // Quadratic shifting would take minutes here; linear takes milliseconds.
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('holds a task once, and puts a task at the front when asked', () => {
    const queue = new TaskQueue([1, 2]);
    queue.push(2);
    queue.pushFront(1);
    expect(queue.size).toBe(2);
    expect(queue.takeFirst(() => true)).toBe(1);
    queue.pushFront(1);
    expect(queue.has(1)).toBe(true);
    expect([queue.takeFirst(() => true), queue.takeFirst(() => true), queue.takeFirst(() => true)]).toEqual([1, 2, undefined]);
    expect(queue.has(1)).toBe(false);
  });
});
