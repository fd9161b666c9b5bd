/**
 * Command lines: each command declares its options once (`CommandSpec`), and that one
 * declaration drives node:util's `parseArgs` (strict: an unknown option is an error),
 * the `--help` text and the typed values the command reads.
 */
import { parseArgs } from 'node:util';
import { UsageError } from './exit-codes.ts';

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** The value's placeholder in the help, e.g. `FILE`; string options only. */
  value?: string;
  /** One line: what it does, its unit and its default. */
  help: string;
}

export type OptionSpecs = Record<string, OptionSpec>;

export interface CommandSpec<O extends OptionSpecs = OptionSpecs> {
  name: string;
  /** One line for `tabreduce --help`. */
  summary: string;
  /** What follows the command name in the usage line, e.g. `JOB.js INPUT...`. */
  synopsis: string;
  /** Lines after the usage line; an empty string separates paragraphs. */
  description: string[];
  options: O;
  /** How many positional arguments it takes. */
  positionals: { min: number; max: number };
  examples: string[];
}

/** Parsed option values: a string option is a string or undefined, a boolean one true or undefined. */
export type OptionValues<O extends OptionSpecs> = {
  [K in keyof O]: O[K]['type'] extends 'boolean' ? boolean | undefined : string | undefined;
};

export interface ParsedCommand<O extends OptionSpecs> {
  values: OptionValues<O>;
  positionals: string[];
  /** `--help` or `-h` was given: show the help, ignore everything else. */
  help: boolean;
}

/** The options every command that talks to a coordinator takes. */
export const CONNECTION_OPTIONS = {
  url: { type: 'string', value: 'URL', help: 'the coordinator (default: $TABREDUCE_URL, else http://localhost:3000)' },
  token: { type: 'string', value: 'TOKEN', help: 'submit token, if the coordinator has one (default: $TABREDUCE_TOKEN)' },
} as const satisfies OptionSpecs;

const HELP_OPTION = { help: { type: 'boolean', short: 'h', help: 'show this help' } } as const satisfies OptionSpecs;

/** Parses `argv` (the arguments after the command name) against `spec`; throws a UsageError that names the problem. */
export function parseCommand<O extends OptionSpecs>(spec: CommandSpec<O>, argv: string[]): ParsedCommand<O> {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const [name, option] of Object.entries({ ...spec.options, ...HELP_OPTION } as OptionSpecs)) {
    options[name] = { type: option.type, ...(option.short ? { short: option.short } : {}) };
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: true });
  } catch (error) {
    throw new UsageError(`${describeParseError(error)}: see \`tabreduce ${spec.name} --help\``);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const help = values.help === true;
  const { positionals } = parsed;
  if (!help) {
    const { min, max } = spec.positionals;
    if (positionals.length < min) {
      throw new UsageError(`missing arguments: \`tabreduce ${spec.name} ${spec.synopsis}\` (see --help)`);
    }
    if (positionals.length > max) {
      throw new UsageError(`unexpected argument "${positionals[max]}": \`tabreduce ${spec.name} ${spec.synopsis}\` (see --help)`);
    }
  }
  return { values: values as OptionValues<O>, positionals, help };
}

function describeParseError(error: unknown): string {
  const { code, message } = error as { code?: string; message?: string };
  const option = /'(-{1,2}[^' ]+)/.exec(message ?? '')?.[1];
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${option ?? ''}`.trim();
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return option ? `option ${option} ${/argument missing/.test(message ?? '') ? 'needs a value' : 'takes no value'}` : String(message);
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return 'unexpected argument';
    default:
      return String(message);
  }
}

/** The `--help` text of a command. */
export function helpText(spec: CommandSpec): string {
  const options = Object.entries({ ...spec.options, ...HELP_OPTION } as OptionSpecs).map(([name, option]) => {
    const flag = `${option.short ? `-${option.short}, ` : ''}--${name}${option.value ? ` ${option.value}` : ''}`;
    return [flag, option.help] as const;
  });
  const width = Math.max(...options.map(([flag]) => flag.length)) + 2;
  return [
    `Usage: tabreduce ${spec.name} ${spec.synopsis}`.trimEnd(),
    '',
    ...spec.description,
    '',
    'Options:',
    ...options.map(([flag, help]) => `  ${flag.padEnd(width)}${help}`),
    ...(spec.examples.length > 0 ? ['', 'Examples:', ...spec.examples.map((example) => `  ${example}`)] : []),
    '',
  ].join('\n');
}

/** A whole number option within [min, max], or undefined when absent; a UsageError otherwise. */
export function intOption(name: string, raw: string | undefined, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

/** A fraction from 0 to 1, or undefined when absent; a UsageError otherwise. */
export function fractionOption(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw new UsageError(`--${name} must be a fraction from 0 to 1 (e.g. 0.05), got "${raw}"`);
  }
  return value;
}

const BYTE_SUFFIXES: Record<string, number> = { '': 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3 };

/** A size like `65536`, `64k` or `1MiB` (binary units), within [min, max] bytes. */
export function bytesOption(name: string, raw: string | undefined, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(raw);
  const multiplier = match ? BYTE_SUFFIXES[match[2]!.toLowerCase()] : undefined;
  const value = match && multiplier ? Math.round(Number(match[1]) * multiplier) : NaN;
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new UsageError(`--${name} must be a size from ${min} to ${max} bytes (e.g. 65536, 64k, 1m), got "${raw}"`);
  }
  return value;
}

/** `A..B` as the range A <= i < B. */
export function rangeOption(raw: string | undefined): { from: number; to: number } | undefined {
  if (raw === undefined) return undefined;
  const match = /^\s*(-?\d+)\s*\.\.\s*(-?\d+)\s*$/.exec(raw);
  const from = Number(match?.[1]);
  const to = Number(match?.[2]);
  if (!match || !Number.isSafeInteger(from) || !Number.isSafeInteger(to) || to <= from) {
    throw new UsageError(`--range must be A..B with whole numbers A < B (the numbers A <= i < B), got "${raw}"`);
  }
  return { from, to };
}

/** One of `choices`, or undefined when absent. */
export function choiceOption<T extends string>(name: string, raw: string | undefined, choices: readonly T[]): T | undefined {
  if (raw === undefined) return undefined;
  if (!(choices as readonly string[]).includes(raw)) throw new UsageError(`--${name} must be ${choices.join(' or ')}, got "${raw}"`);
  return raw as T;
}
