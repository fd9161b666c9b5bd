/** `tabreduce cancel ID`: stops a job; its running tasks are revoked on every volunteer. */
import { ApiError } from '../../client/api-client.ts';
import { CONNECTION_OPTIONS } from '../args.ts';
import { defineCommand } from '../command.ts';
import { connectFrom } from '../connection.ts';
import { CliError, EXIT } from '../exit-codes.ts';

export const command = defineCommand(
  {
    name: 'cancel',
    summary: 'cancel a queued or running job',
    synopsis: 'ID',
    description: [
      'Cancels the job: its running tasks are revoked on every volunteer. A job that already ended',
      'cannot be cancelled (exit 5).',
    ],
    options: { ...CONNECTION_OPTIONS },
    positionals: { min: 1, max: 1 },
    examples: ['tabreduce cancel job-m4x2k1-3fa9c2'],
  },
  async ({ values, positionals }, context) => {
    const { api } = connectFrom(values, context);
    const id = positionals[0]!;
    try {
      const job = await api.cancelJob(id);
      const { map, reduce } = job.progress;
      context.stdout.write(`cancelled job ${id} (${map.done}/${map.total} map and ${reduce.done}/${reduce.total} reduce tasks were done)\n`);
      return EXIT.OK;
    } catch (error) {
      if (error instanceof ApiError && error.code === 'CONFLICT') {
        throw new CliError(EXIT.REJECTED, `nothing to cancel: ${error.message}`);
      }
      throw error;
    }
  },
);
