/**
 * `npm start`: the coordinator with its embedded defaults (see config.ts for the
 * environment variables that override them). `tabreduce serve` runs the same function.
 */
import { serveCoordinator } from './serve.ts';

const token = process.env.TABREDUCE_TOKEN || undefined;
try {
  await serveCoordinator(token ? { token } : {});
} catch (error) {
  // A coordinator that cannot start (its data directory in use, its port taken, a bad
  // setting) is the operator's to fix: one line that says what, not a stack trace.
  console.error(`tabreduce: the coordinator could not start: ${((error as Error).message ?? String(error)).replace(/\s*\n\s*/g, ' ')}`);
  process.exit(1);
}
