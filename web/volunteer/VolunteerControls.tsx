import { useId } from 'react';
import { SHARES, type VolunteerSettings } from './volunteer-settings.ts';
import { WorkerCountField } from './WorkerCountField.tsx';

interface VolunteerControlsProps {
  settings: VolunteerSettings;
  maxWorkers: number;
  /** Whether this browser reports battery state (Chromium does; Firefox and Safari do not). */
  batteryKnown: boolean;
  onChange: (next: VolunteerSettings) => void;
}

/** How much of this device the tab may use: workers, their share, and when to stop. */
export function VolunteerControls({ settings, maxWorkers, batteryKnown, onChange }: VolunteerControlsProps) {
  const ids = useId();
  const set = (patch: Partial<VolunteerSettings>) => onChange({ ...settings, ...patch });
  return (
    <div className="controls">
      <div className="control-row">
        <button
          type="button"
          className={settings.paused ? 'primary' : undefined}
          data-testid="pause-toggle"
          aria-pressed={settings.paused}
          onClick={() => set({ paused: !settings.paused })}
        >
          {settings.paused ? 'Resume' : 'Pause'}
        </button>
        <span className="hint">Pausing hands back at once the tasks not started yet; the ones running finish.</span>
      </div>
      <WorkerCountField value={settings.workers} max={maxWorkers} onChange={(workers) => set({ workers })} />
      <div className="field">
        <label htmlFor={`${ids}-share`}>CPU share of each worker</label>
        <select id={`${ids}-share`} data-testid="cpu-share" value={settings.share} onChange={(event) => set({ share: Number(event.target.value) })}>
          {SHARES.map((share) => (
            <option key={share} value={share}>
              {share * 100}%{share === 1 ? ' (all it can)' : ''}
            </option>
          ))}
        </select>
        <p className="hint">Below 100%, a worker rests after each task in proportion to how long it ran.</p>
      </div>
      <div className="check">
        <input
          id={`${ids}-visible`}
          type="checkbox"
          data-testid="only-when-visible"
          checked={settings.onlyWhenVisible}
          onChange={(event) => set({ onlyWhenVisible: event.target.checked })}
        />
        <label htmlFor={`${ids}-visible`}>Run only while this tab is visible</label>
      </div>
      <div className="check">
        <input
          id={`${ids}-battery`}
          type="checkbox"
          data-testid="pause-on-battery"
          disabled={!batteryKnown}
          checked={settings.pauseOnBattery}
          onChange={(event) => set({ pauseOnBattery: event.target.checked })}
        />
        <label htmlFor={`${ids}-battery`}>
          Pause while on battery{!batteryKnown && <span className="muted"> (this browser does not report its battery)</span>}
        </label>
      </div>
    </div>
  );
}
