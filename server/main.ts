/**
 * `npm start`: the coordinator with its embedded defaults (see config.ts for the
 * environment variables that override them).
 */
import { startCoordinator } from './coordinator.ts';

const token = process.env.TABREDUCE_TOKEN || undefined;
// The SQLite store creates the data directory itself when it opens.
const coordinator = await startCoordinator(token ? { token } : {});

const shown = coordinator.config.host === '127.0.0.1' ? coordinator.url.replace('127.0.0.1', 'localhost') : coordinator.url;
console.log(`tabreduce coordinator listening on ${coordinator.url}`);
console.log(`  dashboard: ${shown}/`);
console.log(`  volunteer: ${shown}/volunteer   (open it in as many tabs and browsers as you like)`);
console.log(
  coordinator.config.store === 'memory'
    ? '  store:     memory (TABREDUCE_STORE=memory): jobs are lost when the coordinator stops'
    : `  data dir:  ${coordinator.config.dataDir} (jobs survive restarts)`,
);
if (token) console.log('  job endpoints need: Authorization: Bearer $TABREDUCE_TOKEN');

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.log(`\n${signal}: shutting down`);
    void coordinator.close().then(() => process.exit(0));
  });
}
