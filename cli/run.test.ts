/**
 * `tabreduce run`, a job run without a coordinator, against what the cluster answers for
 * the same job and input: a child process each, results compared byte for byte.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLES } from '../examples/catalog.ts';
import type { Coordinator } from '../server/coordinator.ts';
import { startVolunteer, testCoordinator, waitFor, type TestVolunteer } from '../testing/integration-rig.ts';
import { REPO_ROOT, runCli, tempDir } from '../testing/cli-process.ts';
import { pagerankWeb } from '../testing/pagerank-reference.ts';
import { EXIT } from './exit-codes.ts';

const example = (id: string) => path.join(REPO_ROOT, 'examples', `${id}.js`);
const PROSE = Array.from({ length: 400 }, (_, i) => `Line ${i}: the ${['cat', 'dog', 'owl', 'émeu'][i % 4]} saw ${i % 7} more of them, and the rest.`).join('\n');

describe('tabreduce run gives what the cluster gives', () => {
  let coordinator: Coordinator;
  let volunteers: TestVolunteer[];
  const tmp = tempDir();
  const file = (name: string, content: string) => {
    const filePath = path.join(tmp.dir, name);
    writeFileSync(filePath, content);
    return filePath;
  };

  beforeAll(async () => {
    coordinator = await testCoordinator();
    volunteers = [startVolunteer(coordinator.url), startVolunteer(coordinator.url)];
    await waitFor('two volunteers', async () => (await coordinator.scheduler.cluster()).volunteers === 2);
  });
  afterAll(async () => {
    for (const volunteer of volunteers) volunteer.stop();
    await coordinator.close();
    tmp.remove();
  });

  /** Runs `args` both ways, saving all of the result to a file each; answers the two files' bytes and the local run's stdout. */
  async function bothWays(name: string, args: string[], extension: 'json' | 'csv') {
    const local = path.join(tmp.dir, `${name}.local.${extension}`);
    const cluster = path.join(tmp.dir, `${name}.cluster.${extension}`);
    const ran = await runCli(['run', ...args, '--out', local, '--threads', '2', '--quiet']);
    expect(ran.stderr).not.toMatch(/tabreduce:/);
    expect(ran.code).toBe(EXIT.OK);
    const submitted = await runCli(['submit', ...args, '--wait', '--out', cluster, '--quiet', '--url', coordinator.url]);
    expect(submitted.code).toBe(EXIT.OK);
    expect(ran.stdout).toBe(submitted.stdout);
    return { local: readFileSync(local), cluster: readFileSync(cluster) };
  }

  it('a word count over several files, split small and cut into 3 partitions: the same bytes, JSON and CSV', async () => {
    const files = [file('a.txt', PROSE), file('b.txt', PROSE.toUpperCase()), file('c.txt', 'the end\n')];
    const args = [example('word-count'), ...files, '--split-bytes', '4k', '--reducers', '3'];
    const json = await bothWays('words', args, 'json');
    expect(json.local.equals(json.cluster)).toBe(true);
    expect(JSON.parse(json.local.toString())).toContainEqual(['the', 801]);
    const csv = await bothWays('words', args, 'csv');
    expect(csv.local.equals(csv.cluster)).toBe(true);
  });

  it('an inverted index (list values) and a pagerank step (floating point, records): the same bytes', async () => {
    const files = [file('one.txt', PROSE.slice(0, 9000)), file('two.txt', PROSE.slice(9000))];
    const index = await bothWays('index', [example('inverted-index'), ...files, '--split-bytes', '4k', '--reducers', '2'], 'json');
    expect(index.local.equals(index.cluster)).toBe(true);
    const web = file('web.json', JSON.stringify(pagerankWeb(EXAMPLES)));
    const ranks = await bothWays('ranks', [example('pagerank'), '--records', web, '--records-per-task', '2', '--reducers', '2'], 'json');
    expect(ranks.local.equals(ranks.cluster)).toBe(true);
  });

  it('a failing task fails the run at once with its stack (exit 1); no input is a usage error', async () => {
    const failing = file('fails.js', "export function* map(k, v) { if (v === 3) throw new RangeError('three is right out'); yield [v, 1]; }\nexport function reduce(k, vs) { return vs.length; }\n");
    const run = await runCli(['run', failing, '--range', '0..10', '--records-per-task', '2', '--quiet']);
    expect(run.code).toBe(EXIT.JOB_FAILED);
    expect(run.stderr).toMatch(/^tabreduce: task local\/map\/1 failed: RangeError: three is right out \(in map of record #1 \(key 3\)\)\n/);
    expect(run.stderr).toMatch(/fails\.js|data:/);
    const bare = await runCli(['run', example('word-count')]);
    expect(bare.code).toBe(EXIT.USAGE);
    expect(bare.stderr).toMatch(/^tabreduce: no input: give text files after JOB.js, or --range A..B, or --records FILE/);
  });

  it('shows progress on stderr, as submit --wait does', async () => {
    const run = await runCli(['run', example('triangular-numbers'), '--range', '0..100', '--threads', '1']);
    expect(run.code).toBe(EXIT.OK);
    expect(run.stderr).toMatch(/^succeeded: \d+\/\d+ map · \d+\/\d+ reduce$/m);
    expect(JSON.parse(run.stdout)[0]).toEqual([99, 4950]);
  });
});
