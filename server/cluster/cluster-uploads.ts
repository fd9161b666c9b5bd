/**
 * Uploaded input files in a cluster: kept in PostgreSQL, in chunks, since coordinators
 * share no disk, so an upload sent to one coordinator can feed a job submitted on any.
 *
 * A job that names uploads is planned as the single coordinator plans one (job-planner.ts
 * cuts files at line ends from disk): the uploads are copied to a scratch InputFiles
 * under their own ids, planned there, and each split's bytes go into the job's map inputs
 * in the database. The uploads are deleted in the transaction that stores the job, so an
 * upload feeds one job, once, whichever coordinator takes it.
 */
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { TabreduceError } from '../../shared/errors.ts';
import type { UploadedFile } from '../../shared/job.ts';
import { missingUpload, newUploadId, readSlice, type InputFiles } from '../input-files.ts';
import { decodeMapInput, encodeMapInput } from '../map-input.ts';
import type { Database, Sql } from './database.ts';

/** Bytes per chunk row: large enough that a 16 GiB upload is 16,384 rows, small enough to hold a few in memory. */
const CHUNK_BYTES = 1 << 20;

export class ClusterUploads {
  constructor(private readonly db: Database) {}

  /**
   * Streams `body` into the database as a new upload, refused past `maxBytes`; resolves
   * once it is committed whole. Each chunk is its own statement, so a slow client holds no
   * pooled connection between chunks; the upload is usable only once marked complete, and
   * one cut short is deleted (or, if this coordinator dies, expires with the retention).
   */
  async save(name: string, body: Readable, maxBytes: number): Promise<UploadedFile> {
    const id = newUploadId();
    await this.db.query('INSERT INTO uploads (id, name, bytes, created_at_ms, complete) VALUES ($1, $2, 0, $3, FALSE)', [id, name, Date.now()]);
    let bytes = 0;
    let seq = 0;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const flush = async () => {
      if (pendingBytes === 0) return;
      const chunk = Buffer.concat(pending, pendingBytes);
      pending = [];
      pendingBytes = 0;
      await this.db.query('INSERT INTO upload_chunks (upload_id, seq, data) VALUES ($1, $2, $3)', [id, seq++, chunk]);
    };
    try {
      await pipeline(
        body,
        new Transform({
          transform(chunk: Buffer, _encoding, done) {
            bytes += chunk.length;
            if (bytes > maxBytes) return done(new TabreduceError('PAYLOAD_TOO_LARGE', `the file exceeds the limit of ${maxBytes} bytes (TABREDUCE_MAX_FILE_BYTES)`));
            pending.push(chunk);
            pendingBytes += chunk.length;
            if (pendingBytes < CHUNK_BYTES) return done();
            flush().then(() => done(), done);
          },
          flush(done) {
            flush().then(() => done(), done);
          },
        }),
      );
      await this.db.query('UPDATE uploads SET bytes = $2, complete = TRUE WHERE id = $1', [id, bytes]);
    } catch (error) {
      await this.db.query('DELETE FROM uploads WHERE id = $1', [id]).catch(() => {});
      throw error;
    }
    return { id, name, bytes };
  }

  /** Deletes an upload no job has used; an unknown one is NOT_FOUND. */
  async delete(fileId: string): Promise<UploadedFile> {
    const deleted = await this.db.query<{ name: string; bytes: number }>('DELETE FROM uploads WHERE id = $1 AND complete RETURNING name, bytes', [fileId]);
    const row = deleted.rows[0];
    if (!row) throw new TabreduceError('NOT_FOUND', `no upload ${fileId}: never made, deleted already, expired (TABREDUCE_UPLOAD_RETENTION_HOURS), or used by a job`);
    return { id: fileId, name: row.name, bytes: row.bytes };
  }

  /** Deletes uploads older than `retentionMs` that no job used; answers their ids. */
  async expire(nowMs: number, retentionMs: number): Promise<string[]> {
    const expired = await this.db.query<{ id: string }>('DELETE FROM uploads WHERE created_at_ms < $1 RETURNING id', [nowMs - retentionMs]);
    return expired.rows.map((row) => row.id);
  }

  /** Copies these uploads into `scratch` under their own ids, for the planner to cut; an unknown one is BAD_INPUT. */
  async stage(fileIds: readonly string[], scratch: InputFiles, maxBytes: number): Promise<void> {
    for (const fileId of new Set(fileIds)) {
      const found = await this.db.query<{ name: string }>('SELECT name FROM uploads WHERE id = $1 AND complete', [fileId]);
      if (!found.rows[0]) throw new TabreduceError('BAD_INPUT', missingUpload(fileId));
      await scratch.save(found.rows[0].name, Readable.from(this.#chunks(fileId)), maxBytes, fileId);
    }
  }

  async *#chunks(fileId: string): AsyncGenerator<Buffer> {
    for (let seq = 0; ; seq++) {
      const chunk = await this.db.query<{ data: Buffer }>('SELECT data FROM upload_chunks WHERE upload_id = $1 AND seq = $2', [fileId, seq]);
      if (!chunk.rows[0]) return;
      yield chunk.rows[0].data;
    }
  }

  /** Deletes the uploads a job used, in its transaction; one gone meanwhile (another job took it) refuses the job. */
  async claim(sql: Sql, fileIds: readonly string[]): Promise<void> {
    const deleted = await sql.query<{ id: string }>('DELETE FROM uploads WHERE id = ANY($1::text[]) AND complete RETURNING id', [[...fileIds]]);
    const gone = fileIds.find((fileId) => !deleted.rows.some((row) => row.id === fileId));
    if (gone) throw new TabreduceError('BAD_INPUT', missingUpload(gone));
  }
}

/** A planned map input with an upload's split read into it, so it lives in the database and not on a disk. */
export async function inlineFileInput(stored: Uint8Array): Promise<Uint8Array> {
  const source = decodeMapInput(stored);
  if (source.format !== 'file') return stored;
  const bytes = await readSlice(source.path, { offset: source.offset, length: source.length });
  return encodeMapInput({ format: 'text', key: source.key, bytes });
}
