import { EXAMPLES, type ExampleJob } from '../../examples/catalog.ts';

// Every example module's text, bundled at build time; keyed by path, e.g. '../../examples/word-count.js'.
const SOURCES = import.meta.glob<string>('../../examples/*.js', { query: '?raw', import: 'default', eager: true });

/** A catalogue example together with the source text of its module. */
export interface ExampleWithSource extends ExampleJob {
  source: string;
}

/** The catalogue's examples, in catalogue order, each with its module source. */
export const EXAMPLES_WITH_SOURCE: ExampleWithSource[] = EXAMPLES.flatMap((example) => {
  const source = SOURCES[`../../examples/${example.id}.js`];
  if (source !== undefined) return [{ ...example, source }];
  // A packaging bug, but one example without its module should not take the dashboard down.
  console.error(`tabreduce: examples/${example.id}.js is missing; the example is not offered`);
  return [];
});
