/** What a coordinator takes from the cluster's channel: its own events, and nothing else anyone could NOTIFY. */
import { describe, expect, it } from 'vitest';
import { parseClusterEvent, type ClusterEvent } from './cluster-events.ts';

describe('cluster events on the wire', () => {
  it('reads back every event a coordinator publishes', () => {
    const events: ClusterEvent[] = [
      { type: 'work' },
      { type: 'changed' },
      { type: 'revoke', volunteerId: 'v-1', taskIds: ['job-1/map/0'], reason: 'the job was cancelled' },
      { type: 'yield', volunteerId: 'v-2', max: 1 },
    ];
    for (const event of events) expect(parseClusterEvent(JSON.stringify(event))).toEqual({ event });
  });

  it('refuses, saying why, a payload that is no event', () => {
    expect(parseClusterEvent('not json')).toEqual({ problem: 'not JSON' });
    expect(parseClusterEvent('{"type":"reboot"}')).toMatchObject({ problem: expect.stringContaining('type') });
    expect(parseClusterEvent('{"type":"revoke","volunteerId":"v-1","taskIds":"all","reason":"x"}')).toMatchObject({ problem: expect.stringContaining('taskIds') });
    expect(parseClusterEvent('{"type":"yield","volunteerId":"v-1","max":0}')).toMatchObject({ problem: expect.stringContaining('max') });
  });
});
