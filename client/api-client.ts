/**
 * Typed wrappers for the coordinator's HTTP API (docs/http-api.md). Every call
 * resolves with the parsed body of a 2xx answer or rejects with an `ApiError`.
 *
 * One client for every caller: the dashboard (in the browser, same origin), the Node
 * client library and the CLI. So this file needs nothing but `fetch`: no DOM, no Node
 * APIs.
 *
 * Answers are trusted: they come from our own coordinator, so they are typed here rather
 * than parsed against a schema.
 */
import { isErrorCode, type ErrorCode, type HttpErrorBody } from '../shared/errors.ts';
import type { ClusterSummary, JobSubmission, JobSummary, KeyValue, TaskSummary, UploadedFile } from '../shared/job.ts';

/** `ApiError.code` of an answer without one of the coordinator's codes: `HTTP_` and the status, e.g. `HTTP_502`. */
export type HttpStatusCode = `HTTP_${number}`;

/** What `ApiError.code` may be (docs/errors.md, "What a client sees"). */
export type ApiErrorCode =
  /** The coordinator refused the request (shared/errors.ts, ERROR_CODES). */
  | ErrorCode
  /**
   * No answer arrived: the coordinator could not be reached (refused, unresolvable, TLS),
   * or, while a job is awaited (`waitForJob`), it left every poll unanswered for
   * `unreachableMs`. Status 0.
   */
  | 'NETWORK'
  /**
   * An answer came with an error status but without a code this client knows: an error
   * page from a proxy in between, say, or a code from a newer coordinator.
   */
  | HttpStatusCode;

/** A failed API call: the HTTP status (0 when the request never got an answer), and the server's code and message. */
export class ApiError extends Error {
  /** HTTP status of the answer; 0 when the network failed before one arrived. */
  readonly status: number;
  /** Why it failed, for a program to branch on (`ApiErrorCode`); `message` says it for a person. */
  readonly code: ApiErrorCode;

  constructor(status: number, code: ApiErrorCode, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

export type ResultFormat = 'json' | 'csv';

export interface ApiClientOptions {
  /** Sent as `Authorization: Bearer <token>` on every request when set. Default: none. */
  token?: string;
  /** Prefix of every API path, e.g. `http://host:3000`. Default: '' (same origin). */
  baseUrl?: string;
  /** The fetch to use. Default: the global one; tests pass a fake. */
  fetch?: typeof fetch;
}

export class ApiClient {
  readonly token: string | undefined;
  /** Prefix of every API path, without trailing slashes ('' for the same origin). */
  readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;

  constructor(options: ApiClientOptions = {}) {
    this.token = options.token || undefined;
    // Without trailing slashes, so `baseUrl + '/api/...'` never doubles one.
    this.baseUrl = (options.baseUrl ?? '').replace(/\/+$/, '');
    // Bound so that calling it as a method of this object does not throw "Illegal invocation".
    this.fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  /** `POST /api/jobs`: submits a job and answers its id. */
  async submitJob(submission: JobSubmission, signal?: AbortSignal): Promise<{ id: string }> {
    const response = await this.request('/api/jobs', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(submission),
      signal,
    });
    return (await response.json()) as { id: string };
  }

  /**
   * `POST /api/files`: uploads one input file as raw bytes, for a `files` input. A stream
   * body is sent as it is read, so a file of any size never sits in memory whole
   * (streaming a request body needs Node's fetch, or HTTP/2 in a browser). The Node
   * client sends files from disk with file-upload.ts instead: the same request at a
   * fraction of the CPU.
   */
  async uploadFile(name: string, body: Blob | ReadableStream<Uint8Array>, signal?: AbortSignal): Promise<UploadedFile> {
    // `duplex: 'half'` is what fetch requires of a stream body; DOM's RequestInit lacks it.
    const init: RequestInit & { duplex?: 'half' } = {
      method: 'POST',
      headers: { 'Content-Type': 'application/octet-stream' },
      body,
      signal,
      ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
    };
    const response = await this.request(`/api/files?name=${encodeURIComponent(name)}`, init);
    return (await response.json()) as UploadedFile;
  }

  /** `GET /api/jobs`: every job, newest first. */
  async listJobs(signal?: AbortSignal): Promise<JobSummary[]> {
    return (await (await this.request('/api/jobs', { signal })).json()) as JobSummary[];
  }

  /** `GET /api/jobs/:id`. */
  async getJob(id: string, signal?: AbortSignal): Promise<JobSummary> {
    return (await (await this.request(jobPath(id), { signal })).json()) as JobSummary;
  }

  /** `DELETE /api/jobs/:id`: cancels the job and answers its summary afterwards. */
  async cancelJob(id: string, signal?: AbortSignal): Promise<JobSummary> {
    return (await (await this.request(jobPath(id), { method: 'DELETE', signal })).json()) as JobSummary;
  }

  /** `GET /api/jobs/:id/result`: [key, value] pairs sorted by key. Rejects with status 409 until the job succeeded. */
  async getResult(id: string, signal?: AbortSignal): Promise<KeyValue[]> {
    return (await (await this.request(resultPath(id, 'json'), { signal })).json()) as KeyValue[];
  }

  /**
   * The result file as the server sends it: JSON, or CSV with a `key,value` header
   * (`?format=csv`). For saving to disk when a plain link cannot carry the token.
   */
  async getResultBlob(id: string, format: ResultFormat, signal?: AbortSignal): Promise<Blob> {
    return (await this.getResultResponse(id, format, signal)).blob();
  }

  /** The result's 2xx `Response` with its body unread, for callers that stream it (to a file, to stdout). */
  getResultResponse(id: string, format: ResultFormat, signal?: AbortSignal): Promise<Response> {
    return this.request(resultPath(id, format), { signal });
  }

  /** `GET /api/jobs/:id/tasks`. */
  async listTasks(id: string, signal?: AbortSignal): Promise<TaskSummary[]> {
    return (await (await this.request(`${jobPath(id)}/tasks`, { signal })).json()) as TaskSummary[];
  }

  /** `GET /api/jobs/:id/report`: the job's self-contained HTML report (server/job-report.ts), as a file to save. */
  async getReportBlob(id: string, signal?: AbortSignal): Promise<Blob> {
    return (await this.request(`${jobPath(id)}/report`, { signal })).blob();
  }

  /** The URL of a job's report, for links; with a token, fetch it with `getReportBlob` instead. */
  reportUrl(id: string): string {
    return `${this.baseUrl}${jobPath(id)}/report`;
  }

  /** `GET /api/volunteers`: the volunteers connected right now. */
  async getCluster(signal?: AbortSignal): Promise<ClusterSummary> {
    return (await (await this.request('/api/volunteers', { signal })).json()) as ClusterSummary;
  }

  /**
   * The URL of a job's result, for links. A plain link cannot carry the bearer token:
   * when `token` is set, fetch the file with `getResultBlob` instead.
   */
  resultUrl(id: string, format: ResultFormat): string {
    return this.baseUrl + resultPath(id, format);
  }

  private async request(path: string, init: RequestInit): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.token) headers.set('Authorization', `Bearer ${this.token}`);
    let response: Response;
    try {
      response = await this.fetchImpl(this.baseUrl + path, { ...init, headers });
    } catch (error) {
      // An abort is the caller's own doing: let it through untouched so it can be told apart.
      if (init.signal?.aborted) throw error;
      throw networkError(this.baseUrl, error);
    }
    if (!response.ok) throw await errorFromResponse(response);
    return response;
  }
}

/** The `NETWORK` error of a request to `baseUrl` that got no answer. */
export function networkError(baseUrl: string, error: unknown): ApiError {
  return new ApiError(0, 'NETWORK', `could not reach the coordinator${baseUrl ? ` at ${baseUrl}` : ''}: ${networkDetail(error)}`);
}

/**
 * Why a fetch failed, as specific as the platform says: Node's fetch throws a bare
 * "fetch failed" whose `cause` names the real problem (ECONNREFUSED, ENOTFOUND...).
 */
function networkDetail(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (cause && typeof cause.message === 'string' && cause.message) return cause.message;
  if (cause && typeof cause.code === 'string') return cause.code;
  return (error as Error).message;
}

const jobPath = (id: string): string => `/api/jobs/${encodeURIComponent(id)}`;
const resultPath = (id: string, format: ResultFormat): string =>
  `${jobPath(id)}/result${format === 'csv' ? '?format=csv' : ''}`;

/**
 * Reads the server's `HttpErrorBody`; anything else (a proxy's HTML page, say) becomes a
 * generic message. The body is checked field by field rather than trusted: between the
 * client and the coordinator there may be a proxy that answers in its own words.
 */
export async function errorFromResponse(response: Response): Promise<ApiError> {
  const fallback = `${response.status} ${response.statusText}`.trim();
  const statusCode: HttpStatusCode = `HTTP_${response.status}`;
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    return new ApiError(response.status, statusCode, fallback);
  }
  const { error, code } = (body ?? {}) as { [Field in keyof HttpErrorBody]?: unknown };
  return new ApiError(
    response.status,
    isErrorCode(code) ? code : statusCode,
    typeof error === 'string' && error ? error : fallback,
  );
}
