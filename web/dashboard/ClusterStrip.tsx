import type { ClusterSummary } from '../../shared/job.ts';
import { formatBytes, formatDuration, formatTimestamp } from './format.ts';
import { POLL_INTERVAL_MS, type FeedStatus } from './use-dashboard-feed.ts';

interface ClusterStripProps {
  cluster: ClusterSummary | undefined;
  status: FeedStatus;
  pollError: string | undefined;
}

const STATUS_TEXT: Record<FeedStatus, string> = {
  connecting: 'Connecting to live updates…',
  live: 'Live',
  disconnected: `Live updates disconnected: refreshing every ${POLL_INTERVAL_MS / 1000} s`,
};

/** Who is volunteering right now, how busy they are, and whether this page is live. */
export function ClusterStrip({ cluster, status, pollError }: ClusterStripProps) {
  return (
    <section className="cluster-strip" aria-label="Cluster">
      <div className="cluster-figures">
        <span>
          <strong data-testid="volunteer-count">{cluster ? cluster.volunteers : '–'}</strong>{' '}
          {cluster?.volunteers === 1 ? 'volunteer' : 'volunteers'}
        </span>
        <span>
          <strong data-testid="slot-count">{cluster ? `${cluster.busySlots}/${cluster.slots}` : '–'}</strong> worker
          slots busy
        </span>
        <span role="status" className={`feed-status feed-${status}`}>
          {STATUS_TEXT[status]}
        </span>
      </div>
      {pollError && (
        <p role="alert" className="error-text">
          Could not refresh: {pollError}
        </p>
      )}
      {cluster && cluster.volunteerList.length > 0 && (
        <details className="volunteer-details">
          <summary>Volunteers</summary>
          <div className="table-scroll">
            <table className="data-table">
              <thead>
                <tr>
                  <th scope="col">Browser</th>
                  <th scope="col">Slots busy</th>
                  <th scope="col">Tasks done</th>
                  <th scope="col">Tasks failed</th>
                  <th scope="col">Mean task</th>
                  <th scope="col">Data in / out</th>
                  <th scope="col">Votes agreed</th>
                  <th scope="col">Strikes</th>
                  <th scope="col">Connected</th>
                </tr>
              </thead>
              <tbody>
                {cluster.volunteerList.map((volunteer) => (
                  <tr key={volunteer.id} data-testid={`volunteer-row-${volunteer.id}`} className={volunteer.struckOut ? 'struck-out' : undefined}>
                    <td className="wrap-anywhere">{volunteer.agent}</td>
                    <td>
                      {volunteer.running}/{volunteer.slots}
                    </td>
                    <td>{volunteer.tasksDone}</td>
                    <td>{volunteer.tasksFailed}</td>
                    <td>{volunteer.meanTaskMs !== undefined ? formatDuration(volunteer.meanTaskMs) : '–'}</td>
                    <td>
                      {formatBytes(volunteer.bytesSent)} / {formatBytes(volunteer.bytesReceived)}
                    </td>
                    <td>{volunteer.agreed}</td>
                    <td data-testid="volunteer-strikes">
                      {volunteer.strikes}
                      {volunteer.struckOut && <strong className="bad"> struck out: results refused</strong>}
                    </td>
                    <td>{formatTimestamp(volunteer.connectedAtMs)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </details>
      )}
    </section>
  );
}
