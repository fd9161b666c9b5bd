/** `tabreduce result ID`: a finished job's whole result, to stdout or a file. */
import { ApiError } from '../../client/api-client.ts';
import { JobFailedError } from '../../client/errors.ts';
import { choiceOption, CONNECTION_OPTIONS } from '../args.ts';
import { defineCommand } from '../command.ts';
import { connectFrom } from '../connection.ts';
import { CliError, EXIT } from '../exit-codes.ts';
import { formatBytes } from '../../shared/format-bytes.ts';
import { checkWritable, RESULT_FORMATS, resultFormat, saveResult } from '../output.ts';

export const command = defineCommand(
  {
    name: 'result',
    summary: "print or save a finished job's result",
    synopsis: 'ID [--format json|csv] [--out FILE] [--wait]',
    description: [
      'Writes the whole result, [key, value] pairs sorted by key, exactly as the coordinator serves it:',
      'a JSON array, or CSV with a key,value header. A job still running has no result yet (exit 6;',
      '--wait waits for it); a failed or cancelled one never will (exit 1, with the task\'s error).',
    ],
    options: {
      format: { type: 'string', value: 'json|csv', help: 'default: csv for --out *.csv, else json' },
      out: { type: 'string', value: 'FILE', help: 'write to FILE instead of stdout' },
      wait: { type: 'boolean', help: 'wait for a running job to end first' },
      ...CONNECTION_OPTIONS,
    },
    positionals: { min: 1, max: 1 },
    examples: ['tabreduce result job-m4x2k1-3fa9c2 > counts.json', 'tabreduce result "$id" --out counts.csv'],
  },
  async ({ values, positionals }, context) => {
    const id = positionals[0]!;
    const format = resultFormat(choiceOption('format', values.format, RESULT_FORMATS), values.out);
    const { api } = connectFrom(values, context);
    if (values.out !== undefined) await checkWritable(values.out);
    if (values.wait) {
      const { waitForJob } = await import('../../client/wait.ts');
      await waitForJob(api, id);
    }
    try {
      const bytes = await saveResult(api, id, format, values.out ?? context.stdout);
      if (values.out !== undefined) context.stderr.write(`wrote the result of ${id} (${format}, ${formatBytes(bytes)}) to ${values.out}\n`);
      return EXIT.OK;
    } catch (error) {
      if (!(error instanceof ApiError && error.code === 'CONFLICT')) throw error;
      // No result: say whether one is coming.
      const job = await api.getJob(id);
      if (job.state === 'failed' || job.state === 'cancelled') throw new JobFailedError(job);
      const { map, reduce } = job.progress;
      throw new CliError(
        EXIT.NOT_READY,
        `job ${id} has no result yet: it is ${job.state} (${map.done}/${map.total} map, ${reduce.done}/${reduce.total} reduce tasks); add --wait to wait for it`,
      );
    }
  },
);
