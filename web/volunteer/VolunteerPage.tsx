import { useState } from 'react';
import { BackgroundNotice } from './BackgroundNotice.tsx';
import { formatDuration } from '../dashboard/format.ts';
import type { ConnectionStatus } from '../../runtime/volunteer-state.ts';
import { RunningJobs } from './RunningJobs.tsx';
import { useVolunteer } from './use-volunteer.ts';
import { loadSettings, saveSettings, type VolunteerSettings } from './volunteer-settings.ts';
import { VolunteerControls } from './VolunteerControls.tsx';
import { defaultWorkerCount, logicalCores } from './browser-workers.ts';
import { describeCoreShare } from './core-share.ts';

export interface VolunteerPageProps {
  /** The coordinator's origin; the page is served by the coordinator, so `window.location.origin`. */
  origin: string;
}

const CONNECTION_NOTES: Record<ConnectionStatus, string> = {
  connecting: 'Reaching the coordinator…',
  connected: 'Ready for work.',
  disconnected: 'Lost the coordinator; reconnecting on its own.',
};

/** The volunteer tab: what it is doing, and how much of this device it may use. */
export function VolunteerPage({ origin }: VolunteerPageProps) {
  const cores = logicalCores();
  const [settings, setSettings] = useState(() =>
    loadSettings({ workers: defaultWorkerCount(), share: 1, paused: false, onlyWhenVisible: false, pauseOnBattery: false }, cores),
  );
  const changeSettings = (next: VolunteerSettings) => {
    saveSettings(next);
    setSettings(next);
  };
  const { state, batteryKnown, coreShare } = useVolunteer(origin, settings);
  const { connection, volunteerId, runningJobs, running, waiting, slots, tasksDone, tasksFailed, lastError, pausedBecause, workerMs } = state;

  return (
    <main className="volunteer">
      <header>
        <h1>tabreduce volunteer</h1>
        <p className="intro">
          While this tab stays open, it lends this device’s spare processing power to MapReduce jobs: it runs small
          pieces of them in background workers and sends the results back to the coordinator. Close the tab to stop at
          any time.
        </p>
        <BackgroundNotice onlyWhenVisible={settings.onlyWhenVisible} />
      </header>

      <section className="panel" aria-labelledby="status-heading">
        <h2 id="status-heading">Status</h2>
        <dl className="facts">
          <div>
            <dt>Connection</dt>
            <dd>
              <span className={`status-dot status-${connection}`} aria-hidden="true" />
              <span data-testid="connection-status" aria-live="polite">
                {connection}
              </span>
              <span className="hint"> {CONNECTION_NOTES[connection]}</span>
            </dd>
          </div>
          <div>
            <dt>Volunteer id</dt>
            <dd>
              <code data-testid="volunteer-id">{volunteerId ?? ''}</code>
              {volunteerId === undefined && <span className="muted">none yet</span>}
            </dd>
          </div>
          <div>
            <dt>Working on</dt>
            <dd data-testid="current-job">
              <RunningJobs jobs={runningJobs} />
            </dd>
          </div>
          <div>
            <dt>Taking work</dt>
            <dd data-testid="taking-work">
              {pausedBecause.length === 0 ? 'yes' : <strong>paused: {pausedBecause.join('; ')}</strong>}
            </dd>
          </div>
          <div>
            <dt>Workers</dt>
            <dd data-testid="core-share" data-workers={coreShare.workers} data-share={coreShare.share} aria-live="polite">
              {describeCoreShare(coreShare)}
            </dd>
          </div>
          <div>
            <dt>Running</dt>
            <dd>
              {/* A busy worker may run a batch of tiny tasks: workers are counted, not tasks. */}
              <span data-testid="workers-busy">{Math.min(running, slots)}</span> of {slots} {slots === 1 ? 'worker' : 'workers'} busy
              {waiting > 0 && `, ${waiting} ${waiting === 1 ? 'task' : 'tasks'} waiting for one`}
            </dd>
          </div>
          <div>
            <dt>Tasks done</dt>
            <dd className="count" data-testid="tasks-done">
              {tasksDone}
            </dd>
          </div>
          <div>
            <dt>CPU time given</dt>
            <dd className="count" data-testid="cpu-given">
              {formatDuration(workerMs)}
            </dd>
          </div>
          <div>
            <dt>Tasks failed</dt>
            <dd className={tasksFailed > 0 ? 'count bad' : 'count'} data-testid="tasks-failed">
              {tasksFailed}
            </dd>
          </div>
        </dl>
        {lastError !== undefined && (
          <p className="last-error" data-testid="last-error">
            <strong>Last problem:</strong> <span className="wrap-anywhere">{lastError}</span>
          </p>
        )}
      </section>

      <section className="panel" aria-labelledby="settings-heading">
        <h2 id="settings-heading">How much to give</h2>
        <VolunteerControls settings={settings} maxWorkers={cores} batteryKnown={batteryKnown} onChange={changeSettings} />
      </section>
    </main>
  );
}
