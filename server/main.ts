/**
 * `npm start`: the coordinator with its embedded defaults (see config.ts for the
 * environment variables that override them). `tabreduce serve` runs the same function.
 */
import { serveCoordinator } from './serve.ts';

const token = process.env.TABREDUCE_TOKEN || undefined;
await serveCoordinator(token ? { token } : {});
