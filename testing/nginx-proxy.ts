/**
 * nginx in front of several coordinators, as a deployment with more than one would run
 * them: HTTP and WebSockets proxied, round robin, no sticky sessions, and a backend that
 * goes away loses its share to the others. Debian's `nginx` package provides the binary
 * (testing/ensure-system-packages.mjs installs it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { acceptsConnections, fileTail, freePort, isAddressInUse } from './local-services.ts';

export interface NginxProxy {
  readonly port: number;
  /** http://127.0.0.1:PORT */
  readonly url: string;
  stop(): Promise<void>;
}

const NGINX = process.env.TABREDUCE_NGINX || '/usr/sbin/nginx';
const PORT_ATTEMPTS = 5;
const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;
const POLL_MS = 20;

/** Only host:port (a name, IPv4 or [IPv6]): anything else would be spliced into the config. */
const UPSTREAM = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/;

function config(prefix: string, port: number, upstreams: string[]): string {
  const servers = upstreams.map((upstream) => `    server ${upstream} max_fails=1 fail_timeout=2s;`).join('\n');
  const temp = (name: string) => path.join(prefix, 'temp', name);
  return `# testing/nginx-proxy.ts
daemon off;
# One process: a master would leave its worker running if the master were SIGKILLed
# (the exit handler's only choice), and as root it would run that worker as another
# user who could not enter this prefix.
master_process off;
worker_processes 1;
pid ${path.join(prefix, 'nginx.pid')};
error_log ${path.join(prefix, 'error.log')} warn;

events {
  worker_connections 4096;
}

http {
  access_log off;
  # Inside the prefix: nothing under /var/lib/nginx is needed or touched.
  client_body_temp_path ${temp('client_body')};
  proxy_temp_path ${temp('proxy')};
  fastcgi_temp_path ${temp('fastcgi')};
  uwsgi_temp_path ${temp('uwsgi')};
  scgi_temp_path ${temp('scgi')};

  # A WebSocket upgrade is passed on; any other request keeps the upstream connection
  # alive (an empty Connection header is not sent).
  map $http_upgrade $connection_upgrade {
    default upgrade;
    '' '';
  }

  upstream coordinators {
${servers}
    keepalive 32;
  }

  server {
    listen 127.0.0.1:${port};

    # Submissions and results stream through both ways, unbounded and unbuffered; a
    # Socket.IO connection or a long download may stay open for a long time.
    client_max_body_size 0;
    proxy_buffering off;
    proxy_request_buffering off;
    proxy_read_timeout 1h;
    proxy_send_timeout 1h;

    # A backend that is down (refused, or not connected within a second) hands its requests to
    # the next one and is left out for two seconds. Requests already sent are not
    # retried unless idempotent, so no submission is made twice.
    proxy_connect_timeout 1s;
    proxy_next_upstream error timeout http_502;

    location / {
      proxy_pass http://coordinators;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
    }
  }
}
`;
}

const exited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

/** Starts nginx on a free port of 127.0.0.1 in front of `upstreams` ('host:port' of each backend). */
export async function startNginxProxy(upstreams: string[]): Promise<NginxProxy> {
  if (upstreams.length === 0) throw new Error('startNginxProxy needs at least one upstream');
  for (const upstream of upstreams) {
    if (!UPSTREAM.test(upstream)) throw new Error(`not a host:port upstream: ${JSON.stringify(upstream)}`);
  }
  if (!existsSync(NGINX)) throw new Error(`${NGINX} is missing: run \`node testing/ensure-system-packages.mjs\` (or set TABREDUCE_NGINX)`);

  const prefix = mkdtempSync(path.join(tmpdir(), 'tabreduce-nginx-'));
  try {
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const started = await startOnPort(prefix, port, upstreams);
      if ('proxy' in started) return started.proxy;
      if (attempt >= PORT_ATTEMPTS || !isAddressInUse(started.failure)) throw new Error(started.failure);
    }
  } catch (error) {
    rmSync(prefix, { recursive: true, force: true });
    throw error;
  }
}

async function startOnPort(prefix: string, port: number, upstreams: string[]): Promise<{ proxy: NginxProxy } | { failure: string }> {
  const conf = path.join(prefix, 'nginx.conf');
  const pidFile = path.join(prefix, 'nginx.pid');
  const errorLog = path.join(prefix, 'error.log');
  // nginx makes only the last level of a temp path.
  mkdirSync(path.join(prefix, 'temp'), { recursive: true });
  // A previous attempt's files would make this one look started, or failed for its reason.
  rmSync(errorLog, { force: true });
  rmSync(pidFile, { force: true });
  writeFileSync(conf, config(prefix, port, upstreams));

  // -e: the log of nginx's start, before it has read error_log from the config.
  const child = spawn(NGINX, ['-p', prefix + path.sep, '-c', conf, '-e', errorLog], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  let spawnError: Error | undefined;
  child.once('error', (error) => (spawnError = error));
  const kill = () => {
    if (!exited(child)) child.kill('SIGKILL');
  };
  // The Node process may exit without stop(): nginx must not outlive it, and an exit
  // handler can only do what is synchronous.
  const onExit = () => {
    kill();
    rmSync(prefix, { recursive: true, force: true });
  };
  process.on('exit', onExit);

  const failureOf = (why: string) =>
    `nginx (${NGINX}) ${why} on 127.0.0.1:${port}${spawnError ? `: ${spawnError.message}` : ''}\n` +
    `--- stderr ---\n${stderr.trim()}\n--- ${errorLog} (last lines) ---\n${fileTail(errorLog)}`;

  // nginx writes its pid file only after binding its port: until then, a connection
  // that succeeds could be to whoever else took the port.
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (spawnError || exited(child)) {
      process.off('exit', onExit);
      return { failure: failureOf(`exited (${child.exitCode ?? child.signalCode ?? 'not started'}) instead of listening`) };
    }
    if (existsSync(pidFile) && (await acceptsConnections(port))) break;
    if (Date.now() > deadline) {
      const failure = failureOf(`did not accept connections within ${START_TIMEOUT_MS} ms`);
      kill();
      process.off('exit', onExit);
      return { failure };
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }

  let stopping: Promise<void> | undefined;
  const proxy: NginxProxy = {
    port,
    url: `http://127.0.0.1:${port}`,
    stop() {
      stopping ??= (async () => {
        if (!exited(child)) {
          const gone = once(child, 'exit');
          // SIGTERM is nginx's fast shutdown; SIGKILL if even that takes too long.
          child.kill('SIGTERM');
          const timer = setTimeout(kill, STOP_TIMEOUT_MS);
          await gone;
          clearTimeout(timer);
        }
        process.off('exit', onExit);
        rmSync(prefix, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
  return { proxy };
}
