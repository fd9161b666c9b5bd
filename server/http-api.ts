/**
 * The HTTP API (contract: docs/http-api.md). Routes are few and fixed, so they are matched by
 * hand; every body is size-limited, parsed, and checked against its schema before the
 * scheduler sees it, and every error is a JSON `HttpErrorBody` (`{ error, code }`) with
 * the status its code has in shared/errors.ts (docs/errors.md).
 */
import type { Logger } from './logger.ts';
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { TabreduceError } from '../shared/errors.ts';
import { describeZodError, jobSubmissionSchema } from '../shared/schemas.ts';
import { LIMITS } from '../shared/limits.ts';
import type { UploadedFile } from '../shared/job.ts';
import type { DiskSpace } from './disk-space.ts';
import { readBoundedBody } from './bounded-body.ts';
import type { InputFiles } from './input-files.ts';
import { renderJobReport, REPORT_CONTENT_SECURITY_POLICY } from './job-report.ts';
import { planJobInTurns } from './job-planner.ts';
import { sendResult } from './result-response.ts';
import type { MaybePromise, SchedulerService } from './scheduler-service.ts';

export interface HttpApiOptions {
  maxBodyBytes: number;
  /** Largest uploaded input file, in bytes. */
  maxFileBytes: number;
  /** Largest message from a volunteer, in bytes (TABREDUCE_MAX_MESSAGE_BYTES): each map task must fit one. Default: no limit. */
  maxMessageBytes?: number;
  /** Where the planner finds the uploads a `files` input names, and where they stay while their job runs. */
  files: InputFiles;
  /**
   * Where `POST /api/files` keeps uploads and `DELETE /api/files/:id` deletes them: `files`
   * itself on a single coordinator; the database in a cluster, whose uploads are copied
   * into `files` by `stageUploads` before a job naming them is planned.
   */
  uploads?: UploadRoutes;
  stageUploads?: (fileIds: readonly string[]) => Promise<void>;
  /** Free space: new jobs and uploads are refused below its floor. */
  disk: DiskSpace;
  /** Resolves once every write so far is committed: what "stored" answers wait for (a 507 when the disk had no room). */
  stored: () => Promise<void>;
  /** Replication of jobs that do not ask for one. Default 1. */
  defaultReplication?: number;
  newJobId: () => string;
  /** When set, job endpoints need `Authorization: Bearer <token>`. */
  token?: string;
  now: () => number;
  log: Logger;
}

/** What the upload routes need of where uploads are kept. */
export interface UploadRoutes {
  save(name: string, body: Readable, maxBytes: number): Promise<UploadedFile>;
  delete(fileId: string): MaybePromise<UploadedFile>;
}

/**
 * Map inputs from which a submission is worth a line when its storing starts: it takes a
 * while (about a second per 100,000, other work going on between its pieces).
 */
const SLOW_SUBMIT_INPUTS = 10_000;

type Handler = (request: IncomingMessage, response: ServerResponse, params: { id?: string; query: URLSearchParams }) => Promise<void> | void;

export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

function sendError(response: ServerResponse, error: TabreduceError): void {
  sendJson(response, error.status, error.toHttpBody());
}

async function readJsonBody(request: IncomingMessage, maxBytes: number): Promise<unknown> {
  const type = request.headers['content-type'] ?? '';
  if (!/^application\/json\b/i.test(type)) {
    throw new TabreduceError('UNSUPPORTED_MEDIA_TYPE', `send the job as JSON with content-type application/json (got "${type || 'none'}")`);
  }
  const text = (await readBoundedBody(request, maxBytes, (declared) => jsonTooLarge(declared, maxBytes))).toString('utf8');
  if (text.trim() === '') throw new TabreduceError('BAD_REQUEST', 'the body is empty; send the job as JSON');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new TabreduceError('BAD_REQUEST', `the body is not valid JSON: ${(error as Error).message}`);
  }
}

/** The 413 for a JSON body: it points at the upload route, which takes inputs of any size without holding them in memory. */
function jsonTooLarge(declaredBytes: number | undefined, maxBytes: number): TabreduceError {
  const size = declaredBytes === undefined ? 'the body is' : `the body is ${declaredBytes} bytes,`;
  return new TabreduceError(
    'PAYLOAD_TOO_LARGE',
    `${size} over the limit of ${maxBytes} bytes for JSON (TABREDUCE_MAX_BODY_BYTES): upload large inputs as raw files with POST /api/files and submit them as a "files" input`,
  );
}

function tokenMatches(header: string | undefined, token: string): boolean {
  return sameSecret(/^Bearer\s+(.+)$/i.exec(header ?? '')?.[1]?.trim() ?? '', token);
}

/** Compares a presented secret with the real one in time that does not depend on where they differ. */
export function sameSecret(presented: string, token: string): boolean {
  const a = Buffer.from(presented);
  const b = Buffer.from(token);
  // timingSafeEqual needs equal lengths; compare against ourselves to keep the time flat.
  return a.length === b.length ? timingSafeEqual(a, b) : (timingSafeEqual(b, b), false);
}

export function createHttpApi(scheduler: SchedulerService, options: HttpApiOptions) {
  const routes: { method: string; pattern: RegExp; handler: Handler; auth: boolean }[] = [];
  const route = (method: string, pattern: RegExp, handler: Handler, auth = true) => routes.push({ method, pattern, handler, auth });

  route('GET', /^\/api\/health$/, (_request, response) => sendJson(response, 200, { ok: true }), false);

  route('POST', /^\/api\/jobs$/, async (request, response) => {
    options.disk.requireRoom('job', Number(request.headers['content-length'] ?? 0) || 0);
    const body = await readJsonBody(request, options.maxBodyBytes);
    const parsed = jobSubmissionSchema.safeParse(body);
    if (!parsed.success) throw new TabreduceError('BAD_REQUEST', describeZodError(parsed.error));
    const jobId = options.newJobId();
    let job;
    // Planned and stored a slice of the event loop at a time, so that a job of 250,000 map
    // tasks blocks nobody else; it is in no list until stored, and the 201 follows its commit.
    try {
      const { input } = parsed.data;
      if (input.kind === 'files') await options.stageUploads?.(input.files.map((ref) => ref.fileId));
      // The planner asks at once whether the job a job input names is held: it is looked up first, however the scheduler answers.
      const upstream = input.kind === 'job' ? await scheduler.getJob(input.id) : undefined;
      const plan = await planJobInTurns(parsed.data, {
        jobId,
        files: options.files,
        defaultReplication: options.defaultReplication,
        maxMessageBytes: options.maxMessageBytes,
        workerSlots: (await scheduler.cluster()).slots,
        hasJob: (upstreamId) => upstream?.id === upstreamId,
      });
      if (plan.mapInputs.length >= SLOW_SUBMIT_INPUTS) options.log.info({ jobId, mapInputs: plan.mapInputs.length }, `job "${plan.name}": storing its map inputs`);
      job = await scheduler.submitInTurns(plan, options.now());
    } catch (error) {
      // Refused, or its commit failed: nothing of the job is stored, and its uploads are let go.
      if (!(await scheduler.getJob(jobId))) options.files.release(jobId);
      throw error;
    }
    options.log.info({ jobId: job.id, mapTasks: job.mapTasks, reducers: job.reducers, ...(job.awaiting ? { awaiting: job.awaiting.jobId } : {}) }, `job "${job.name}" submitted`);
    sendJson(response, 201, { id: job.id });
  });

  // Raw upload of one input file, streamed to disk: for inputs too large for a JSON body.
  route('POST', /^\/api\/files$/, async (request, response, { query }) => {
    const name = query.get('name') ?? '';
    if (name === '' || name.length > LIMITS.fileNameChars) {
      throw new TabreduceError('BAD_REQUEST', `give the file's name as ?name=..., 1 to ${LIMITS.fileNameChars} characters`);
    }
    const type = request.headers['content-type'] ?? 'application/octet-stream';
    if (/^(application\/json|multipart\/)/i.test(type)) {
      throw new TabreduceError('UNSUPPORTED_MEDIA_TYPE', 'send the file itself as the body (text/plain or application/octet-stream), not JSON or a form');
    }
    const declared = Number(request.headers['content-length'] ?? 0);
    if (declared > options.maxFileBytes) {
      throw new TabreduceError('PAYLOAD_TOO_LARGE', `the file is ${declared} bytes; the limit is ${options.maxFileBytes} (TABREDUCE_MAX_FILE_BYTES)`);
    }
    options.disk.requireRoom('upload', declared || 0);
    const file = await (options.uploads ?? options.files).save(name, request, options.maxFileBytes);
    sendJson(response, 201, file);
  });

  route('DELETE', /^\/api\/files\/([^/]+)$/, async (_request, response, { id }) => {
    const deleted = await (options.uploads ?? options.files).delete(id!);
    options.log.info({ uploadId: id }, 'upload deleted');
    sendJson(response, 200, deleted);
  });

  route('GET', /^\/api\/jobs$/, async (_request, response) => sendJson(response, 200, await scheduler.listJobs()));

  route('GET', /^\/api\/jobs\/([^/]+)$/, async (_request, response, { id }) => {
    const job = await scheduler.getJob(id!);
    if (!job) throw new TabreduceError('NOT_FOUND', `no job ${id}`);
    sendJson(response, 200, job);
  });

  route('DELETE', /^\/api\/jobs\/([^/]+)$/, async (_request, response, { id }) => {
    const job = await scheduler.cancel(id!, options.now());
    await options.stored();
    options.log.info({ jobId: id }, 'job cancelled');
    sendJson(response, 200, job);
  });

  route('GET', /^\/api\/jobs\/([^/]+)\/result$/, async (_request, response, { id, query }) => {
    const format = query.get('format') ?? 'json';
    if (format !== 'json' && format !== 'csv') {
      throw new TabreduceError('BAD_REQUEST', `format must be json or csv, got "${format}"`);
    }
    await sendResult(response, await scheduler.getResult(id!), format, id!);
  });

  route('GET', /^\/api\/jobs\/([^/]+)\/tasks$/, async (_request, response, { id }) => sendJson(response, 200, await scheduler.getTasks(id!)));

  route('GET', /^\/api\/jobs\/([^/]+)\/report$/, async (_request, response, { id }) => {
    const job = await scheduler.getJob(id!);
    if (!job) throw new TabreduceError('NOT_FOUND', `no job ${id}`);
    const html = renderJobReport(job, await scheduler.getTasks(id!), options.now());
    response.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'content-length': Buffer.byteLength(html),
      // Its own policy replaces the web app's: inline styles and SVG, and no script at all.
      'content-security-policy': REPORT_CONTENT_SECURITY_POLICY,
      'content-disposition': `attachment; filename="tabreduce-report-${id!.replace(/[^\w.-]/g, '_')}.html"`,
    });
    response.end(html);
  });

  route('GET', /^\/api\/jobs\/([^/]+)\/source$/, async (_request, response, { id }) => sendJson(response, 200, await scheduler.getSource(id!)));

  // A volunteer's worker fetches a large split here (FetchedMapInput): no submit token,
  // since volunteers have none; the live lease in the path is what allows it.
  route(
    'GET',
    /^\/api\/inputs\/([^/]+)$/,
    async (_request, response, { id }) => {
      const bytes = await scheduler.leasedInput(decodeURIComponent(id!));
      response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': bytes.byteLength, 'cache-control': 'no-store' }).end(bytes);
    },
    false,
  );
  route('GET', /^\/api\/volunteers$/, async (_request, response) => sendJson(response, 200, await scheduler.cluster()), false);

  /** Handles an /api request; answers false when the path is not under /api. */
  return async function handleApi(request: IncomingMessage, response: ServerResponse): Promise<boolean> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (!url.pathname.startsWith('/api/') && url.pathname !== '/api') return false;
    try {
      const matching = routes.filter((candidate) => candidate.pattern.test(url.pathname));
      if (matching.length === 0) throw new TabreduceError('NOT_FOUND', `no route ${url.pathname}`);
      const matched = matching.find((candidate) => candidate.method === request.method);
      if (!matched) {
        response.setHeader('allow', matching.map((candidate) => candidate.method).join(', '));
        throw new TabreduceError('METHOD_NOT_ALLOWED', `${request.method} is not allowed on ${url.pathname}`);
      }
      if (matched.auth && options.token && !tokenMatches(request.headers.authorization, options.token)) {
        throw new TabreduceError('UNAUTHORIZED', 'this coordinator needs a submit token: send Authorization: Bearer <token>');
      }
      const id = matched.pattern.exec(url.pathname)?.[1];
      await matched.handler(request, response, { ...(id ? { id: decodeURIComponent(id) } : {}), query: url.searchParams });
    } catch (caught) {
      const error = options.disk.refusalFor(caught) ?? caught;
      // Said before the answer, so that a client does not send its next request on a connection about to be dropped (below).
      if (!request.complete && !response.headersSent) response.setHeader('connection', 'close');
      if (error instanceof TabreduceError) {
        sendError(response, error);
      } else {
        options.log.error({ err: error, method: request.method, path: url.pathname }, 'request failed');
        sendError(response, new TabreduceError('INTERNAL', 'the coordinator failed on this request; see its log'));
      }
      // A body we refused may still be arriving; drop the connection rather than read it all.
      if (!request.complete) response.once('finish', () => request.destroy());
    }
    return true;
  };
}
