/** `tabreduce submit`: uploads a job module and its input, and optionally waits for the result. */
import type { ApiClient, ResultFormat } from '../../client/api-client.ts';
import type { JobTuning } from '../../client/index.ts';
import type { KeyValue } from '../../shared/job.ts';
import { LIMITS } from '../../shared/limits.ts';
import { bytesOption, choiceOption, CONNECTION_OPTIONS, fractionOption, intOption } from '../args.ts';
import { defineCommand, type CliContext } from '../command.ts';
import { connectFrom } from '../connection.ts';
import { CliError, EXIT, UsageError } from '../exit-codes.ts';
import { checkWritable, formatCount, previewResult, RESULT_FORMATS, resultFormat, saveResult } from '../output.ts';
import { formatBytes } from '../../shared/format-bytes.ts';
import { progressReporter, type ProgressReporter } from '../progress-bar.ts';
import { chooseInput } from '../input-args.ts';

export const command = defineCommand(
  {
    name: 'submit',
    summary: 'upload a job module and its input; with --wait, follow it and print the result',
    synopsis: 'JOB.js [INPUT...] [--range A..B | --records FILE | --after ID] [options]',
    description: [
      'JOB.js is an ES module exporting map, reduce and optionally combine (see the README\'s "Write a',
      'job"). The input is text files (each split at line ends into map tasks; a record is [file name,',
      'text]), the numbers of --range, the [key, value] records of --records, or the result of job ID',
      'with --after (a pipeline: the job waits for that one). Files are streamed to the coordinator,',
      'never read whole into memory.',
      '',
      'Prints the job id on stdout. With --wait, shows progress on stderr and prints the result on',
      `stdout: all of it when it has at most 20 keys, else the top 20 by value; --out saves all of it.`,
    ],
    options: {
      range: { type: 'string', value: 'A..B', help: 'the numbers A <= i < B as input records [i, i], instead of files' },
      records: { type: 'string', value: 'FILE', help: 'a JSON file of [key, value] records (or a whole input object) as input' },
      after: { type: 'string', value: 'ID', help: "job ID's result as input records (a pipeline: this job waits until that one succeeds)" },
      name: { type: 'string', value: 'NAME', help: 'the job\'s name in the dashboard (default: JOB.js without .js)' },
      reducers: { type: 'string', value: 'R', help: `number of reduce tasks, 1 to ${LIMITS.reducers} (default: about the square root of the map tasks)` },
      'split-bytes': { type: 'string', value: 'N', help: 'target size of a text split, e.g. 65536, 64k, 1m (default: 1m)' },
      'records-per-task': { type: 'string', value: 'N', help: 'records per map task for --range, --records and --after (default: the coordinator\'s choice)' },
      replication: { type: 'string', value: 'Q', help: 'distinct volunteers that must agree on each task (default: the coordinator\'s, 1 on loopback)' },
      'spot-check': { type: 'string', value: 'F', help: 'with replication 1: the fraction of tasks, 0 to 1, also run on a second volunteer and compared' },
      'max-attempts': { type: 'string', value: 'N', help: `attempts a task gets before the job fails, 1 to ${LIMITS.maxAttempts} (default: 4)` },
      wait: { type: 'boolean', help: 'follow the job to its end and print its result (exit 1 if it fails)' },
      out: { type: 'string', value: 'FILE', help: 'with --wait: save the whole result to FILE' },
      format: { type: 'string', value: 'json|csv', help: 'result format printed and saved (default: csv for --out *.csv, else json)' },
      quiet: { type: 'boolean', short: 'q', help: 'no progress on stderr' },
      ...CONNECTION_OPTIONS,
    },
    positionals: { min: 1, max: LIMITS.files + 1 },
    examples: [
      'tabreduce submit examples/word-count.js moby-dick.txt --wait',
      'tabreduce submit examples/triangular-numbers.js --range 0..100 --wait --out triangles.csv',
      'id=$(tabreduce submit examples/word-count.js corpus/*.txt --split-bytes 4m --reducers 8)',
      'tabreduce submit examples/frequency-of-frequencies.js --after "$id" --wait',
    ],
  },
  async ({ values, positionals }, context) => {
    const [jobFile, ...inputFiles] = positionals as [string, ...string[]];
    const readInput = chooseInput({ files: inputFiles, range: values.range, records: values.records, after: values.after });
    if (!values.wait && (values.out !== undefined || values.format !== undefined)) {
      throw new UsageError('--out and --format need --wait (or save a finished job\'s result with `tabreduce result ID --out FILE`)');
    }
    const tuning: JobTuning = {
      reducers: intOption('reducers', values.reducers, 1, LIMITS.reducers),
      splitBytes: bytesOption('split-bytes', values['split-bytes'], LIMITS.minSplitBytes, LIMITS.maxSplitBytes),
      recordsPerTask: intOption('records-per-task', values['records-per-task'], 1, LIMITS.recordsPerTask),
      replication: intOption('replication', values.replication, 1, 16),
      spotCheck: fractionOption('spot-check', values['spot-check']),
      maxAttempts: intOption('max-attempts', values['max-attempts'], 1, LIMITS.maxAttempts),
    };
    const format = resultFormat(choiceOption('format', values.format, RESULT_FORMATS), values.out);
    const connection = connectFrom(values, context);
    if (values.out !== undefined) await checkWritable(values.out);
    const input = await readInput();

    // Loaded here: the client pulls in acorn and the streaming machinery.
    const { startJob, waitForResult } = await import('../../client/index.ts');
    const interrupt = new AbortController();
    const onSigint = () => interrupt.abort();
    process.once('SIGINT', onSigint);
    const progress = (): ProgressReporter | undefined =>
      values.quiet ? undefined : progressReporter(context.stderr, { queuedHint: `waiting for volunteers: open ${connection.url}/volunteer` });
    try {
      const upload = progress();
      let id: string;
      try {
        id = await startJob(
          { module: jobFile, input, ...(values.name ? { name: values.name } : {}) },
          { ...tuning, api: connection.api, signal: interrupt.signal, onProgress: (update) => upload?.update(update) },
        );
      } catch (error) {
        if (interrupt.signal.aborted) throw new CliError(EXIT.INTERRUPTED, 'interrupted: the upload stopped and no job was created');
        throw error;
      } finally {
        upload?.finish();
      }
      if (!values.wait) {
        context.stdout.write(`${id}\n`);
        return EXIT.OK;
      }

      context.stderr.write(`job ${id} submitted; following it (Ctrl-C stops following, the job keeps running)\n`);
      const follow = progress();
      let pairs: KeyValue[];
      try {
        pairs = await waitForResult(id, { api: connection.api, signal: interrupt.signal, onProgress: (update) => follow?.update(update) });
      } catch (error) {
        if (interrupt.signal.aborted) {
          throw new CliError(EXIT.INTERRUPTED, `stopped following job ${id}; it keeps running: \`tabreduce status ${id}\`, \`tabreduce cancel ${id}\``);
        }
        throw error;
      } finally {
        follow?.finish();
      }
      await showResult(context, connection.api, id, pairs, format, values.out);
      return EXIT.OK;
    } finally {
      process.off('SIGINT', onSigint);
    }
  },
);

async function showResult(
  context: CliContext,
  api: ApiClient,
  id: string,
  pairs: KeyValue[],
  format: ResultFormat,
  out: string | undefined,
): Promise<void> {
  const preview = previewResult(pairs, format);
  context.stdout.write(preview.text);
  if (preview.shown < preview.total) {
    context.stderr.write(
      `top ${preview.shown} of ${formatCount(preview.total)} keys by value${out ? '' : `; all of them: \`tabreduce result ${id} --out FILE\``}\n`,
    );
  }
  if (out !== undefined) {
    const bytes = await saveResult(api, id, format, out);
    context.stderr.write(`wrote ${formatCount(preview.total)} keys (${format}, ${formatBytes(bytes)}) to ${out}\n`);
  }
}
