/** `tabreduce serve`: the coordinator in the foreground, as `npm start` runs it. */
import path from 'node:path';
import { choiceOption, intOption } from '../args.ts';
import { defineCommand } from '../command.ts';
import { CliError, EXIT } from '../exit-codes.ts';

export const command = defineCommand(
  {
    name: 'serve',
    summary: 'run the coordinator: the HTTP API, the dashboard and the volunteer page',
    synopsis: '[--port N] [--host HOST] [--data-dir DIR] [--store KIND] [--token TOKEN]',
    description: [
      'Starts the coordinator and prints the dashboard URL (/) and the volunteer URL (/volunteer).',
      'Ctrl-C stops it; with the default SQLite store, jobs survive a restart. The web app must be',
      'built first (`npm run build`, which `npm start` does); without it the API and volunteers',
      'still work. Options override the environment variables listed in docs/configuration.md.',
    ],
    options: {
      port: { type: 'string', value: 'N', help: 'TCP port; 0 picks a free one (default: $PORT, else 3000)' },
      host: { type: 'string', value: 'HOST', help: 'interface to bind; 0.0.0.0 lets other machines in (default: $HOST, else 127.0.0.1)' },
      'data-dir': { type: 'string', value: 'DIR', help: 'where jobs are kept (default: $TABREDUCE_DATA_DIR, else ./data)' },
      store: { type: 'string', value: 'KIND', help: 'sqlite (durable) or memory (default: $TABREDUCE_STORE, else sqlite)' },
      token: { type: 'string', value: 'TOKEN', help: 'submit token job endpoints will need (default: $TABREDUCE_TOKEN, else none)' },
    },
    positionals: { min: 0, max: 0 },
    examples: ['tabreduce serve', 'tabreduce serve --host 0.0.0.0 --port 8080', 'TABREDUCE_TOKEN=s3cret tabreduce serve'],
  },
  async ({ values }, context) => {
    const port = intOption('port', values.port, 0, 65_535);
    const store = choiceOption('store', values.store, ['sqlite', 'memory'] as const);
    const token = values.token ?? (context.env.TABREDUCE_TOKEN || undefined);
    // Loaded here, not at the top: `tabreduce submit` never needs Socket.IO or SQLite.
    const { serveCoordinator } = await import('../../server/serve.ts');
    try {
      await serveCoordinator(
        {
          ...(port !== undefined ? { port } : {}),
          ...(values.host ? { host: values.host } : {}),
          ...(values['data-dir'] ? { dataDir: path.resolve(values['data-dir']) } : {}),
          ...(store ? { store } : {}),
          ...(token ? { token } : {}),
        },
        (line) => context.stdout.write(`${line}\n`),
      );
    } catch (error) {
      throw describeStartFailure(error, values.host ?? (context.env.HOST || '127.0.0.1'), port ?? (Number(context.env.PORT) || 3000));
    }
    // Runs until SIGINT or SIGTERM, whose handler closes the coordinator and exits.
    return new Promise<never>(() => {});
  },
);

function describeStartFailure(error: unknown, host: string, port: number): CliError {
  const { code, message } = error as { code?: string; message?: string };
  switch (code) {
    case 'EADDRINUSE':
      return new CliError(EXIT.REJECTED, `port ${port} on ${host} is in use: stop whatever uses it, or pick another with --port`);
    case 'EACCES':
      return new CliError(EXIT.REJECTED, `not allowed to listen on ${host}:${port}: pick a port above 1023 with --port`);
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
      return new CliError(EXIT.REJECTED, `cannot listen on ${host}: it is not an address of this machine (try 127.0.0.1 or 0.0.0.0)`);
    default:
      return new CliError(EXIT.REJECTED, `the coordinator could not start: ${message ?? String(error)}`);
  }
}
