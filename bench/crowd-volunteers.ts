/**
 * One process of bench/crowd.ts's crowd: COUNT simulated volunteers, each the real
 * `VolunteerClient` of the volunteer tab with the in-process executor (the same task
 * runtime as a tab's Web Worker, run on this thread), on a Socket.IO connection of its own.
 * Run by crowd.ts through `fork`; it talks to its parent over the IPC channel:
 *
 *   → { type: 'connected', count, seconds }   every volunteer welcomed
 *   ← { type: 'stats' }   → { type: 'stats', tasksDone: number[], tasksFailed, errors }
 *   ← { type: 'stop' }    stops every client and exits
 *
 *   node --import tsx bench/crowd-volunteers.ts URL COUNT TAG
 */
import { InProcessExecutor } from '../node-volunteer/in-process-executor.ts';
import { VolunteerClient } from '../runtime/volunteer-client.ts';

const [url, countArg, tag = 'crowd'] = process.argv.slice(2);
const count = Number(countArg);
if (!url || !Number.isInteger(count) || count < 1) {
  console.error('usage: node --import tsx bench/crowd-volunteers.ts URL COUNT [TAG]');
  process.exit(2);
}
const send = (message: unknown) => process.send?.(message);

/** Connections opened at once: a burst of thousands of handshakes helps nobody. */
const BATCH = 50;
const clients: VolunteerClient[] = [];
const executor = new InProcessExecutor({ slots: 1 });
const started = performance.now();

function whenConnected(client: VolunteerClient): Promise<void> {
  if (client.state.connected) return Promise.resolve();
  return new Promise((resolve) => {
    const unsubscribe = client.subscribe((state) => {
      if (state.connected) {
        unsubscribe();
        resolve();
      }
    });
  });
}

for (let i = 0; i < count; i += BATCH) {
  const batch: VolunteerClient[] = [];
  for (let j = i; j < Math.min(count, i + BATCH); j++) {
    const client = new VolunteerClient({
      url,
      // One executor for all: it keeps no per-task state, and runs each task to completion on this thread.
      executor,
      agent: `bench crowd volunteer ${tag}#${j}`,
      // Straight to WebSocket: the steady state a tab reaches after its polling handshake.
      socketOptions: { transports: ['websocket'] },
    });
    client.start();
    batch.push(client);
  }
  clients.push(...batch);
  await Promise.all(batch.map(whenConnected));
}
send({ type: 'connected', count: clients.length, seconds: (performance.now() - started) / 1000 });

process.on('message', (message: { type?: string }) => {
  if (message.type === 'stats') {
    const errors = clients.map((client) => client.state.lastError).filter((error): error is string => error !== undefined);
    send({
      type: 'stats',
      tasksDone: clients.map((client) => client.state.tasksDone),
      tasksFailed: clients.reduce((sum, client) => sum + client.state.tasksFailed, 0),
      connected: clients.filter((client) => client.state.connected).length,
      errors: errors.slice(0, 5),
      errorCount: errors.length,
    });
  } else if (message.type === 'stop') {
    for (const client of clients) client.stop();
    executor.dispose();
    process.exit(0);
  }
});
// The parent gone, there is no one to stop us: go too.
process.on('disconnect', () => process.exit(0));
