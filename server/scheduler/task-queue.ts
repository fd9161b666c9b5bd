/**
 * A FIFO of task indices with O(1) take-from-front: a job of 100,000 map tasks must
 * not pay a 100,000-element shift for every task handed out. Retried tasks join at
 * the back. Taking from the middle (when the tasks in front are backing off) is
 * allowed but linear; it is rare, since retries are the only tasks that back off.
 */
export class TaskQueue {
  private items: number[] = [];
  private head = 0;
  /** What the queue holds, so a task is never queued twice (a replicated task may return while queued). */
  private readonly members = new Set<number>();

  constructor(indices: Iterable<number> = []) {
    for (const index of indices) this.push(index);
  }

  get size(): number {
    return this.items.length - this.head;
  }

  has(index: number): boolean {
    return this.members.has(index);
  }

  /** Queues a task at the back; a task queued already stays where it is. */
  push(index: number): void {
    if (this.members.has(index)) return;
    this.members.add(index);
    this.items.push(index);
  }

  /** Queues a task at the front (a replicated task that wants another copy soon); no-op if queued. */
  pushFront(index: number): void {
    if (this.members.has(index)) return;
    this.members.add(index);
    if (this.head > 0) this.items[--this.head] = index;
    else this.items.unshift(index);
  }

  clear(): void {
    this.items = [];
    this.head = 0;
    this.members.clear();
  }

  /** The first index, front to back, for which `accept` holds, removed from the queue. */
  takeFirst(accept: (index: number) => boolean): number | undefined {
    for (let position = this.head; position < this.items.length; position++) {
      const index = this.items[position]!;
      if (!accept(index)) continue;
      this.members.delete(index);
      if (position === this.head) {
        this.head++;
        this.compact();
      } else {
        this.items.splice(position, 1);
      }
      return index;
    }
    return undefined;
  }

  /** True when some index satisfies `accept`, without removing it. */
  some(accept: (index: number) => boolean): boolean {
    for (let position = this.head; position < this.items.length; position++) {
      if (accept(this.items[position]!)) return true;
    }
    return false;
  }

  /** Drops the consumed front once it outweighs the live part, so memory stays bounded. */
  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
