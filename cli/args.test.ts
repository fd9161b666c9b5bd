import { describe, expect, it } from 'vitest';
import { bytesOption, helpText, intOption, parseCommand, rangeOption, type CommandSpec } from './args.ts';
import { UsageError } from './exit-codes.ts';

const spec = {
  name: 'demo',
  summary: 'a demo',
  synopsis: 'FILE...',
  description: ['What it does.'],
  options: {
    count: { type: 'string', value: 'N', help: 'how many' },
    loud: { type: 'boolean', short: 'l', help: 'shout' },
  },
  positionals: { min: 1, max: 2 },
  examples: ['tabreduce demo a.txt'],
} as const satisfies CommandSpec;

describe('parseCommand', () => {
  it('gives typed values and positionals', () => {
    const parsed = parseCommand(spec, ['a.txt', '--count', '3', '-l']);
    expect(parsed).toEqual({ values: { count: '3', loud: true }, positionals: ['a.txt'], help: false });
  });

  it('lets --help through whatever else is missing', () => {
    expect(parseCommand(spec, ['--help']).help).toBe(true);
  });

  it.each([
    [['a.txt', '--nope'], 'unknown option --nope: see `tabreduce demo --help`'],
    [['a.txt', '--count'], 'option --count needs a value: see `tabreduce demo --help`'],
    [[], 'missing arguments: `tabreduce demo FILE...` (see --help)'],
    [['a', 'b', 'c'], 'unexpected argument "c": `tabreduce demo FILE...` (see --help)'],
  ])('refuses %j with a UsageError', (argv, message) => {
    expect(() => parseCommand(spec, argv)).toThrow(new UsageError(message));
  });
});

describe('option values', () => {
  it.each([
    ['64k', 65536],
    ['1m', 1048576],
    ['1MiB', 1048576],
    ['2048', 2048],
    ['1.5k', 1536],
  ])('size %s is %i bytes', (raw, bytes) => {
    expect(bytesOption('split-bytes', raw, 1024, 1 << 30)).toBe(bytes);
  });

  it.each(['12', '1x', '', 'k'])('size %j is refused', (raw) => {
    expect(() => bytesOption('split-bytes', raw, 1024, 1 << 30)).toThrow(UsageError);
  });

  it('ranges are A..B with A < B, B excluded', () => {
    expect(rangeOption('0..100')).toEqual({ from: 0, to: 100 });
    expect(rangeOption('-5..5')).toEqual({ from: -5, to: 5 });
    expect(() => rangeOption('5..5')).toThrow(UsageError);
    expect(() => rangeOption('1-9')).toThrow(UsageError);
  });

  it('whole numbers stay within their bounds', () => {
    expect(intOption('n', '3', 1, 5)).toBe(3);
    expect(intOption('n', undefined, 1, 5)).toBeUndefined();
    for (const raw of ['0', '6', '2.5', '', 'x']) expect(() => intOption('n', raw, 1, 5)).toThrow(UsageError);
  });
});

describe('helpText', () => {
  it('lists usage, description, aligned options with --help, and examples', () => {
    expect(helpText(spec)).toBe(
      [
        'Usage: tabreduce demo FILE...',
        '',
        'What it does.',
        '',
        'Options:',
        '  --count N   how many',
        '  -l, --loud  shout',
        '  -h, --help  show this help',
        '',
        'Examples:',
        '  tabreduce demo a.txt',
        '',
      ].join('\n'),
    );
  });
});
