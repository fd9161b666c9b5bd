#!/usr/bin/env node
// The `tabreduce` command. The CLI is TypeScript run as is: register tsx (a runtime
// dependency) for this process, then hand over to cli/main.ts.
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

// The repo's compiler options, wherever the command is run from (tsx would otherwise
// look for a tsconfig.json in the working directory).
register({ tsconfig: fileURLToPath(new URL('../tsconfig.base.json', import.meta.url)) });

// `tabreduce result ID | head`: a reader that goes away is no error.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env });
