/**
 * `tabreduce`: the command line. Finds the command, parses its options, runs it, and
 * turns whatever went wrong into one line on stderr and an exit code from EXIT.
 *
 *   tabreduce serve | submit | run | status | result | cancel | list | volunteer   [--help]
 *
 * Each command lives in commands/; its module loads only light dependencies at import
 * time, so `--help` is quick and `serve` never loads the volunteer's code, nor the
 * reverse.
 */
import { readFileSync } from 'node:fs';
import { helpText, parseCommand } from './args.ts';
import type { CliContext, Command } from './command.ts';
import { EXIT, EXIT_MEANINGS, oneLine, toCliError, type ExitCode } from './exit-codes.ts';

const COMMANDS: Record<string, () => Promise<{ command: Command }>> = {
  serve: () => import('./commands/serve.ts'),
  submit: () => import('./commands/submit.ts'),
  run: () => import('./commands/run.ts'),
  status: () => import('./commands/status.ts'),
  result: () => import('./commands/result.ts'),
  cancel: () => import('./commands/cancel.ts'),
  list: () => import('./commands/list.ts'),
  volunteer: () => import('./commands/volunteer.ts'),
};

/** Runs the command line `argv` (without `node` and the script) and resolves with the exit code. */
export async function main(argv: string[], context: CliContext): Promise<ExitCode> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    context.stderr.write(await overview());
    return EXIT.USAGE;
  }
  if (name === '--help' || name === '-h' || (name === 'help' && rest.length === 0)) {
    context.stdout.write(await overview());
    return EXIT.OK;
  }
  if (name === '--version' || name === '-v') {
    context.stdout.write(`tabreduce ${version()}\n`);
    return EXIT.OK;
  }
  // `tabreduce help submit` is `tabreduce submit --help`.
  const [commandName, commandArgs] = name === 'help' ? [rest[0]!, ['--help']] : [name, rest];
  const load = Object.hasOwn(COMMANDS, commandName) ? COMMANDS[commandName] : undefined;
  if (!load) {
    context.stderr.write(`tabreduce: unknown command "${commandName}": the commands are ${Object.keys(COMMANDS).join(', ')} (see tabreduce --help)\n`);
    return EXIT.USAGE;
  }
  const { command } = await load();
  try {
    const parsed = parseCommand(command.spec, commandArgs);
    if (parsed.help) {
      context.stdout.write(helpText(command.spec));
      return EXIT.OK;
    }
    return await command.run(parsed, context);
  } catch (error) {
    const failure = toCliError(error, context.target);
    context.stderr.write(`tabreduce: ${oneLine(failure.message)}\n`);
    for (const line of failure.details) context.stderr.write(`${line}\n`);
    if (failure.exitCode === EXIT.INTERNAL && error instanceof Error && error.stack) context.stderr.write(`${error.stack}\n`);
    return failure.exitCode;
  }
}

async function overview(): Promise<string> {
  const commands = await Promise.all(Object.entries(COMMANDS).map(async ([name, load]) => [name, (await load()).command.spec.summary] as const));
  const width = Math.max(...commands.map(([name]) => name.length)) + 2;
  return [
    'Usage: tabreduce COMMAND [options]     (tabreduce COMMAND --help for its options)',
    '',
    'MapReduce on volunteered browser tabs, from the command line.',
    '',
    'Commands:',
    ...commands.map(([name, summary]) => `  ${name.padEnd(width)}${summary}`),
    '',
    'Every command that talks to a coordinator takes --url (default: $TABREDUCE_URL, else',
    'http://localhost:3000) and --token (default: $TABREDUCE_TOKEN).',
    '',
    'Exit codes:',
    ...EXIT_MEANINGS.map(([code, meaning]) => `  ${String(code).padStart(3)}  ${meaning}`),
    '',
  ].join('\n');
}

function version(): string {
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string };
  return manifest.version ?? 'unknown';
}
