/**
 * Uploaded input files, kept on disk under `<dataDir>/files`. Large inputs come in as
 * raw bytes streamed straight to disk (never parsed, never whole in memory), are cut
 * into splits at line ends by reading only around each cut, and are read back one
 * split at a time when a map task is handed out.
 *
 * A file belongs to the first job that uses it: submitting moves it under that job's
 * id, and it is deleted with the job's intermediate data when the job ends. One that no
 * job uses is deleted by its owner (DELETE /api/files/:id) or once it is older than the
 * coordinator's upload retention (`expire`).
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, openSync, closeSync, readSync, renameSync, rmSync, statSync, existsSync, readdirSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform, type Readable } from 'node:stream';
import { TabreduceError } from '../shared/errors.ts';
import type { UploadedFile } from '../shared/job.ts';
import { runNow, type Steps } from './turns.ts';

/** A piece of a file: `length` bytes from `offset`. */
export interface FileSlice {
  offset: number;
  length: number;
}

const ID_PATTERN = /^f-[0-9a-f]{16}$/;
const NEWLINE = 0x0a;
/** How far back from a cut we look for a line end before scanning forward instead. */
const LOOK_BACK_BYTES = 64 * 1024;

/** Why an upload id is not there, and what to do. */
export function missingUpload(fileId: string): string {
  return `no uploaded file ${fileId}: upload it with POST /api/files (each upload feeds one job, and one that no job uses is deleted after TABREDUCE_UPLOAD_RETENTION_HOURS)`;
}

/** A new upload's id: `f-` and 16 hex digits. */
export function newUploadId(): string {
  return `f-${randomBytes(8).toString('hex')}`;
}

export class InputFiles {
  private readonly uploads: string;
  private readonly owned: string;

  constructor(dataDir: string) {
    this.uploads = path.join(dataDir, 'files', 'uploads');
    this.owned = path.join(dataDir, 'files', 'jobs');
    mkdirSync(this.uploads, { recursive: true });
    mkdirSync(this.owned, { recursive: true });
    // Half-written uploads of a coordinator that died mid-request are useless.
    for (const entry of readdirSync(this.uploads)) if (entry.endsWith('.part')) rmSync(path.join(this.uploads, entry), { force: true });
  }

  /**
   * Streams `body` to disk as a new upload; refuses it past `maxBytes`. Resolves once the
   * upload is stored: its bytes synced to disk and the file renamed into place, so an
   * upload that was answered survives a crash of the coordinator or of the machine.
   * `id` is for a copy of an upload kept elsewhere (cluster/cluster-uploads.ts): the copy keeps its id.
   */
  async save(name: string, body: Readable, maxBytes: number, id = newUploadId()): Promise<UploadedFile> {
    const partial = path.join(this.uploads, `${id}.part`);
    let bytes = 0;
    const limit = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        bytes += chunk.length;
        if (bytes > maxBytes) done(new TabreduceError('PAYLOAD_TOO_LARGE', `the file exceeds the limit of ${maxBytes} bytes (TABREDUCE_MAX_FILE_BYTES)`));
        else done(null, chunk);
      },
    });
    try {
      // flush: fsync before close, so that what the 201 promises is on the disk itself.
      await pipeline(body, limit, createWriteStream(partial, { flush: true }));
    } catch (error) {
      // ENOSPC lands here too: the partial file goes, and gives its space back.
      rmSync(partial, { force: true });
      throw error;
    }
    renameSync(partial, this.uploadPath(id, name));
    await syncDirectory(this.uploads);
    return { id, name, bytes };
  }

  /** Moves an upload under a job; answers the new path. Unknown or already used ids are refused. */
  claim(fileId: string, jobId: string, index: number): { path: string; name: string; bytes: number } {
    const found = this.find(fileId);
    if (!found) throw new TabreduceError('BAD_INPUT', missingUpload(fileId));
    const directory = path.join(this.owned, jobId);
    mkdirSync(directory, { recursive: true });
    // The upload's id stays in the name, so that DELETE /api/files/:id can say which job holds it.
    const target = path.join(directory, `input-${index}.${fileId}`);
    renameSync(found.path, target);
    return { path: target, name: found.name, bytes: found.bytes };
  }

  /** Whether an upload exists, without claiming it. */
  exists(fileId: string): boolean {
    return this.find(fileId) !== undefined;
  }

  /** An upload not yet claimed by a job: where it is, its name and size. */
  find(fileId: string): { path: string; name: string; bytes: number } | undefined {
    const entry = ID_PATTERN.test(fileId) ? readdirSync(this.uploads).find((candidate) => candidate.startsWith(`${fileId}.`) && !candidate.endsWith('.part')) : undefined;
    if (!entry) return undefined;
    const file = path.join(this.uploads, entry);
    return { path: file, name: Buffer.from(entry.slice(fileId.length + 1), 'base64url').toString('utf8'), bytes: statSync(file).size };
  }

  /**
   * Deletes an upload no job has claimed. One a job holds is refused with CONFLICT (it goes
   * with its job); an unknown id with NOT_FOUND.
   */
  delete(fileId: string): UploadedFile {
    const found = this.find(fileId);
    if (found) {
      rmSync(found.path, { force: true });
      return { id: fileId, name: found.name, bytes: found.bytes };
    }
    const holder = ID_PATTERN.test(fileId) ? readdirSync(this.owned).find((jobId) => readdirSync(path.join(this.owned, jobId)).some((entry) => entry.endsWith(`.${fileId}`))) : undefined;
    if (holder) throw new TabreduceError('CONFLICT', `upload ${fileId} is the input of job ${holder}, and is deleted when that job ends: cancel the job with DELETE /api/jobs/${holder} to delete it now`);
    throw new TabreduceError('NOT_FOUND', `no upload ${fileId}: never made, deleted already, expired (TABREDUCE_UPLOAD_RETENTION_HOURS), or its job ended`);
  }

  /**
   * Deletes uploads that no job claimed within `retentionMs` of their arrival (their
   * last write); answers their ids. A half-written upload is left to its request.
   */
  expire(nowMs: number, retentionMs: number): string[] {
    const expired: string[] = [];
    for (const entry of readdirSync(this.uploads)) {
      if (entry.endsWith('.part')) continue;
      const file = path.join(this.uploads, entry);
      // A file gone since the listing is no reason to fail the whole sweep.
      const stats = statSync(file, { throwIfNoEntry: false });
      if (stats && nowMs - stats.mtimeMs > retentionMs) {
        rmSync(file, { force: true });
        expired.push(entry.slice(0, entry.indexOf('.')));
      }
    }
    return expired;
  }

  /** Deletes the input files a job owns. */
  release(jobId: string): void {
    const directory = path.join(this.owned, jobId);
    if (existsSync(directory)) rmSync(directory, { recursive: true, force: true });
  }

  /** Deletes files owned by jobs that are not in `liveJobIds` (left by a crash mid-submit). */
  releaseAllBut(liveJobIds: ReadonlySet<string>): void {
    for (const jobId of readdirSync(this.owned)) if (!liveJobIds.has(jobId)) this.release(jobId);
  }

  private uploadPath(id: string, name: string): string {
    // The name rides in the file name, base64url so any name is a safe path segment.
    return path.join(this.uploads, `${id}.${Buffer.from(name).toString('base64url')}`);
  }
}

/** Makes a rename in `directory` survive a crash of the machine: the directory entry itself is synced. */
async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Cuts a file into slices of about `splitBytes`, each ending just after a newline (or at
 * the end of the file), reading only a window around each cut. Like splitAtLines for
 * strings, a line longer than `splitBytes` makes a slice of its own. Stops after
 * `maxSlices + 1` slices: enough to tell a file cut too finely, whose slices of a 16 GiB
 * upload at 1 KiB would take gigabytes to list.
 */
export function sliceAtLines(file: string, splitBytes: number, maxSlices = Infinity): FileSlice[] {
  return runNow(sliceAtLinesInSteps(file, splitBytes, maxSlices));
}

/** Slices found between two yields of `sliceAtLinesInSteps`: each is a read of up to 64 KiB, about 1.5 µs from the page cache. */
const SLICES_PER_STEP = 1024;

/**
 * sliceAtLines in steps (server/turns.ts): an upload cut into 250,000 slices took 300 to
 * 500 ms of reads, which a submission runs a slice of the event loop at a time.
 */
export function* sliceAtLinesInSteps(file: string, splitBytes: number, maxSlices = Infinity): Steps<FileSlice[]> {
  const size = statSync(file).size;
  const slices: FileSlice[] = [];
  const fd = openSync(file, 'r');
  try {
    const window = Buffer.allocUnsafe(LOOK_BACK_BYTES);
    let start = 0;
    while (start < size && slices.length <= maxSlices) {
      const target = start + splitBytes;
      if (target >= size) {
        slices.push({ offset: start, length: size - start });
        break;
      }
      const windowStart = Math.max(start, target - LOOK_BACK_BYTES);
      const read = readSync(fd, window, 0, target - windowStart, windowStart);
      const back = window.subarray(0, read).lastIndexOf(NEWLINE);
      const end = back >= 0 ? windowStart + back + 1 : forwardLineEnd(fd, target, size, window);
      slices.push({ offset: start, length: end - start });
      start = end;
      if (slices.length % SLICES_PER_STEP === 0) yield;
    }
  } finally {
    closeSync(fd);
  }
  return slices;
}

/** The offset just after the first newline at or after `from`, or the file size. */
function forwardLineEnd(fd: number, from: number, size: number, buffer: Buffer): number {
  for (let at = from; at < size; ) {
    const read = readSync(fd, buffer, 0, Math.min(buffer.length, size - at), at);
    const found = buffer.subarray(0, read).indexOf(NEWLINE);
    if (found >= 0) return at + found + 1;
    at += read;
  }
  return size;
}

/** Reads one slice of a file, off the event loop: how a map task's input leaves an uploaded file when the task is handed out. */
export async function readSlice(file: string, slice: FileSlice): Promise<Uint8Array> {
  const buffer = Buffer.allocUnsafe(slice.length);
  const handle = await open(file, 'r');
  try {
    let done = 0;
    while (done < slice.length) {
      const { bytesRead } = await handle.read(buffer, done, slice.length - done, slice.offset + done);
      if (bytesRead === 0) throw new Error(`${file} ended before ${slice.offset + slice.length} bytes`);
      done += bytesRead;
    }
  } finally {
    await handle.close();
  }
  return buffer;
}
