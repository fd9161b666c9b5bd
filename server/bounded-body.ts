/**
 * Reads a request body into memory, never more than a limit of it. A body whose
 * `Content-Length` is past the limit is refused before a byte is read; one sent without
 * a length (chunked) is refused the moment it passes the limit, and the request is
 * paused there, so the client's further bytes wait in the socket rather than in memory
 * (the API then answers and drops the connection).
 *
 * With a declared length the body is copied into one buffer of that size as it arrives:
 * collecting the chunks and joining them at the end held every byte twice at the peak.
 */
import type { IncomingMessage } from 'node:http';
import { TabreduceError } from '../shared/errors.ts';

/**
 * The body as one buffer. `tooLarge` makes the refusal, given the declared length when
 * there was one (else the body was found too large as it arrived).
 */
export function readBoundedBody(request: IncomingMessage, maxBytes: number, tooLarge: (declaredBytes?: number) => TabreduceError): Promise<Buffer> {
  const header = request.headers['content-length'];
  // Node's parser refuses a malformed Content-Length before we run; this only tells a length from its absence.
  const declared = header === undefined ? undefined : Number(header);
  if (declared !== undefined && declared > maxBytes) return Promise.reject(tooLarge(declared));
  return new Promise<Buffer>((resolve, reject) => {
    const whole = declared !== undefined ? Buffer.allocUnsafe(declared) : undefined;
    const chunks: Buffer[] = [];
    let received = 0;
    const stop = () => {
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('close', onClose);
      request.off('error', onClose);
    };
    const refuse = (error: TabreduceError) => {
      stop();
      // Without a 'data' listener a flowing stream keeps reading and drops what it reads; paused, it reads nothing more.
      request.pause();
      reject(error);
    };
    const onData = (chunk: Buffer) => {
      if (received + chunk.length > maxBytes) return refuse(tooLarge());
      if (whole) {
        // Node's parser never passes more than the declared length; a body that did would be a bug worth a clear refusal.
        if (received + chunk.length > whole.length) return refuse(new TabreduceError('BAD_REQUEST', `the body is longer than its Content-Length of ${whole.length} bytes`));
        chunk.copy(whole, received);
      } else {
        chunks.push(chunk);
      }
      received += chunk.length;
    };
    const onEnd = () => {
      stop();
      resolve(whole ? whole.subarray(0, received) : Buffer.concat(chunks, received));
    };
    const onClose = () => {
      stop();
      reject(new TabreduceError('BAD_REQUEST', `the connection closed after ${received} bytes of the body, before its end`));
    };
    request.on('data', onData);
    request.once('end', onEnd);
    request.once('close', onClose);
    request.once('error', onClose);
  });
}
