import { useState, type MouseEvent, type ReactNode } from 'react';
import type { ResultFormat } from '../../client/api-client.ts';
import { useApiClient } from './api-context.ts';

interface DownloadLinkProps {
  jobId: string;
  /** The result in a format, or the job's HTML report. */
  format: ResultFormat | 'report';
  /** The name the browser saves the file under. */
  fileName: string;
  testId: string;
  children: ReactNode;
}

/** Long enough for the browser to start reading a blob URL after the click that opened it. */
const BLOB_URL_LIFETIME_MS = 60_000;

/**
 * A link that downloads a job's result or report. Without a token it is a plain link to the result
 * endpoint; with one, the click fetches the file with the Authorization header (which
 * a link cannot send) and saves it from a blob URL instead.
 */
export function DownloadLink({ jobId, format, fileName, testId, children }: DownloadLinkProps) {
  const api = useApiClient();
  const [error, setError] = useState<string | undefined>(undefined);

  const downloadWithToken = async (event: MouseEvent<HTMLAnchorElement>) => {
    event.preventDefault();
    setError(undefined);
    try {
      const url = URL.createObjectURL(await (format === 'report' ? api.getReportBlob(jobId) : api.getResultBlob(jobId, format)));
      const anchor = document.createElement('a');
      anchor.href = url;
      anchor.download = fileName;
      anchor.click();
      setTimeout(() => URL.revokeObjectURL(url), BLOB_URL_LIFETIME_MS);
    } catch (caught) {
      setError((caught as Error).message);
    }
  };

  return (
    <>
      <a
        className="button-link"
        href={format === 'report' ? api.reportUrl(jobId) : api.resultUrl(jobId, format)}
        download={fileName}
        data-testid={testId}
        onClick={api.token ? (event) => void downloadWithToken(event) : undefined}
      >
        {children}
      </a>
      {error && (
        <span role="alert" className="error-text">
          {error}
        </span>
      )}
    </>
  );
}
