/**
 * Runs the coordinator in the foreground, as `npm start` and `tabreduce serve` do:
 * starts it, prints where to find it, and closes it cleanly on SIGINT or SIGTERM.
 */
import { startCoordinator, type Coordinator, type CoordinatorOptions } from './coordinator.ts';

/**
 * Starts the coordinator with `options` (over config.ts's defaults and environment),
 * prints the dashboard and volunteer URLs, and stops it on SIGINT or SIGTERM, ending
 * the process with exit code 0. Rejects when it cannot start (e.g. the port is taken).
 */
export async function serveCoordinator(options: CoordinatorOptions = {}, print: (line: string) => void = console.log): Promise<Coordinator> {
  // The SQLite store creates the data directory itself when it opens.
  const coordinator = await startCoordinator(options);

  const shown = coordinator.config.host === '127.0.0.1' ? coordinator.url.replace('127.0.0.1', 'localhost') : coordinator.url;
  print(`tabreduce coordinator listening on ${coordinator.url}`);
  print(`  dashboard: ${shown}/`);
  print(`  volunteer: ${shown}/volunteer   (open it in as many tabs and browsers as you like)`);
  print(
    coordinator.config.store === 'memory'
      ? '  store:     memory (TABREDUCE_STORE=memory): jobs are lost when the coordinator stops'
      : `  data dir:  ${coordinator.config.dataDir} (jobs survive restarts)`,
  );
  if (options.token) print('  job endpoints need: Authorization: Bearer $TABREDUCE_TOKEN');

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      print(`\n${signal}: shutting down`);
      void coordinator.close().then(() => process.exit(0));
    });
  }
  return coordinator;
}
