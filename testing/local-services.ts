/**
 * What the helpers that run real services for tests (postgres-server.ts, nginx-proxy.ts)
 * share: a port to give them, whether it is open, and the end of their logs for an
 * error message.
 */
import { existsSync, readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';

/**
 * A TCP port on 127.0.0.1 that was free a moment ago. Another process can take it
 * before the service binds it, so callers retry with a new one when the bind fails.
 */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('listening on port 0 gave no TCP port');
  return address.port;
}

/** Whether something accepts a TCP connection on 127.0.0.1:port right now. */
export function acceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The last `lines` lines of a log file, or a note saying it does not exist. */
export function fileTail(file: string, lines = 30): string {
  if (!existsSync(file)) return `(${file} does not exist)`;
  const text = readFileSync(file, 'utf8').trimEnd();
  return text.split('\n').slice(-lines).join('\n');
}

/** True when `text` shows the service lost the race for its port. */
export function isAddressInUse(text: string): boolean {
  return /address already in use/i.test(text);
}
