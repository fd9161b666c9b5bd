import { useEffect, useRef, useState } from 'react';
import { crashContextRecorder } from './crash-context.ts';
import { VolunteerClient } from '../../runtime/volunteer-client.ts';
import type { VolunteerSettings } from './volunteer-settings.ts';
import { initialVolunteerState, type VolunteerState } from '../../runtime/volunteer-state.ts';
import { workerHeartbeat } from './worker-heartbeat.ts';
import { WorkerPool } from '../../runtime/worker-pool.ts';
import { createJobWorker } from './browser-workers.ts';

/** Shortest gap between two renders of the volunteer's state, in ms. */
const UI_REFRESH_MS = 150;

export interface VolunteerControls {
  state: VolunteerState;
  /** Whether this browser reports battery state, so "pause on battery" can work. */
  batteryKnown: boolean;
}

/** The reasons to pause this page may give the client. */
const PAUSED_BY_HAND = 'paused by hand';
const HIDDEN = 'this tab is hidden';
const ON_BATTERY = 'the device runs on battery';

interface BatteryManagerLike extends EventTarget {
  charging: boolean;
}

/**
 * Volunteers this tab while the component is mounted: a pool of Web Workers and a client
 * connected to `origin`, run as `settings` say (worker count, CPU share, paused, only
 * while visible, not on battery), applied live as they change. Unmounting stops the
 * client and ends the workers.
 */
export function useVolunteer(origin: string, settings: VolunteerSettings): VolunteerControls {
  const [state, setState] = useState<VolunteerState>(() => initialVolunteerState(settings.workers));
  const [client, setClient] = useState<VolunteerClient | null>(null);
  const [batteryKnown, setBatteryKnown] = useState(false);
  // Read when the client is (re)created, so a remount keeps the count the user chose.
  const workersRef = useRef(settings.workers);
  workersRef.current = settings.workers;

  useEffect(() => {
    const pool = new WorkerPool({ slots: workersRef.current, createWorker: createJobWorker });
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
    setClient(client);
    setState(client.state);
    client.start();
    return () => {
      clearTimeout(refresh);
      setClient(null);
      client.stop();
      pool.dispose();
    };
  }, [origin]);

  useEffect(() => {
    if (!client) return;
    if (client.state.slots !== settings.workers) client.setSlots(settings.workers);
    client.setShare(settings.share);
    if (settings.paused) client.pause(PAUSED_BY_HAND);
    else client.resume(PAUSED_BY_HAND);
  }, [client, settings.workers, settings.share, settings.paused]);

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

  return { state, batteryKnown };
}
