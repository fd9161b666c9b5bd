/** `tabreduce status ID`: where a job is, and why it failed if it did. */
import type { JobSummary } from '../../shared/job.ts';
import { CONNECTION_OPTIONS } from '../args.ts';
import { defineCommand } from '../command.ts';
import { connectFrom } from '../connection.ts';
import { EXIT } from '../exit-codes.ts';
import { formatBytes } from '../../shared/format-bytes.ts';

export const command = defineCommand(
  {
    name: 'status',
    summary: "show a job's state, progress and error",
    synopsis: 'ID [--json]',
    description: [
      'Prints the job\'s state (queued, mapping, reducing, succeeded, failed or cancelled), its map and',
      'reduce progress, and for a failed job the failing task\'s error with its stack. Exits 0 whatever',
      'the state: scripts read it with --json (the API\'s job summary, e.g. `.state`).',
    ],
    options: {
      json: { type: 'boolean', help: "print the job summary as JSON, as GET /api/jobs/:id answers it" },
      ...CONNECTION_OPTIONS,
    },
    positionals: { min: 1, max: 1 },
    examples: ['tabreduce status job-m4x2k1-3fa9c2', 'tabreduce status "$id" --json | jq -r .state'],
  },
  async ({ values, positionals }, context) => {
    const { api } = connectFrom(values, context);
    const job = await api.getJob(positionals[0]!);
    context.stdout.write(values.json ? `${JSON.stringify(job, null, 2)}\n` : describeJob(job));
    return EXIT.OK;
  },
);

/** A job summary for people: a header line and indented details. */
export function describeJob(job: JobSummary): string {
  const { map, reduce } = job.progress;
  const lines = [
    `${job.id}  ${job.state}  ${JSON.stringify(job.name)}`,
    `  map tasks     ${map.done}/${map.total}`,
    `  reduce tasks  ${reduce.done}/${reduce.total}`,
    `  input         ${job.inputBytes > 0 ? formatBytes(job.inputBytes) : 'records or a range'}`,
    `  volunteers    ${job.volunteersUsed} used, ${job.running} tasks running, ${job.retries} retries, ${job.backups.started} backup copies (${job.backups.won} won)`,
    `  submitted     ${timestamp(job.submittedAtMs)}${job.startedAtMs && job.finishedAtMs ? `, ran ${((job.finishedAtMs - job.startedAtMs) / 1000).toFixed(1)} s` : ''}`,
  ];
  if (job.error) {
    lines.push(`  error         ${job.error.name}: ${job.error.message.replace(/\s*\n\s*/g, ' ')}${job.error.taskId ? ` (task ${job.error.taskId})` : ''}`);
    for (const frame of job.error.stack?.split('\n').slice(1) ?? []) lines.push(`    ${frame.trim()}`);
  }
  return `${lines.join('\n')}\n`;
}

const timestamp = (ms: number): string => new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
