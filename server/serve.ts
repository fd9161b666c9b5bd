/**
 * Runs the coordinator in the foreground, as `npm start` and `tabreduce serve` do:
 * starts it, prints where to find it, and closes it cleanly on SIGINT or SIGTERM.
 */
import { randomBytes } from 'node:crypto';
import { isLoopback } from '../shared/loopback.ts';
import { loadConfig } from './config.ts';
import { startCoordinator, type Coordinator, type CoordinatorOptions } from './coordinator.ts';
import { createLogger } from './logger.ts';

/**
 * Starts the coordinator with `options` (over config.ts's defaults and environment),
 * says where the dashboard and volunteer page are, and stops it on SIGINT or SIGTERM,
 * ending the process with exit code 0. Rejects when it cannot start (e.g. the port is
 * taken). The lines go to `print`, by default the coordinator's log, as info records.
 */
export async function serveCoordinator(options: CoordinatorOptions = {}, print?: (line: string) => void): Promise<Coordinator> {
  const { host, logLevel } = loadConfig(options.host !== undefined ? { host: options.host } : {});
  const log = options.log ?? createLogger({ level: logLevel });
  const say = print ?? ((line: string) => log.info(line.trim()));
  // Reachable beyond this machine and no token chosen: anyone who can reach the port could
  // run code on every volunteer. So one is made up and printed, as Jupyter does.
  const generated = !options.token && !isLoopback(host) ? randomBytes(24).toString('base64url') : undefined;
  const token = options.token ?? generated;
  // The SQLite store creates the data directory itself when it opens.
  const coordinator = await startCoordinator({ ...options, log, ...(token ? { token } : {}) });

  const shown = coordinator.config.host === '127.0.0.1' ? coordinator.url.replace('127.0.0.1', 'localhost') : coordinator.url;
  say(`tabreduce coordinator listening on ${coordinator.url}`);
  // The fragment never reaches a server or a log; the dashboard keeps it for the session.
  say(`  dashboard: ${shown}/${generated ? `#token=${generated}` : ''}`);
  say(`  volunteer: ${shown}/volunteer   (open it in as many tabs and browsers as you like)`);
  say(
    coordinator.config.store === 'memory'
      ? '  store:     memory (TABREDUCE_STORE=memory): jobs are lost when the coordinator stops'
      : `  data dir:  ${coordinator.config.dataDir} (jobs survive restarts)`,
  );
  if (generated) {
    say(`  submit token: ${generated}`);
    say('    (made up because the coordinator listens beyond this machine; set TABREDUCE_TOKEN to choose one)');
    say('    job endpoints need: Authorization: Bearer <token>; volunteering needs none');
  } else if (token) {
    say('  job endpoints need: Authorization: Bearer $TABREDUCE_TOKEN; volunteering needs none');
  }
  say(`  replication: ${coordinator.config.replication} by default${coordinator.config.replication > 1 ? ' (results are verified by vote)' : ''}`);

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      say(`\n${signal}: shutting down`);
      void coordinator.close().then(() => process.exit(0));
    });
  }
  return coordinator;
}
