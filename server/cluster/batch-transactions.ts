/**
 * The transactions behind the coordinator's batches (batches.ts): the claims of a batch
 * in one transaction, the reports of a batch in another. Each volunteer is served as it
 * would be alone (its fair share, no task to two volunteers, each answer judged alone),
 * and one that is out of strikes, or gone while its claim waited, is refused alone while
 * the others go on. A batch's counters (bytes, tasks done) are one statement for all its
 * volunteers.
 */
import { TabreduceError } from '../../shared/errors.ts';
import type { TaskEnd } from '../../shared/task-batch.ts';
import { BatchRefusal } from './batches.ts';
import { claimTasks, type ClaimScope, type Claimed } from './claims.ts';
import { publish } from './cluster-events.ts';
import type { Database, Sql } from './database.ts';
import { settleEnds, type Settled } from './lease-ends.ts';

/** What the batches' transactions need of their coordinator. */
export interface BatchContext {
  /** The batches' own connections. */
  db: Database;
  scope: ClaimScope;
  maxStrikes: number;
  /** Whether the volunteer is still connected to this coordinator. */
  isLocal(volunteerId: string): boolean;
}

export interface ClaimBatchRequest {
  volunteerId: string;
  max: number;
  nowMs: number;
}

export interface ReportBatchRequest {
  volunteerId: string;
  ends: readonly TaskEnd[];
  nowMs: number;
}

/** One transaction for the claims of a batch; a volunteer struck out, or gone, is refused alone. */
export async function claimBatch(context: BatchContext, requests: readonly ClaimBatchRequest[]): Promise<(Claimed | BatchRefusal)[]> {
  const nowMs = Math.max(...requests.map((request) => request.nowMs));
  return context.db.transaction(async (sql) => {
    const struck = await struckOut(sql, requests.map((request) => request.volunteerId), context.maxStrikes);
    // Gone while its claim waited for the batch: nothing is leased to it.
    for (const { volunteerId } of requests) if (!context.isLocal(volunteerId)) struck.set(volunteerId, new TabreduceError('NOT_READY', 'say volunteer:hello before asking for work'));
    const eligible = requests.filter((request) => !struck.has(request.volunteerId));
    const { each, events } = await claimTasks(sql, context.scope, eligible, nowMs);
    const bytes = new Map<string, number>();
    eligible.forEach((request, index) => {
      if (each[index]!.bytes > 0) bytes.set(request.volunteerId, (bytes.get(request.volunteerId) ?? 0) + each[index]!.bytes);
    });
    if (bytes.size > 0) {
      const ids = [...bytes.keys()].sort();
      await sql.query('UPDATE volunteers v SET bytes_sent = v.bytes_sent + u.bytes FROM unnest($1::text[], $2::bigint[]) AS u(id, bytes) WHERE v.id = u.id', [ids, ids.map((id) => bytes.get(id)!)]);
    }
    await publish(sql, events);
    let at = 0;
    return requests.map((request) => (struck.has(request.volunteerId) ? new BatchRefusal(struck.get(request.volunteerId)) : each[at++]!));
  });
}

/** One transaction for the reports of a batch; a volunteer struck out is refused alone. */
export async function settleBatch(context: BatchContext, reports: readonly ReportBatchRequest[]): Promise<(Settled | BatchRefusal)[]> {
  const nowMs = Math.max(...reports.map((report) => report.nowMs));
  return context.db.transaction(async (sql) => {
    const struck = await struckOut(sql, reports.map((report) => report.volunteerId), context.maxStrikes);
    const eligible = reports.filter((report) => !struck.has(report.volunteerId));
    const { each, events } = await settleEnds(sql, context.scope, eligible, nowMs);
    const sums = new Map<string, [number, number, number, number, number]>();
    eligible.forEach((report, index) => {
      const result = each[index]!;
      const sum = sums.get(report.volunteerId) ?? [0, 0, 0, 0, 0];
      sums.set(report.volunteerId, [sum[0] + result.done, sum[1] + result.failed, sum[2] + result.answeredMs, sum[3] + result.answers, sum[4] + result.bytesReceived]);
    });
    if (sums.size > 0) {
      const ids = [...sums.keys()].sort();
      const column = (i: number) => ids.map((id) => sums.get(id)![i]);
      await sql.query(
        `UPDATE volunteers v SET tasks_done = v.tasks_done + u.done, tasks_failed = v.tasks_failed + u.failed, answered_ms = v.answered_ms + u.answered_ms,
           answers = v.answers + u.answers, bytes_received = v.bytes_received + u.bytes
         FROM unnest($1::text[], $2::int[], $3::int[], $4::bigint[], $5::int[], $6::bigint[]) AS u(id, done, failed, answered_ms, answers, bytes) WHERE v.id = u.id`,
        [ids, column(0), column(1), column(2), column(3), column(4)],
      );
    }
    await publish(sql, events);
    let at = 0;
    return reports.map((report) => (struck.has(report.volunteerId) ? new BatchRefusal(struck.get(report.volunteerId)) : each[at++]!));
  });
}

/** The volunteers among `volunteerIds` out of strikes, each with the refusal it gets. */
async function struckOut(sql: Sql, volunteerIds: string[], maxStrikes: number): Promise<Map<string, TabreduceError>> {
  const found = await sql.query<{ volunteer_id: string; strikes: number }>('SELECT volunteer_id, strikes FROM reputations WHERE volunteer_id = ANY($1::text[]) AND strikes >= $2', [
    [...new Set(volunteerIds)],
    maxStrikes,
  ]);
  return new Map(
    found.rows.map((row) => [
      row.volunteer_id,
      new TabreduceError('FORBIDDEN', `this volunteer's answers lost ${row.strikes} votes against other volunteers'; its results are refused and it gets no more work`),
    ]),
  );
}
