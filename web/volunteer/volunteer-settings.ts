/**
 * What a volunteer chose on its page, remembered in localStorage so the next visit
 * gives what the last one did. Anything unreadable falls back to the defaults.
 */
export interface VolunteerSettings {
  workers: number;
  /** Share of each worker's time, 0.25 to 1 (see VolunteerClient.setShare). */
  share: number;
  /** Paused by hand. */
  paused: boolean;
  /** Work only while this tab is visible (Page Visibility API). */
  onlyWhenVisible: boolean;
  /** Pause while the device runs on battery (Battery Status API, where the browser has it). */
  pauseOnBattery: boolean;
}

export const SHARES = [1, 0.75, 0.5, 0.25] as const;

const STORAGE_KEY = 'tabreduce.volunteer';

export function loadSettings(defaults: VolunteerSettings, maxWorkers: number): VolunteerSettings {
  let stored: Partial<Record<keyof VolunteerSettings, unknown>> = {};
  try {
    stored = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? '{}') as typeof stored;
  } catch {
    // Blocked storage or a mangled entry: the defaults.
  }
  const workers = Number(stored.workers);
  const share = Number(stored.share);
  return {
    workers: Number.isInteger(workers) && workers >= 1 && workers <= maxWorkers ? workers : defaults.workers,
    share: (SHARES as readonly number[]).includes(share) ? share : defaults.share,
    paused: typeof stored.paused === 'boolean' ? stored.paused : defaults.paused,
    onlyWhenVisible: typeof stored.onlyWhenVisible === 'boolean' ? stored.onlyWhenVisible : defaults.onlyWhenVisible,
    pauseOnBattery: typeof stored.pauseOnBattery === 'boolean' ? stored.pauseOnBattery : defaults.pauseOnBattery,
  };
}

export function saveSettings(settings: VolunteerSettings): void {
  try {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(settings));
  } catch {
    // Not remembered; the page still works.
  }
}
