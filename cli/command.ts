/** What a command is: its declared command line and what it runs. */
import type { CommandSpec, OptionSpecs, ParsedCommand } from './args.ts';
import type { ExitCode, Target } from './exit-codes.ts';

/** Where a command writes, and what it knows of its surroundings. */
export interface CliContext {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
  /** Set by a command once it knows which coordinator it talks to, for error messages. */
  target?: Target;
}

export interface Command<O extends OptionSpecs = OptionSpecs> {
  spec: CommandSpec<O>;
  /** Runs the command; resolves with its exit code, or throws for main to report. */
  run(parsed: ParsedCommand<O>, context: CliContext): Promise<ExitCode>;
}

/** Declares a command with its options' types inferred from the spec. */
export function defineCommand<O extends OptionSpecs>(spec: CommandSpec<O>, run: Command<O>['run']): Command<O> {
  return { spec, run };
}
