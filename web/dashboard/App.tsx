import { useRef } from 'react';
import { useApiClient } from './api-context.ts';
import { ClusterStrip } from './ClusterStrip.tsx';
import { InvitePanel } from './InvitePanel.tsx';
import { JobsList } from './JobsList.tsx';
import { JobView } from './JobView.tsx';
import { SubmitPanel } from './SubmitPanel.tsx';
import { TokenForm } from './TokenForm.tsx';
import { useDashboardFeed } from './use-dashboard-feed.ts';
import { useSelectedJob } from './use-selected-job.ts';

/** Below this width the layout is one column (dashboard.css), and the job view sits under the list. */
const ONE_COLUMN_QUERY = '(max-width: 899px)';

interface AppProps {
  /** A submit token the user typed in, for a coordinator that wants one. */
  onToken: (token: string) => void;
}

/** The dashboard: submit jobs, watch them, read their results. */
export function App({ onToken }: AppProps) {
  const api = useApiClient();
  const feed = useDashboardFeed(api);
  const [selectedId, select] = useSelectedJob();
  const jobViewRef = useRef<HTMLDivElement>(null);

  const selectJob = (id: string) => {
    select(id);
    // In one column the job view is below the fold: bring it up, or the click seems to do nothing.
    if (window.matchMedia(ONE_COLUMN_QUERY).matches) {
      requestAnimationFrame(() => jobViewRef.current?.scrollIntoView({ block: 'start' }));
    }
  };

  return (
    <>
      <header className="site-header">
        <h1>tabreduce</h1>
        <a href="/volunteer">Volunteer this tab</a>
      </header>
      {feed.unauthorized && <TokenForm refused={api.token !== undefined} onToken={onToken} />}
      <ClusterStrip cluster={feed.cluster} status={feed.status} pollError={feed.unauthorized ? undefined : feed.pollError} />
      <main className="columns">
        <div className="column">
          <InvitePanel origin={window.location.origin} volunteers={feed.cluster?.volunteerList} />
          <SubmitPanel jobs={feed.jobs ?? []} onSubmitted={selectJob} />
          <JobsList jobs={feed.jobs} selectedId={selectedId} onSelect={selectJob} />
        </div>
        <div className="column" ref={jobViewRef}>
          {selectedId === undefined ? (
            <section className="panel" aria-labelledby="no-job-heading">
              <h2 id="no-job-heading">No job selected</h2>
              <p className="muted">Submit a job, or pick one from the list, to follow it here.</p>
            </section>
          ) : (
            <JobView
              key={selectedId}
              jobId={selectedId}
              feedJob={feed.jobs?.find((job) => job.id === selectedId)}
            />
          )}
        </div>
      </main>
    </>
  );
}
