/**
 * The body of `POST /api/jobs` (contract: `{ name, source, input, ... }` as JSON),
 * built as a stream, so input files of any size are sent without ever being held in
 * memory whole: each file is read in chunks, decoded as UTF-8 (a character split
 * between two chunks is completed by the decoder first), JSON-escaped chunk by chunk
 * and sent. The coordinator sees exactly what `JSON.stringify` of the whole submission
 * would have given.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { JobInput, JobSubmission } from '../shared/job.ts';
import { LIMITS } from '../shared/limits.ts';
import { InvalidJobError } from './errors.ts';
import { describeFsError } from './job-source.ts';

/**
 * Text files read from disk while the job is sent: the `texts` input of DESIGN.md, one
 * file per path, each named by its path as given (the name is the record key `map`
 * receives).
 */
export interface PathsInput {
  kind: 'paths';
  paths: string[];
}

/** A job input as the Node client takes it: any `JobInput`, or text files streamed from disk. */
export type ClientInput = JobInput | PathsInput;

/** Everything of a submission but its input. */
export type SubmissionHead = Omit<JobSubmission, 'input'>;

export interface SubmissionBody {
  /** UTF-8 JSON of the whole submission. */
  stream: ReadableStream<Uint8Array>;
  /** Bytes of input files to send, from their sizes on disk; 0 when the input is not files. */
  totalBytes: number;
  /** Why the stream stopped early (an input file that could not be read), if it did. */
  failure(): Error | undefined;
}

/** Read size for input files; the JSON-escaped chunk stays well below what a socket write takes at once. */
const CHUNK_BYTES = 1024 * 1024;
const encoder = new TextEncoder();

/**
 * Checks that every input file can be read, then returns the submission as a stream.
 * `onSent(sentBytes, totalBytes)` follows the input files as they are read and handed
 * over to be sent. Throws an `InvalidJobError` ('INPUT_FILE') naming the first file that
 * is missing, a directory or unreadable.
 */
export async function submissionBody(
  head: SubmissionHead,
  input: ClientInput,
  onSent?: (sentBytes: number, totalBytes: number) => void,
): Promise<SubmissionBody> {
  // The input goes last, so everything before it is one small JSON object without its `}`.
  const prefix = `${JSON.stringify(head).slice(0, -1)},"input":`;
  if (input.kind !== 'paths') {
    const whole = encoder.encode(`${prefix}${JSON.stringify(input)}}`);
    return { stream: streamOf([whole]), totalBytes: 0, failure: () => undefined };
  }

  const files = await checkFiles(input.paths);
  const totalBytes = files.reduce((sum, file) => sum + file.bytes, 0);
  let failure: Error | undefined;

  async function* chunks(): AsyncGenerator<Uint8Array> {
    let sentBefore = 0;
    yield encoder.encode(`${prefix}{"kind":"texts","files":[`);
    for (const [index, file] of files.entries()) {
      yield encoder.encode(`${index > 0 ? ',' : ''}{"name":${JSON.stringify(file.name)},"text":"`);
      // `encoding` makes the stream decode through a StringDecoder, which holds back the
      // bytes of a character cut by the chunk boundary until the next chunk completes it.
      const reader = createReadStream(file.path, { encoding: 'utf8', highWaterMark: CHUNK_BYTES });
      let first = true;
      try {
        for await (const chunk of reader as AsyncIterable<string>) {
          // A byte-order mark is not text: drop it, as a browser's File.text() does.
          const text = first && chunk.charCodeAt(0) === 0xfeff ? chunk.slice(1) : chunk;
          first = false;
          // Escaping a slice gives the same characters as escaping the whole text, since
          // JSON escapes each character on its own (a lone surrogate as \udXXX).
          yield encoder.encode(JSON.stringify(text).slice(1, -1));
          onSent?.(sentBefore + reader.bytesRead, totalBytes);
        }
      } catch (error) {
        failure = new InvalidJobError('INPUT_FILE', `cannot read the input file ${file.name}: ${describeFsError(error)}`);
        throw failure;
      }
      sentBefore += reader.bytesRead;
      yield encoder.encode('"}');
    }
    yield encoder.encode(']}}');
  }

  return { stream: streamOf(chunks()), totalBytes, failure: () => failure };
}

/**
 * A byte stream pulling from `chunks` one chunk at a time, so reading keeps pace with
 * sending (`ReadableStream.from` does the same but is missing from the DOM typings).
 * Cancelling it (the server answered early, the caller aborted) closes the generator
 * and with it the open file.
 */
function streamOf(chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> {
  const iterator = Symbol.asyncIterator in chunks ? chunks[Symbol.asyncIterator]() : chunks[Symbol.iterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { value, done } = await iterator.next();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    async cancel() {
      await iterator.return?.();
    },
  });
}

interface InputFile {
  name: string;
  path: string;
  bytes: number;
}

async function checkFiles(paths: string[]): Promise<InputFile[]> {
  if (paths.length === 0) throw new InvalidJobError('INPUT_FILE', 'no input files: give at least one');
  if (paths.length > LIMITS.files) {
    throw new InvalidJobError('INPUT_FILE', `${paths.length} input files; a job takes at most ${LIMITS.files}: concatenate some`);
  }
  return Promise.all(
    paths.map(async (filePath): Promise<InputFile> => {
      if (filePath.length > LIMITS.fileNameChars) {
        throw new InvalidJobError('INPUT_FILE', `the input file name ${filePath.slice(0, 40)}… is longer than ${LIMITS.fileNameChars} characters`);
      }
      let info;
      try {
        info = await stat(filePath);
      } catch (error) {
        throw new InvalidJobError('INPUT_FILE', `cannot read the input file ${filePath}: ${describeFsError(error)}`);
      }
      if (!info.isFile()) {
        throw new InvalidJobError('INPUT_FILE', `the input ${filePath} is ${info.isDirectory() ? 'a directory' : 'not a regular file'}: give text files`);
      }
      return { name: filePath, path: filePath, bytes: info.size };
    }),
  );
}
