/**
 * Work stealing in a cluster: the single coordinator's rule (scheduler/dispatch.ts
 * pickDonor) as one query. When a volunteer asks and gets nothing, the volunteer holding
 * the most leases beyond its slots, in jobs with nothing claimable whose phase's tasks
 * take YIELD_MIN_TASK_MS or more, is asked (through cluster-events.ts, whichever
 * coordinator it is on) to hand back one task it has not started; it goes to the front
 * of its queue, for the idle one.
 */
import { YIELD_MIN_TASK_MS } from '../scheduler/dispatch.ts';
import type { Sql } from './database.ts';

/** The volunteer to ask for a task back on behalf of `idleId`; undefined when nobody holds more than it runs. */
export async function pickDonor(sql: Sql, idleId: string): Promise<string | undefined> {
  const found = await sql.query<{ volunteer_id: string }>(
    `SELECT l.volunteer_id FROM leases l
     JOIN volunteers v ON v.id = l.volunteer_id
     JOIN jobs j ON j.id = l.job_id
     WHERE l.volunteer_id <> $1 AND l.deadline_ms > 0
       AND j.status IN ('queued', 'running')
       AND NOT EXISTS (SELECT 1 FROM tasks c WHERE c.job_id = j.id AND (c.status = 'pending' OR c.copy_wanted))
       AND CASE WHEN l.kind = 'map' THEN j.maps_done = 0 OR j.maps_ms >= $2::bigint * j.maps_done
                ELSE j.reduces_done = 0 OR j.reduces_ms >= $2::bigint * j.reduces_done END
     GROUP BY l.volunteer_id, v.slots
     HAVING count(*) > v.slots
     ORDER BY count(*) - v.slots DESC, l.volunteer_id
     LIMIT 1`,
    [idleId, YIELD_MIN_TASK_MS],
  );
  return found.rows[0]?.volunteer_id;
}
