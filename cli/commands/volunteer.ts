/** `tabreduce volunteer`: donate this machine's cores without a browser. */
import os from 'node:os';
import { LIMITS } from '../../shared/limits.ts';
import type { VolunteerState } from '../../runtime/volunteer-state.ts';
import { CONNECTION_OPTIONS, intOption } from '../args.ts';
import { defineCommand, type CliContext } from '../command.ts';
import { connectFrom } from '../connection.ts';
import { EXIT } from '../exit-codes.ts';

export const command = defineCommand(
  {
    name: 'volunteer',
    summary: 'run tasks for a coordinator on this machine, headless (Node worker threads)',
    synopsis: '[--url URL] [--threads N]',
    description: [
      'Connects to the coordinator like a /volunteer tab and runs its map and reduce tasks with the same',
      'task runtime, on worker threads instead of Web Workers: same deadlines, a stuck task\'s thread is',
      'replaced. It reconnects by itself when the coordinator restarts. Ctrl-C stops it; its unfinished',
      'tasks go to other volunteers at once.',
      '',
      'Job code runs with this process\'s rights (no browser sandbox): volunteer only for coordinators',
      'whose jobs you trust.',
    ],
    options: {
      threads: { type: 'string', value: 'N', help: `worker threads, i.e. tasks run at once, 1 to ${LIMITS.slotsPerVolunteer} (default: the logical cores, ${defaultThreads()} here)` },
      url: CONNECTION_OPTIONS.url,
    },
    positionals: { min: 0, max: 0 },
    examples: ['tabreduce volunteer --url http://lab-server:3000', 'tabreduce volunteer --threads 2'],
  },
  async ({ values }, context) => {
    const threads = intOption('threads', values.threads, 1, LIMITS.slotsPerVolunteer) ?? defaultThreads();
    const { url } = connectFrom(values, context);
    await checkReachable(url);

    // Loaded here: Socket.IO's client and the worker pool are this command's alone.
    const [{ WorkerPool }, { VolunteerClient }, { createNodeJobWorker }] = await Promise.all([
      import('../../runtime/worker-pool.ts'),
      import('../../runtime/volunteer-client.ts'),
      import('../../node-volunteer/node-worker.ts'),
    ]);
    const log = logger(context);
    const report = reportChanges(log, url);
    let stopping = false;
    const pool = new WorkerPool({ slots: threads, createWorker: createNodeJobWorker });
    const client = new VolunteerClient({
      url,
      executor: pool,
      agent: `tabreduce volunteer (Node ${process.version}; ${os.platform()} ${os.arch()}; ${os.hostname()})`,
      // Once stopping, the disconnect is ours: not worth a "lost the connection" line.
      onChange: (state) => {
        if (!stopping) report(state);
      },
    });
    log(`volunteering for ${url} with ${threads} worker thread${threads === 1 ? '' : 's'} (Ctrl-C stops)`);
    client.start();

    return new Promise((resolve) => {
      const stop = (signal: NodeJS.Signals) => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        const { tasksDone, tasksFailed } = client.state;
        stopping = true;
        client.stop();
        pool.dispose();
        log(`${signal}: stopped after ${tasksDone} task${tasksDone === 1 ? '' : 's'} done, ${tasksFailed} failed`);
        // Everything is closed; should a stray handle linger, do not hang on it.
        setTimeout(() => process.exit(EXIT.OK), 3_000).unref();
        resolve(EXIT.OK);
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
  },
);

function defaultThreads(): number {
  return Math.min(LIMITS.slotsPerVolunteer, os.availableParallelism());
}

/** Fails fast on a wrong --url (exit 3); once connected, Socket.IO reconnects by itself whatever happens. */
async function checkReachable(url: string): Promise<void> {
  const { ApiClient } = await import('../../client/api-client.ts');
  // GET /api/volunteers needs no token, as volunteering never does.
  await new ApiClient({ baseUrl: url }).getCluster();
}

type Log = (line: string) => void;

function logger(context: CliContext): Log {
  return (line) => context.stdout.write(`${new Date().toTimeString().slice(0, 8)} ${line}\n`);
}

/** Logs what a person watching the terminal wants to know: connection changes, each new job, problems. */
function reportChanges(log: Log, url: string): (state: VolunteerState) => void {
  let previous: VolunteerState | undefined;
  let lastJob: string | undefined;
  return (state) => {
    if (state.connection !== previous?.connection) {
      if (state.connection === 'connected') log(`connected as ${state.volunteerId}, ${state.slots} slots`);
      else if (state.connection === 'disconnected' && previous?.connection === 'connected') log(`lost the connection to ${url}; reconnecting`);
    }
    const job = state.currentJobs.at(-1);
    if (job !== undefined && job !== lastJob) {
      lastJob = job;
      log(`working on "${job}" (${state.tasksDone} tasks done so far)`);
    }
    if (state.lastError && state.lastError !== previous?.lastError) log(`problem: ${state.lastError}`);
    previous = state;
  };
}
