/** `tabreduce run`: a job run on this machine without a coordinator, for developing and testing it. */
import os from 'node:os';
import type { KeyValue } from '../../shared/job.ts';
import { formatBytes } from '../../shared/format-bytes.ts';
import { LIMITS } from '../../shared/limits.ts';
import { bytesOption, choiceOption, intOption } from '../args.ts';
import { defineCommand } from '../command.ts';
import { CliError, EXIT } from '../exit-codes.ts';
import { checkWritable, formatCount, previewResult, RESULT_FORMATS, resultFormat, writeResult } from '../output.ts';
import { progressReporter } from '../progress-bar.ts';
import { chooseInput } from '../input-args.ts';

export const command = defineCommand(
  {
    name: 'run',
    summary: 'run a job here, without a coordinator: the same runtime on worker threads, the same answer',
    synopsis: 'JOB.js [INPUT...] [--range A..B | --records FILE] [--threads N] [--reducers R] [--out FILE]',
    description: [
      'Runs JOB.js as the cluster would: the same split, the same task runtime (on Node worker threads',
      'instead of tabs), the same partitioner, combiner and reduce, so a deterministic job gives the',
      "cluster's answer to the byte. This is how a job is developed before a crowd runs it. Input and",
      'output as for `tabreduce submit --wait`: all of the result when it has at most 20 keys, else the',
      'top 20 by value; --out saves all of it. A failing task fails the run at once, with its stack.',
      '',
      "Job code runs with this process's rights (no browser sandbox), like `tabreduce volunteer`.",
    ],
    options: {
      range: { type: 'string', value: 'A..B', help: 'the numbers A <= i < B as input records [i, i], instead of files' },
      records: { type: 'string', value: 'FILE', help: 'a JSON file of [key, value] records (or a whole input object) as input' },
      threads: { type: 'string', value: 'N', help: `worker threads, 1 to ${LIMITS.slotsPerVolunteer} (default: the logical cores, ${os.availableParallelism()} here)` },
      reducers: { type: 'string', value: 'R', help: `number of reduce tasks, 1 to ${LIMITS.reducers} (default: about the square root of the map tasks)` },
      'split-bytes': { type: 'string', value: 'N', help: 'target size of a text split, e.g. 65536, 64k, 1m (default: as the coordinator chooses)' },
      'records-per-task': { type: 'string', value: 'N', help: "records per map task for --range and --records (default: the coordinator's choice)" },
      out: { type: 'string', value: 'FILE', help: 'save the whole result to FILE' },
      format: { type: 'string', value: 'json|csv', help: 'result format printed and saved (default: csv for --out *.csv, else json)' },
      quiet: { type: 'boolean', short: 'q', help: 'no progress on stderr' },
    },
    positionals: { min: 1, max: LIMITS.files + 1 },
    examples: [
      'tabreduce run examples/word-count.js moby-dick.txt',
      'tabreduce run examples/triangular-numbers.js --range 0..100 --out triangles.csv',
      'tabreduce run my-job.js data/*.txt --threads 2 --reducers 4 --out result.json',
    ],
  },
  async ({ values, positionals }, context) => {
    const [jobFile, ...inputFiles] = positionals as [string, ...string[]];
    const readInput = chooseInput({ files: inputFiles, range: values.range, records: values.records });
    const format = resultFormat(choiceOption('format', values.format, RESULT_FORMATS), values.out);
    if (values.out !== undefined) await checkWritable(values.out);
    const input = await readInput();
    const threads = intOption('threads', values.threads, 1, LIMITS.slotsPerVolunteer);
    const reducers = intOption('reducers', values.reducers, 1, LIMITS.reducers);
    const splitBytes = bytesOption('split-bytes', values['split-bytes'], LIMITS.minSplitBytes, LIMITS.maxSplitBytes);
    const recordsPerTask = intOption('records-per-task', values['records-per-task'], 1, LIMITS.recordsPerTask);

    // Loaded here: the worker pool and the client are this command's (and submit's) alone.
    const { runLocal } = await import('../../client/index.ts');
    const interrupt = new AbortController();
    const onSigint = () => interrupt.abort();
    process.once('SIGINT', onSigint);
    const progress = values.quiet ? undefined : progressReporter(context.stderr);
    let pairs: KeyValue[];
    try {
      pairs = await runLocal(
        { module: jobFile, input },
        {
          ...(threads !== undefined ? { threads } : {}),
          ...(reducers !== undefined ? { reducers } : {}),
          ...(splitBytes !== undefined ? { splitBytes } : {}),
          ...(recordsPerTask !== undefined ? { recordsPerTask } : {}),
          signal: interrupt.signal,
          onProgress: (update) => progress?.update(update),
        },
      );
    } catch (error) {
      if (interrupt.signal.aborted) throw new CliError(EXIT.INTERRUPTED, 'interrupted: the local run stopped');
      throw error;
    } finally {
      progress?.finish();
      process.off('SIGINT', onSigint);
    }
    const preview = previewResult(pairs, format);
    context.stdout.write(preview.text);
    if (preview.shown < preview.total) context.stderr.write(`top ${preview.shown} of ${formatCount(preview.total)} keys by value${values.out ? '' : '; all of them: --out FILE'}\n`);
    if (values.out !== undefined) {
      const bytes = await writeResult(pairs, format, values.out);
      context.stderr.write(`wrote ${formatCount(preview.total)} keys (${format}, ${formatBytes(bytes)}) to ${values.out}\n`);
    }
    return EXIT.OK;
  },
);
