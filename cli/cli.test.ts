/**
 * The `tabreduce` command as scripts use it: a child process against a real coordinator
 * with real volunteers; every case checks the exit code and the one-line message.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobSummary, KeyValue } from '../shared/job.ts';
import type { Coordinator } from '../server/coordinator.ts';
import { api, startVolunteer, testCoordinator, waitFor, type TestVolunteer } from '../testing/integration-rig.ts';
import { closedPort, REPO_ROOT, runCli, startCli, tempDir } from '../testing/cli-process.ts';
import { EXIT } from './exit-codes.ts';

const WORD_COUNT = path.join(REPO_ROOT, 'examples', 'word-count.js');
const TEXT = 'the cat and the dog\nthe end\n';
const TEXT_COUNTS: KeyValue[] = [['and', 1], ['cat', 1], ['dog', 1], ['end', 1], ['the', 3]];

/** Counts `\p{L}+` words without any tabreduce code: the reference for word-count.js. */
function referenceCounts(text: string): KeyValue[] {
  const counts = new Map<string, number>();
  for (const [word] of text.matchAll(/\p{L}+/gu)) counts.set(word, (counts.get(word) ?? 0) + 1);
  return [...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The stderr lines that are not progress lines. */
const firstLine = (text: string): string => text.split('\n')[0] ?? '';

describe('tabreduce with a coordinator and two volunteers', () => {
  let coordinator: Coordinator;
  let volunteers: TestVolunteer[];
  let url: string;
  const tmp = tempDir();
  const file = (name: string, content: string) => {
    const filePath = path.join(tmp.dir, name);
    writeFileSync(filePath, content);
    return filePath;
  };

  beforeAll(async () => {
    coordinator = await testCoordinator();
    url = coordinator.url;
    volunteers = [startVolunteer(url), startVolunteer(url)];
    await waitFor('two volunteers', async () => (await coordinator.scheduler.cluster()).volunteers === 2);
  });

  afterAll(async () => {
    for (const volunteer of volunteers) volunteer.stop();
    await coordinator.close();
    tmp.remove();
  });

  it('submit --wait prints the result as JSON on stdout, and plain progress lines on stderr', async () => {
    const input = file('small.txt', TEXT);
    const run = await runCli(['submit', WORD_COUNT, input, '--wait', '--url', url]);
    expect(run.stderr).not.toMatch(/tabreduce:/);
    expect(run.code).toBe(EXIT.OK);
    expect(JSON.parse(run.stdout)).toEqual(TEXT_COUNTS);
    // Not a terminal: lines, no carriage returns or escape codes.
    expect(run.stderr).not.toMatch(/[\r\x1b]/);
    expect(run.stderr).toMatch(/^job job-\S+ submitted; following it/m);
    expect(run.stderr).toMatch(/^succeeded: 1\/1 map · 1\/1 reduce$/m);
  });

  it('submit --wait --format csv --out prints CSV and saves the whole result', async () => {
    const input = file('csv.txt', TEXT);
    const out = path.join(tmp.dir, 'result.csv');
    const run = await runCli(['submit', WORD_COUNT, input, '--wait', '--out', out, '--url', url, '--quiet']);
    expect(run.code).toBe(EXIT.OK);
    const csv = 'key,value\r\nand,1\r\ncat,1\r\ndog,1\r\nend,1\r\nthe,3\r\n';
    // csv because --out ends in .csv.
    expect(run.stdout).toBe(csv);
    expect(readFileSync(out, 'utf8')).toBe(csv);
    expect(run.stderr).toMatch(new RegExp(`^wrote 5 keys \\(csv, ${csv.length} bytes\\) to ${out.replaceAll('.', '\\.')}$`, 'm'));
    // --quiet: no progress.
    expect(run.stderr).not.toMatch(/mapping|succeeded:/);
  });

  it('submit --wait shows the top 20 keys by value of a long result, and --out saves all of it as JSON', async () => {
    // Word i occurs i times: the top 20 are w40 down to w21.
    const words = Array.from({ length: 40 }, (_, i) => Array.from({ length: i + 1 }, () => `w${String.fromCharCode(97 + (i % 26))}${'x'.repeat(Math.floor(i / 26))}`).join(' '));
    const text = `${words.join('\n')}\n`;
    const input = file('long.txt', text);
    const out = path.join(tmp.dir, 'long.json');
    const run = await runCli(['submit', WORD_COUNT, input, '--wait', '--format', 'json', '--out', out, '--url', url]);
    expect(run.code).toBe(EXIT.OK);
    const shown = JSON.parse(run.stdout) as KeyValue[];
    expect(shown).toHaveLength(20);
    expect(shown.map(([, count]) => count)).toEqual(Array.from({ length: 20 }, (_, i) => 40 - i));
    expect(run.stderr).toMatch(/^top 20 of 40 keys by value$/m);
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(referenceCounts(text));
  });

  it('submit prints just the job id; status, result and list then find that job', async () => {
    const input = file('later.txt', TEXT);
    const submitted = await runCli(['submit', WORD_COUNT, input, '--name', 'later', '--url', url]);
    expect(submitted.code).toBe(EXIT.OK);
    const id = submitted.stdout.trim();
    expect(submitted.stdout).toMatch(/^job-\S+\n$/);

    await waitFor('the job to succeed', async () => (await api<JobSummary>(url, `/api/jobs/${id}`)).body.state === 'succeeded');
    const status = await runCli(['status', id, '--url', url]);
    expect(status.code).toBe(EXIT.OK);
    expect(firstLine(status.stdout)).toBe(`${id}  succeeded  "later"`);
    expect(status.stdout).toMatch(/^ {2}map tasks +1\/1$/m);
    const statusJson = await runCli(['status', id, '--json', '--url', url]);
    expect(JSON.parse(statusJson.stdout)).toMatchObject({ id, state: 'succeeded', name: 'later' });

    const result = await runCli(['result', id, '--url', url]);
    expect(result.code).toBe(EXIT.OK);
    expect(JSON.parse(result.stdout)).toEqual(TEXT_COUNTS);
    const csv = await runCli(['result', id, '--format', 'csv', '--url', url]);
    expect(csv.stdout).toBe((await api<string>(url, `/api/jobs/${id}/result?format=csv`)).body);

    const list = await runCli(['list', '--url', url]);
    expect(list.code).toBe(EXIT.OK);
    expect(firstLine(list.stdout)).toMatch(/^ID +STATE +MAP +REDUCE +NAME$/);
    expect(list.stdout).toMatch(new RegExp(`^${id} +succeeded +1/1 +1/1 +later$`, 'm'));
  });

  it('streams a multi-megabyte file whose characters straddle read chunks, and counts it exactly', async () => {
    // The CLI reads 1 MiB at a time: put a 2-byte and a 4-byte character across those edges.
    const line = 'café naïve Zürich the and of\n';
    const lineBytes = Buffer.byteLength(line);
    const filler = (bytes: number) => line.repeat(Math.floor(bytes / lineBytes)) + 'x'.repeat(bytes % lineBytes);
    const text = `${filler(1024 * 1024 - 1)}ü ${filler(1024 * 1024 - 4)}😀 ${filler(900_000)}\n`;
    const bytes = Buffer.from(text);
    expect(bytes.subarray(1024 * 1024 - 1, 1024 * 1024 + 1).toString()).toBe('ü');
    expect(bytes.subarray(2 * 1024 * 1024 - 2, 2 * 1024 * 1024 + 2).toString()).toBe('😀');
    const input = file('big.txt', text);
    const out = path.join(tmp.dir, 'big.json');
    const run = await runCli(['submit', WORD_COUNT, input, '--wait', '--split-bytes', '256k', '--out', out, '--url', url, '--quiet']);
    expect(run.stderr).not.toMatch(/^tabreduce:/m);
    expect(run.code).toBe(EXIT.OK);
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(referenceCounts(text));
  });

  it('a job whose map throws: exit 1, the task error in one line, then its stack', async () => {
    const job = file(
      'throws.js',
      "export function* map(file, text) { if (text.includes('boom')) throw new RangeError('boom in the map'); yield [file, 1]; }\n" +
        'export function reduce(key, values) { return values.length; }\n',
    );
    const input = file('boom.txt', 'boom\n');
    const run = await runCli(['submit', job, input, '--wait', '--max-attempts', '1', '--url', url, '--quiet']);
    expect(run.code).toBe(EXIT.JOB_FAILED);
    const lines = run.stderr.trimEnd().split('\n');
    const failure = lines.findIndex((text) => text.startsWith('tabreduce:'));
    expect(lines[failure]).toMatch(/^tabreduce: job job-\S+ failed in task \S+: RangeError: boom in the map \(in map of record #0/);
    expect(lines[failure + 1]).toMatch(/^ {2}at /);
    expect(run.stdout).toBe('');
  });

  it('refuses a job module without a reduce export (exit 5) before uploading anything', async () => {
    const job = file('no-reduce.js', 'export function* map(k, v) { yield [k, 1]; }\n');
    const jobsBefore = (await coordinator.scheduler.listJobs()).length;
    const run = await runCli(['submit', job, file('in.txt', TEXT), '--url', url]);
    expect(run.code).toBe(EXIT.REJECTED);
    expect(run.stderr).toBe(`tabreduce: ${job}: the job module must export \`reduce\` (e.g. \`export function reduce(...) {...}\`)\n`);
    expect(await coordinator.scheduler.listJobs()).toHaveLength(jobsBefore);
  });

  it('refuses a job module that does not parse, with its line and column (exit 5)', async () => {
    const job = file('broken.js', 'export function map(k, v) {\n  yield [k, 1];\n}\nexport function reduce() {}\n');
    const run = await runCli(['submit', job, '--range', '0..10', '--url', url]);
    expect(run.code).toBe(EXIT.REJECTED);
    expect(run.stderr).toMatch(new RegExp(`^tabreduce: ${job.replaceAll('.', '\\.')}:2:\\d+: the job module does not parse: .+\\n$`));
  });

  it('refuses a missing input file (exit 5), naming it', async () => {
    const missing = path.join(tmp.dir, 'missing.txt');
    const run = await runCli(['submit', WORD_COUNT, file('present.txt', TEXT), missing, '--url', url]);
    expect(run.code).toBe(EXIT.REJECTED);
    expect(run.stderr).toBe(`tabreduce: cannot read the input file ${missing}: no such file\n`);
  });

  it('passes on what the coordinator refuses (exit 5): here, a spot check on a replicated job', async () => {
    const run = await runCli(['submit', WORD_COUNT, file('rep.txt', TEXT), '--replication', '2', '--spot-check', '0.1', '--url', url]);
    expect(run.code).toBe(EXIT.REJECTED);
    expect(run.stderr).toMatch(new RegExp(`^tabreduce: the coordinator at ${url.replaceAll('.', '\\.')} refused: .*spotCheck.*\\n$`));
  });

  it('runs a range job and a records file', async () => {
    const range = await runCli(['submit', path.join(REPO_ROOT, 'examples', 'triangular-numbers.js'), '--range', '0..100', '--wait', '--quiet', '--url', url]);
    expect(range.code).toBe(EXIT.OK);
    // 100 keys: the top 20 by value are 99..80.
    expect((JSON.parse(range.stdout) as KeyValue[])[0]).toEqual([99, 4950]);
    const records = await runCli([
      'submit',
      path.join(REPO_ROOT, 'examples', 'sum-of-products.js'),
      '--records',
      path.join(REPO_ROOT, 'examples', 'inputs', 'scoop-pairs.json'),
      '--wait',
      '--quiet',
      '--url',
      url,
    ]);
    expect(records.code).toBe(EXIT.OK);
    expect(JSON.parse(records.stdout)).toEqual([['sum', 843350]]);
  });

  it('chains a job after another with --after: its input is that job\'s result', async () => {
    const counts = await runCli(['submit', WORD_COUNT, file('chain.txt', 'b a b\nc b a\n'), '--url', url]);
    expect(counts.code).toBe(EXIT.OK);
    const id = counts.stdout.trim();
    const frequencies = await runCli(['submit', path.join(REPO_ROOT, 'examples', 'frequency-of-frequencies.js'), '--after', id, '--wait', '--quiet', '--url', url]);
    expect(frequencies.code).toBe(EXIT.OK);
    // a 2, b 3, c 1: one word each once, twice and three times.
    expect(JSON.parse(frequencies.stdout)).toEqual([[1, 1], [2, 1], [3, 1]]);
    const both = await runCli(['submit', WORD_COUNT, '--after', id, '--range', '0..3', '--url', url]);
    expect(both.code).toBe(EXIT.USAGE);
    expect(both.stderr).toMatch(/give one kind of input/);
  });

  it('an unknown job id: exit 5 and where to look', async () => {
    const run = await runCli(['status', 'job-nope', '--url', url]);
    expect(run.code).toBe(EXIT.REJECTED);
    expect(run.stderr).toBe(`tabreduce: no job job-nope at ${url}: \`tabreduce list\` shows the jobs there\n`);
  });

  it.each([
    [['submit', 'job.js'], 'tabreduce: no input: give text files after JOB.js, or --range A..B, or --records FILE, or --after ID'],
    [['submit', 'job.js', 'a.txt', '--range', '0..9'], 'tabreduce: give one kind of input: text files, or --range, or --records, or --after, not several'],
    [['submit', 'job.js', '--range', '9..0'], 'tabreduce: --range must be A..B with whole numbers A < B (the numbers A <= i < B), got "9..0"'],
    [['submit', 'job.js', 'a.txt', '--reducers', 'many'], 'tabreduce: --reducers must be a whole number from 1 to 1024, got "many"'],
    [['submit', 'job.js', 'a.txt', '--out', 'x.json'], "tabreduce: --out and --format need --wait (or save a finished job's result with `tabreduce result ID --out FILE`)"],
    [['submit', 'job.js', 'a.txt', '--frobnicate'], 'tabreduce: unknown option --frobnicate: see `tabreduce submit --help`'],
    [['submit', 'job.js', 'a.txt', '--url'], 'tabreduce: option --url needs a value: see `tabreduce submit --help`'],
    [['submit', 'job.js', 'a.txt', '--url', 'localhost:3000'], 'tabreduce: --url must be an http:// or https:// URL such as http://localhost:3000, got "localhost:3000"'],
    [['status'], 'tabreduce: missing arguments: `tabreduce status ID [--json]` (see --help)'],
    [['frobnicate'], 'tabreduce: unknown command "frobnicate": the commands are serve, submit, run, status, result, cancel, list, volunteer (see tabreduce --help)'],
  ])('usage error %j: exit 2, one line', async (args, message) => {
    const run = await runCli(args);
    expect(run.code).toBe(EXIT.USAGE);
    expect(run.stderr).toBe(`${message}\n`);
    expect(run.stdout).toBe('');
  });
});

describe('tabreduce with a coordinator and no volunteers', () => {
  let coordinator: Coordinator;
  beforeAll(async () => {
    coordinator = await testCoordinator();
  });
  afterAll(async () => {
    await coordinator.close();
  });

  it('a queued job has no result yet (exit 6); cancel ends it; then its result is gone for good (exit 1)', async () => {
    const url = coordinator.url;
    const submitted = await runCli(['submit', path.join(REPO_ROOT, 'examples', 'triangular-numbers.js'), '--range', '0..10', '--records-per-task', '10', '--reducers', '1', '--url', url]);
    const id = submitted.stdout.trim();

    const early = await runCli(['result', id, '--url', url]);
    expect(early.code).toBe(EXIT.NOT_READY);
    expect(early.stderr).toBe(`tabreduce: job ${id} has no result yet: it is queued (0/1 map, 0/1 reduce tasks); add --wait to wait for it\n`);

    const cancelled = await runCli(['cancel', id, '--url', url]);
    expect(cancelled.code).toBe(EXIT.OK);
    expect(cancelled.stdout).toBe(`cancelled job ${id} (0/1 map and 0/1 reduce tasks were done)\n`);
    expect(JSON.parse((await runCli(['status', id, '--json', '--url', url])).stdout)).toMatchObject({ state: 'cancelled' });

    const gone = await runCli(['result', id, '--url', url]);
    expect(gone.code).toBe(EXIT.JOB_FAILED);
    expect(gone.stderr).toBe(`tabreduce: job ${id} was cancelled\n`);

    const again = await runCli(['cancel', id, '--url', url]);
    expect(again.code).toBe(EXIT.REJECTED);
    expect(again.stderr).toBe(`tabreduce: nothing to cancel: job ${id} is already cancelled\n`);
  });

  it('submit --wait on a job cancelled meanwhile: exit 1', async () => {
    const url = coordinator.url;
    const known = new Set((await coordinator.scheduler.listJobs()).map((job) => job.id));
    const waiting = startCli(['submit', path.join(REPO_ROOT, 'examples', 'triangular-numbers.js'), '--range', '0..10', '--records-per-task', '10', '--reducers', '1', '--wait', '--url', url]);
    const job = await waitFor('the new job', async () => (await coordinator.scheduler.listJobs()).find((candidate) => !known.has(candidate.id)));
    // Not a terminal: the queued state is a plain line, with where volunteers can join.
    await waitFor('the queued line', () => waiting.stderr().includes(`queued: 0/1 map · 0/1 reduce · waiting for volunteers: open ${url}/volunteer`));
    await api(url, `/api/jobs/${job.id}`, { method: 'DELETE' });
    expect(await waiting.exited()).toBe(EXIT.JOB_FAILED);
    expect(waiting.stderr()).toMatch(new RegExp(`^tabreduce: job ${job.id} was cancelled$`, 'm'));
  });
});

describe('tabreduce with a coordinator that has a submit token', () => {
  let coordinator: Coordinator;
  let volunteer: TestVolunteer;
  beforeAll(async () => {
    coordinator = await testCoordinator({ token: 's3cret' });
    volunteer = startVolunteer(coordinator.url);
  });
  afterAll(async () => {
    volunteer.stop();
    await coordinator.close();
  });

  it.each([
    ['no token', [] as string[], {}, 'needs a submit token: pass --token or set TABREDUCE_TOKEN'],
    ['a wrong --token', ['--token', 'guess'], {}, 'refused the submit token: check --token (or TABREDUCE_TOKEN)'],
    ['a wrong TABREDUCE_TOKEN', [], { TABREDUCE_TOKEN: 'guess' }, 'refused the submit token: check --token (or TABREDUCE_TOKEN)'],
  ])('%s: exit 4 and what to do', async (_name, args, env, message) => {
    const run = await runCli(['submit', WORD_COUNT, '--range', '0..3', ...args, '--url', coordinator.url], { env });
    expect(run.code).toBe(EXIT.AUTH);
    expect(run.stderr).toBe(`tabreduce: the coordinator at ${coordinator.url} ${message}\n`);
    const list = await runCli(['list', ...args, '--url', coordinator.url], { env });
    expect(list.code).toBe(EXIT.AUTH);
  });

  it('the right token, from the environment like the URL: exit 0', async () => {
    const run = await runCli(['submit', path.join(REPO_ROOT, 'examples', 'sum-of-sums.js'), '--records', path.join(REPO_ROOT, 'examples', 'inputs', 'scoop-pairs.json'), '--wait', '-q'], {
      env: { TABREDUCE_TOKEN: 's3cret', TABREDUCE_URL: coordinator.url },
    });
    expect(run.code).toBe(EXIT.OK);
    expect(JSON.parse(run.stdout)).toEqual([['sum', 20100]]);
  });
});

describe('tabreduce with no coordinator', () => {
  it.each([
    ['submit', [WORD_COUNT, '--range', '0..3']],
    ['list', []],
    ['status', ['job-x']],
    ['volunteer', []],
  ])('%s: exit 3, and what to do', async (command, args) => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const run = await runCli([command, ...args, '--url', url]);
    expect(run.code).toBe(EXIT.UNREACHABLE);
    expect(run.stderr).toBe(
      `tabreduce: could not reach the coordinator at ${url}: connect ECONNREFUSED 127.0.0.1:${new URL(url).port}: is it running? Start one with \`tabreduce serve\`, or point --url (or TABREDUCE_URL) at it\n`,
    );
  });
});

describe('--help', () => {
  it.each(['serve', 'submit', 'status', 'result', 'cancel', 'list', 'volunteer'])('tabreduce %s --help: its usage and options, exit 0', async (command) => {
    const run = await runCli([command, '--help']);
    expect(run.code).toBe(EXIT.OK);
    expect(firstLine(run.stdout)).toMatch(new RegExp(`^Usage: tabreduce ${command}\\b`));
    expect(run.stdout).toMatch(/^Options:$/m);
    expect(run.stdout).toMatch(/^ {2}-h, --help +show this help$/m);
  });

  it('tabreduce --help: every command and the exit codes', async () => {
    const run = await runCli(['--help']);
    expect(run.code).toBe(EXIT.OK);
    for (const command of ['serve', 'submit', 'status', 'result', 'cancel', 'list', 'volunteer']) expect(run.stdout).toMatch(new RegExp(`^ {2}${command} +\\S`, 'm'));
    for (const code of Object.values(EXIT)) expect(run.stdout).toMatch(new RegExp(`^ +${code} {2}\\S`, 'm'));
  });

  it('tabreduce alone: the overview on stderr, exit 2', async () => {
    const run = await runCli([]);
    expect(run.code).toBe(EXIT.USAGE);
    expect(run.stderr).toMatch(/^Usage: tabreduce COMMAND/);
  });
});

describe('tabreduce serve', () => {
  it('runs the coordinator, prints its URLs like npm start, serves the API and stops on SIGINT', async () => {
    const server = startCli(['serve', '--port', '0', '--store', 'memory', '--token', 'pass']);
    try {
      // The banner's last line: with a token, what job endpoints need.
      await server.waitForOutput(/job endpoints need: .*\n/);
      const url = /listening on (http:\/\/[^\s"]+)/.exec(server.stdout())![1]!;
      expect(server.stdout()).toMatch(/^ {2}dashboard: http:\/\/localhost:\d+\/$/m);
      expect(server.stdout()).toMatch(/^ {2}store: {5}memory/m);
      expect((await runCli(['list', '--url', url, '--token', 'pass'])).code).toBe(EXIT.OK);
      expect((await runCli(['list', '--url', url])).code).toBe(EXIT.AUTH);

      // A second coordinator on the same port: refused, with what to do.
      const port = new URL(url).port;
      const clash = await runCli(['serve', '--port', port, '--store', 'memory']);
      expect(clash.code).toBe(EXIT.REJECTED);
      expect(clash.stderr).toBe(`tabreduce: port ${port} on 127.0.0.1 is in use: stop whatever uses it, or pick another with --port\n`);
    } finally {
      server.process.kill('SIGINT');
    }
    expect(await server.exited()).toBe(EXIT.OK);
    expect(server.stdout()).toMatch(/SIGINT: shutting down\n$/);
  });
});
