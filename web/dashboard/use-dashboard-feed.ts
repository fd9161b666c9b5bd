import { useEffect, useRef, useState } from 'react';
import { io, type Socket } from 'socket.io-client';
import type { ClusterSummary, JobSummary } from '../../shared/job.ts';
import {
  DASHBOARD_NAMESPACE,
  type CoordinatorToDashboardEvents,
  type DashboardSnapshot,
  type DashboardToCoordinatorEvents,
} from '../../shared/protocol.ts';
import type { ApiClient } from '../../client/api-client.ts';

/** While live updates are down, the jobs and the cluster are polled this often. */
export const POLL_INTERVAL_MS = 3000;

export type FeedStatus = 'connecting' | 'live' | 'disconnected';

export interface DashboardFeed {
  /** Newest first; undefined until the first snapshot or poll answers. */
  jobs: JobSummary[] | undefined;
  cluster: ClusterSummary | undefined;
  status: FeedStatus;
  /** Why the last poll failed, while polling; cleared by the next success. */
  pollError: string | undefined;
  /** The coordinator wants a submit token this page does not have (or has wrong). */
  unauthorized: boolean;
}

/**
 * Jobs and volunteers as the coordinator last reported them. Snapshots arrive over the
 * dashboard Socket.IO namespace; whenever that socket is not connected the same data
 * is polled over HTTP, so the page keeps working (less promptly) without it.
 */
export function useDashboardFeed(api: ApiClient): DashboardFeed {
  const [snapshot, setSnapshot] = useState<DashboardSnapshot | undefined>(undefined);
  const [status, setStatus] = useState<FeedStatus>('connecting');
  const [pollError, setPollError] = useState<string | undefined>(undefined);
  const [unauthorized, setUnauthorized] = useState(false);
  // Read by a poll as it lands: the socket may have connected, and sent a newer snapshot,
  // before React ran the cleanup that aborts the poll.
  const liveRef = useRef(false);

  useEffect(() => {
    const socket: Socket<CoordinatorToDashboardEvents, DashboardToCoordinatorEvents> = io(DASHBOARD_NAMESPACE, {
      // WebSocket only: behind a load balancer over many coordinators, HTTP long-polling
      // would need every request of a session on one coordinator (sticky sessions).
      transports: ['websocket'],
      ...(api.token ? { auth: { token: api.token } } : {}),
    });
    const setLive = (live: boolean) => {
      liveRef.current = live;
      setStatus(live ? 'live' : 'disconnected');
    };
    socket.on('connect', () => setLive(true));
    socket.on('disconnect', () => setLive(false));
    socket.on('connect_error', () => setLive(false));
    socket.on('dashboard:snapshot', (next) => setSnapshot(next));
    return () => {
      socket.disconnect();
    };
  }, [api]);

  useEffect(() => {
    if (status === 'live') return;
    // Aborting on cleanup keeps a poll that was in flight when the socket came back
    // from overwriting the newer snapshot.
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async (): Promise<void> => {
      try {
        const [jobs, cluster] = await Promise.all([
          api.listJobs(controller.signal),
          api.getCluster(controller.signal),
        ]);
        // A poll answered from before the socket's first snapshot must not overwrite it
        // (seen: a tab's new worker count lost on the dashboard until the next change).
        if (controller.signal.aborted || liveRef.current) return;
        setSnapshot({ jobs, cluster });
        setPollError(undefined);
        setUnauthorized(false);
      } catch (error) {
        if (controller.signal.aborted) return;
        setPollError((error as Error).message);
        setUnauthorized((error as { status?: number }).status === 401);
      }
      timer = setTimeout(() => void poll(), POLL_INTERVAL_MS);
    };
    void poll();
    return () => {
      controller.abort();
      clearTimeout(timer);
    };
  }, [api, status]);

  return {
    jobs: snapshot?.jobs,
    cluster: snapshot?.cluster,
    status,
    pollError: status === 'live' ? undefined : pollError,
    unauthorized: status !== 'live' && unauthorized,
  };
}
