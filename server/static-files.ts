/**
 * Serves the built web app (dist/web): the dashboard at `/`, the volunteer page at
 * `/volunteer`, and their assets. Every response carries the Content-Security-Policy,
 * because a Web Worker obeys the policy sent with its own script, not the page's.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';

/**
 * Scripts only from this origin and from blob: (job modules are imported from Blob URLs
 * inside workers), connections only to this origin, and no framing by other sites.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self' blob:",
  "worker-src 'self' blob:",
  "connect-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "frame-ancestors 'none'",
  "base-uri 'self'",
  "form-action 'self'",
].join('; ');

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
};

const PAGES: Record<string, string> = { '/': 'index.html', '/volunteer': 'volunteer.html', '/volunteer/': 'volunteer.html' };

export function createStaticFiles(webDir: string) {
  const root = path.resolve(webDir);
  return async function serveStatic(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const pathname = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
    const relative = PAGES[pathname] ?? pathname.slice(1);
    const file = path.resolve(root, relative);
    // Refuse anything that resolves outside the web root (../ tricks).
    if (!file.startsWith(root + path.sep)) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) {
      if (relative === 'index.html' || relative === 'volunteer.html') {
        response
          .writeHead(503, { 'content-type': 'text/plain; charset=utf-8' })
          .end(`The web app is not built in ${root}. Run "npm run build" (npm start does it for you).\n`);
      } else {
        response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      }
      return;
    }
    const hashedAsset = relative.startsWith('assets/');
    response.writeHead(200, {
      'content-type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream',
      'content-length': info.size,
      // Vite fingerprints asset names, so they can be cached for good; pages must not be.
      'cache-control': hashedAsset ? 'public, max-age=31536000, immutable' : 'no-cache',
    });
    if (request.method === 'HEAD') {
      response.end();
      return;
    }
    createReadStream(file).pipe(response);
  };
}
