/** What a volunteer tab shows about itself; `VolunteerClient` publishes a new object on every change. */
import type { JobSourceReply } from '../shared/protocol.ts';

/**
 * - `connecting`: started, not yet welcomed by the coordinator.
 * - `connected`: welcomed; tasks flow.
 * - `disconnected`: the connection dropped (Socket.IO is reconnecting) or the client stopped.
 */
export type ConnectionStatus = 'connecting' | 'connected' | 'disconnected';

export interface VolunteerState {
  connection: ConnectionStatus;
  /** Shorthand for `connection === 'connected'`. */
  connected: boolean;
  /** The id the coordinator gave this connection; undefined until welcomed and after a drop. */
  volunteerId: string | undefined;
  /** Worker slots: tasks this tab runs at once. */
  slots: number;
  /** Tasks started on a worker and not finished (a worker may run a batch of several). */
  running: number;
  /** Tasks held but not started: the next input of each worker, handed out ahead so it never waits. */
  waiting: number;
  /** Tasks whose result the coordinator accepted, since the client started. */
  tasksDone: number;
  /** Tasks whose job code failed or timed out here and were reported as failed. */
  tasksFailed: number;
  /** Names of the jobs whose tasks are running, in the order they started. */
  currentJobs: string[];
  /** The jobs whose tasks run here now: name, submitter, code digest and the code itself, to be read. */
  runningJobs: JobSourceReply[];
  /** Why the tab takes no work now (paused by hand, hidden, on battery); empty while it works. */
  pausedBecause: string[];
  /** Share of each worker's time given, 0 < share <= 1: after a task, a worker rests in proportion. */
  share: number;
  /** Time the workers spent running tasks, in ms: the CPU time this tab has given. */
  workerMs: number;
  /** The last thing that went wrong, as one readable line; undefined if nothing did since the last welcome. */
  lastError: string | undefined;
}

export const initialVolunteerState = (slots: number): VolunteerState => ({
  connection: 'connecting',
  connected: false,
  volunteerId: undefined,
  slots,
  running: 0,
  waiting: 0,
  tasksDone: 0,
  tasksFailed: 0,
  currentJobs: [],
  runningJobs: [],
  pausedBecause: [],
  share: 1,
  workerMs: 0,
  lastError: undefined,
});
