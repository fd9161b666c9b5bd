/**
 * What coordinators tell each other, over PostgreSQL's LISTEN/NOTIFY: work became
 * claimable, a volunteer must drop tasks or hand some back, something a dashboard shows
 * changed. A
 * transaction publishes with `pg_notify`, which PostgreSQL delivers only when it
 * commits, so no coordinator hears of a change that was rolled back; and every
 * coordinator, the publisher included, hears it through its own listening connection,
 * so there is one path for local and remote changes alike.
 */
import pg from 'pg';
import { z } from 'zod';
import type { Logger } from '../logger.ts';
import type { Sql } from './database.ts';

export const CHANNEL = 'tabreduce';

export type ClusterEvent =
  /** Tasks became claimable: waiting volunteers should ask. */
  | { type: 'work' }
  /** Volunteer `volunteerId` (on whichever coordinator holds it) must stop these tasks. */
  | { type: 'revoke'; volunteerId: string; taskIds: string[]; reason: string }
  /** Volunteer `volunteerId` should hand back up to `max` tasks it has not started, for an idle one (work stealing). */
  | { type: 'yield'; volunteerId: string; max: number }
  /** A job, a task or a volunteer changed: dashboards refresh. */
  | { type: 'changed' };

/**
 * What a notification must be: anyone who can reach the database may NOTIFY on the
 * channel, and a coordinator older or newer than the sender may read it.
 */
const clusterEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('work') }),
  z.object({ type: z.literal('revoke'), volunteerId: z.string(), taskIds: z.array(z.string()), reason: z.string() }),
  z.object({ type: z.literal('yield'), volunteerId: z.string(), max: z.int().min(1) }),
  z.object({ type: z.literal('changed') }),
]) satisfies z.ZodType<ClusterEvent>;

/** A notification's payload as an event; undefined, with why, for one that is not. */
export function parseClusterEvent(payload: string): { event: ClusterEvent } | { problem: string } {
  let json: unknown;
  try {
    json = JSON.parse(payload);
  } catch {
    return { problem: 'not JSON' };
  }
  const parsed = clusterEventSchema.safeParse(json);
  return parsed.success ? { event: parsed.data } : { problem: parsed.error.issues.map((issue) => `${issue.path.join('.') || 'event'}: ${issue.message}`).join('; ') };
}

/** PostgreSQL refuses a payload of 8000 bytes or more. */
const MAX_PAYLOAD_CHARS = 7000;

/** Publishes events with the transaction `sql` is in: they are delivered if, and when, it commits. */
export async function publish(sql: Sql, events: readonly ClusterEvent[]): Promise<void> {
  const payloads: string[] = [];
  for (const event of events) {
    if (event.type !== 'revoke') {
      payloads.push(JSON.stringify(event));
      continue;
    }
    // A job's end may revoke thousands of tasks from one volunteer: as many messages as it takes.
    let taskIds: string[] = [];
    const flush = () => {
      if (taskIds.length > 0) payloads.push(JSON.stringify({ ...event, taskIds }));
      taskIds = [];
    };
    for (const taskId of event.taskIds) {
      if (JSON.stringify({ ...event, taskIds: [...taskIds, taskId] }).length > MAX_PAYLOAD_CHARS) flush();
      taskIds.push(taskId);
    }
    flush();
  }
  // Identical payloads in one transaction are delivered once (PostgreSQL folds them), which is what a wake-up wants.
  if (payloads.length > 0) await sql.query('SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload', [CHANNEL, payloads]);
}

/**
 * Listens on the cluster's channel until `close()`, reconnecting when the connection
 * drops; events published while it was down are lost, so `onReconnect` is told, and
 * the coordinator wakes everyone as if work had come.
 */
export class ClusterEventListener {
  #client: pg.Client | undefined;
  #closed = false;
  #retry: NodeJS.Timeout | undefined;

  constructor(
    private readonly url: string,
    private readonly onEvent: (event: ClusterEvent) => void,
    private readonly onReconnect: () => void,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url });
    client.on('notification', (message) => {
      if (message.channel !== CHANNEL || !message.payload) return;
      const parsed = parseClusterEvent(message.payload);
      if ('problem' in parsed) {
        this.log.warn({ payload: message.payload.slice(0, 200), problem: parsed.problem }, 'a notification on the cluster channel is no cluster event; ignored');
        return;
      }
      try {
        this.onEvent(parsed.event);
      } catch (error) {
        this.log.error({ err: error }, 'a cluster event could not be handled');
      }
    });
    client.on('error', (error) => {
      if (this.#closed) return;
      this.log.warn({ err: error }, 'the connection listening for cluster events dropped; reconnecting');
      this.#reconnectSoon();
    });
    await client.connect();
    await client.query(`LISTEN ${CHANNEL}`);
    this.#client = client;
  }

  #reconnectSoon(): void {
    const dead = this.#client;
    this.#client = undefined;
    void dead?.end().catch(() => {});
    if (this.#retry || this.#closed) return;
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      if (this.#closed) return;
      this.start().then(this.onReconnect, () => this.#reconnectSoon());
    }, 500);
    this.#retry.unref();
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#retry) clearTimeout(this.#retry);
    await this.#client?.end().catch(() => {});
  }
}
