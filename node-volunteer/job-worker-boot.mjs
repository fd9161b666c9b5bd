// The worker_threads entry of the Node volunteer's job workers. Node 20 does not apply
// `--import tsx` from a Worker's execArgv to the worker's own entry module, so the
// thread registers tsx itself, then loads the TypeScript worker.
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

register({ tsconfig: fileURLToPath(new URL('../tsconfig.base.json', import.meta.url)) });
await import('./node-job-worker.ts');
