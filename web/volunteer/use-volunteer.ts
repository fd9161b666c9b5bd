import { useEffect, useRef, useState } from 'react';
import { crashContextRecorder } from './crash-context.ts';
import { VolunteerClient } from '../../runtime/volunteer-client.ts';
import type { VolunteerSettings } from './volunteer-settings.ts';
import { initialVolunteerState, type VolunteerState } from '../../runtime/volunteer-state.ts';
import { workerHeartbeat } from './worker-heartbeat.ts';
import { WorkerPool } from '../../runtime/worker-pool.ts';
import { createJobWorker, logicalCores } from './browser-workers.ts';
import { CORE_SHARE_CHANNEL, type CoreShareView } from './core-share.ts';
import { CoreShare, type ChannelLike } from './core-share-locks.ts';

/** Shortest gap between two renders of the volunteer's state, in ms. */
const UI_REFRESH_MS = 150;

export interface VolunteerControls {
  state: VolunteerState;
  /** Whether this browser reports battery state, so "pause on battery" can work. */
  batteryKnown: boolean;
  /** How many workers this tab runs among this browser's volunteer tabs, and why (core-share.ts). */
  coreShare: CoreShareView;
}

/** The reasons to pause this page may give the client. */
const PAUSED_BY_HAND = 'paused by hand';
/** Why a tab set to run only while visible takes no work; the page's background notice quotes it. */
export const HIDDEN = 'this tab is hidden';
const ON_BATTERY = 'the device runs on battery';

/** The BroadcastChannel between this browser's volunteer tabs; undefined where there is none. */
function openCoreShareChannel(onMessage: () => void): ChannelLike {
  const channel = new BroadcastChannel(CORE_SHARE_CHANNEL);
  channel.onmessage = () => onMessage();
  return { post: () => channel.postMessage('look again'), close: () => channel.close() };
}

interface BatteryManagerLike extends EventTarget {
  charging: boolean;
}

/**
 * Volunteers this tab while the component is mounted: a pool of Web Workers and a client
 * connected to `origin`, run as `settings` say (worker count, CPU share, paused, only
 * while visible, not on battery), applied live as they change. The worker count is a
 * wish: the tab runs its share of the device's cores among this browser's volunteer
 * tabs (core-share-locks.ts). Unmounting stops the client and ends the workers.
 */
export function useVolunteer(origin: string, settings: VolunteerSettings): VolunteerControls {
  const [state, setState] = useState<VolunteerState>(() => initialVolunteerState(0));
  const [client, setClient] = useState<VolunteerClient | null>(null);
  const [sharing, setSharing] = useState<CoreShare | null>(null);
  const [coreShare, setCoreShare] = useState<CoreShareView | null>(null);
  const [batteryKnown, setBatteryKnown] = useState(false);
  // Read when the client is (re)created, so a remount keeps the count the user chose.
  const workersRef = useRef(settings.workers);
  workersRef.current = settings.workers;

  useEffect(() => {
    // No worker until this tab knows its share: the other tabs may hold every core.
    const pool = new WorkerPool({ slots: 0, createWorker: createJobWorker });
    // If job code crashes this tab (out of memory), the browser's crash report names us.
    const recordCrashContext = crashContextRecorder();
    // The client changes state several times per task, hundreds of times a second on
    // small tasks; rendering each change kept the main thread busy enough to delay the
    // socket's messages (measured: 170 tasks/s for one tab). The page shows the latest
    // state at most every UI_REFRESH_MS instead.
    let latest: VolunteerState | undefined;
    // Made right after the client, which it drives; the client's changes reach it from then on.
    let cores: CoreShare | undefined;
    let refresh: ReturnType<typeof setTimeout> | undefined;
    const client = new VolunteerClient({
      url: origin,
      executor: pool,
      agent: navigator.userAgent,
      onChange: (next) => {
        recordCrashContext(next.volunteerId);
        // A paused tab wishes for no worker, so that its cores go to this browser's other tabs.
        cores?.setPaused(next.pausedBecause.length > 0);
        cores?.workersChanged();
        latest = next;
        refresh ??= setTimeout(() => {
          refresh = undefined;
          if (latest) setState(latest);
        }, UI_REFRESH_MS);
      },
      // Renewal must not depend on this page's timers, which Chromium throttles while the tab is hidden.
      heartbeat: workerHeartbeat(),
    });
    cores = new CoreShare({
      cores: logicalCores(),
      locks: typeof navigator.locks?.request === 'function' ? navigator.locks : undefined,
      openChannel: typeof BroadcastChannel === 'function' ? openCoreShareChannel : undefined,
      chosen: workersRef.current,
      // Fewer workers: the client hands back at once the tasks it has not started.
      setWorkers: (count) => client.setSlots(count),
      workersAlive: () => pool.workerCount,
      onChange: setCoreShare,
    });
    setClient(client);
    setSharing(cores);
    setState(client.state);
    setCoreShare(cores.view);
    cores.start();
    client.start();
    return () => {
      clearTimeout(refresh);
      setClient(null);
      setSharing(null);
      cores?.stop();
      client.stop();
      pool.dispose();
    };
  }, [origin]);

  useEffect(() => {
    sharing?.setChosen(settings.workers);
  }, [sharing, settings.workers]);

  useEffect(() => {
    if (!client) return;
    client.setShare(settings.share);
    if (settings.paused) client.pause(PAUSED_BY_HAND);
    else client.resume(PAUSED_BY_HAND);
  }, [client, settings.share, settings.paused]);

  useEffect(() => {
    if (!client) return;
    const apply = () => {
      if (settings.onlyWhenVisible && document.visibilityState === 'hidden') client.pause(HIDDEN);
      else client.resume(HIDDEN);
    };
    apply();
    document.addEventListener('visibilitychange', apply);
    return () => document.removeEventListener('visibilitychange', apply);
  }, [client, settings.onlyWhenVisible]);

  useEffect(() => {
    if (!client) return;
    const getBattery = (navigator as Navigator & { getBattery?: () => Promise<BatteryManagerLike> }).getBattery;
    if (typeof getBattery !== 'function') return;
    let battery: BatteryManagerLike | undefined;
    let cancelled = false;
    const apply = () => {
      if (battery && settings.pauseOnBattery && !battery.charging) client.pause(ON_BATTERY);
      else client.resume(ON_BATTERY);
    };
    getBattery.call(navigator).then(
      (found) => {
        if (cancelled) return;
        battery = found;
        setBatteryKnown(true);
        apply();
        found.addEventListener('chargingchange', apply);
      },
      () => setBatteryKnown(false),
    );
    return () => {
      cancelled = true;
      battery?.removeEventListener('chargingchange', apply);
      client.resume(ON_BATTERY);
    };
  }, [client, settings.pauseOnBattery]);

  return { state, batteryKnown, coreShare: coreShare ?? placeholderView(settings.workers) };
}

/** What the page shows before the first render with a client. */
function placeholderView(chosen: number): CoreShareView {
  return { coordinated: true, settled: false, cores: logicalCores(), chosen, paused: false, workers: 0, share: 0, otherTabs: 0, othersHold: 0 };
}
