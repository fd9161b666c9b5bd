import { useCallback, useEffect, useRef, useState } from 'react';
import { crashContextRecorder } from './crash-context.ts';
import { VolunteerClient } from './volunteer-client.ts';
import { initialVolunteerState, type VolunteerState } from './volunteer-state.ts';
import { workerHeartbeat } from './worker-heartbeat.ts';
import { WorkerPool } from './worker-pool.ts';

/** Shortest gap between two renders of the volunteer's state, in ms. */
const UI_REFRESH_MS = 150;

export interface VolunteerControls {
  state: VolunteerState;
  /** The worker count chosen on the page (what the pool is resized to). */
  workers: number;
  /** Resizes the worker pool live and tells the coordinator. */
  setWorkers(count: number): void;
}

/**
 * Volunteers this tab while the component is mounted: a pool of `initialWorkers` Web
 * Workers and a client connected to `origin`. Unmounting stops the client and ends
 * the workers.
 */
export function useVolunteer(origin: string, initialWorkers: number): VolunteerControls {
  const [workers, setWorkerCount] = useState(initialWorkers);
  const [state, setState] = useState<VolunteerState>(() => initialVolunteerState(initialWorkers));
  const clientRef = useRef<VolunteerClient | null>(null);
  // Read when the client is (re)created, so a remount keeps the count the user chose.
  const workersRef = useRef(initialWorkers);

  useEffect(() => {
    const pool = new WorkerPool({ slots: workersRef.current });
    // If job code crashes this tab (out of memory), the browser's crash report names us.
    const recordCrashContext = crashContextRecorder();
    // The client changes state several times per task, hundreds of times a second on
    // small tasks; rendering each change kept the main thread busy enough to delay the
    // socket's messages (measured: 170 tasks/s for one tab). The page shows the latest
    // state at most every UI_REFRESH_MS instead.
    let latest: VolunteerState | undefined;
    let refresh: ReturnType<typeof setTimeout> | undefined;
    const client = new VolunteerClient({
      url: origin,
      executor: pool,
      agent: navigator.userAgent,
      onChange: (next) => {
        recordCrashContext(next.volunteerId);
        latest = next;
        refresh ??= setTimeout(() => {
          refresh = undefined;
          if (latest) setState(latest);
        }, UI_REFRESH_MS);
      },
      // Renewal must not depend on this page's timers, which Chromium throttles while the tab is hidden.
      heartbeat: workerHeartbeat(),
    });
    clientRef.current = client;
    setState(client.state);
    client.start();
    return () => {
      clearTimeout(refresh);
      clientRef.current = null;
      client.stop();
      pool.dispose();
    };
  }, [origin]);

  const setWorkers = useCallback((count: number) => {
    workersRef.current = count;
    setWorkerCount(count);
    clientRef.current?.setSlots(count);
  }, []);

  return { state, workers, setWorkers };
}
