/** `tabreduce list`: every job the coordinator knows, newest first. */
import { CONNECTION_OPTIONS } from '../args.ts';
import { defineCommand } from '../command.ts';
import { connectFrom } from '../connection.ts';
import { EXIT } from '../exit-codes.ts';

export const command = defineCommand(
  {
    name: 'list',
    summary: 'list the jobs, newest first',
    synopsis: '[--json]',
    description: ['One job a line: id, state, map and reduce tasks done, name.'],
    options: {
      json: { type: 'boolean', help: 'print the job summaries as JSON, as GET /api/jobs answers them' },
      ...CONNECTION_OPTIONS,
    },
    positionals: { min: 0, max: 0 },
    examples: ['tabreduce list', "tabreduce list --json | jq -r '.[] | select(.state == \"failed\") | .id'"],
  },
  async ({ values }, context) => {
    const { api } = connectFrom(values, context);
    const jobs = await api.listJobs();
    if (values.json) {
      context.stdout.write(`${JSON.stringify(jobs, null, 2)}\n`);
      return EXIT.OK;
    }
    if (jobs.length === 0) {
      context.stderr.write('no jobs yet: submit one with `tabreduce submit JOB.js INPUT...`\n');
      return EXIT.OK;
    }
    const rows = [
      ['ID', 'STATE', 'MAP', 'REDUCE', 'NAME'],
      ...jobs.map((job) => [
        job.id,
        job.state,
        `${job.progress.map.done}/${job.progress.map.total}`,
        `${job.progress.reduce.done}/${job.progress.reduce.total}`,
        job.name,
      ]),
    ];
    const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
    for (const row of rows) context.stdout.write(`${row.map((cell, column) => (column < row.length - 1 ? cell.padEnd(widths[column]!) : cell)).join('  ')}\n`);
    return EXIT.OK;
  },
);
