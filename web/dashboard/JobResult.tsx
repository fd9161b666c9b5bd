import { useEffect, useState } from 'react';
import type { JobSummary, KeyValue } from '../../shared/job.ts';
import { useApiClient } from './api-context.ts';
import { DownloadLink } from './DownloadLink.tsx';
import { downloadBaseName } from './format.ts';
import { ResultTable } from './ResultTable.tsx';
import { TopValuesChart } from './TopValuesChart.tsx';

interface JobResultProps {
  /** A succeeded job. */
  job: JobSummary;
}

type ResultLoad = { status: 'loading' } | { status: 'loaded'; pairs: KeyValue[] } | { status: 'failed'; message: string };


/** The final output of a succeeded job: its size, download links and a table. */
export function JobResult({ job }: JobResultProps) {
  const api = useApiClient();
  const [load, setLoad] = useState<ResultLoad>({ status: 'loading' });

  useEffect(() => {
    const controller = new AbortController();
    setLoad({ status: 'loading' });
    api.getResult(job.id, controller.signal).then(
      (pairs) => setLoad({ status: 'loaded', pairs }),
      (error: unknown) => {
        if (!controller.signal.aborted) setLoad({ status: 'failed', message: (error as Error).message });
      },
    );
    return () => controller.abort();
  }, [api, job.id]);

  const baseName = downloadBaseName(job.name);
  return (
    <section className="job-result" aria-labelledby="result-heading">
      <h3 id="result-heading">Result</h3>
      <div className="result-bar">
        {load.status === 'loaded' && (
          <span>
            <span data-testid="result-count">{load.pairs.length}</span>{' '}
            {load.pairs.length === 1 ? 'key' : 'keys'}
          </span>
        )}
        <DownloadLink jobId={job.id} format="json" fileName={`${baseName}.json`} testId="download-json">
          Download JSON
        </DownloadLink>
        <DownloadLink jobId={job.id} format="csv" fileName={`${baseName}.csv`} testId="download-csv">
          Download CSV
        </DownloadLink>
      </div>
      {load.status === 'loading' && <p className="muted">Loading the result…</p>}
      {load.status === 'failed' && (
        <p role="alert" className="error-text">
          Could not load the result: {load.message}
        </p>
      )}
      {load.status === 'loaded' &&
        (load.pairs.length === 0 ? (
          <p className="muted">The job produced no keys.</p>
        ) : (
          <>
            <TopValuesChart pairs={load.pairs} />
            <ResultTable pairs={load.pairs} />
          </>
        ))}
    </section>
  );
}
