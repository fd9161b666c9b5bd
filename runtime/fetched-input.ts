/**
 * A map input sent as where to fetch it (`FetchedMapInput`), fetched by whoever runs the
 * task: in a tab, the worker itself, so the split's bytes go from the network straight
 * to the thread that maps them and never through the page.
 */
import type { FetchedMapInput, MapInputPayload } from '../shared/protocol.ts';

/** The input as the task runtime takes it: fetched if it came as a `url`, else as it is. Throws an `InputUnavailable` error when the fetch fails. */
export async function mapInputBytes(input: MapInputPayload | FetchedMapInput): Promise<MapInputPayload> {
  if (!('url' in input)) return input;
  let response: Awaited<ReturnType<typeof fetch>>;
  try {
    response = await fetch(input.url);
  } catch (error) {
    throw inputUnavailable(`could not fetch the task's input: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!response.ok) throw inputUnavailable(`the coordinator answered ${response.status} for the task's input: ${(await response.text()).slice(0, 300)}`);
  return { format: 'text', key: input.key, bytes: await response.arrayBuffer() };
}

function inputUnavailable(message: string): Error {
  const error = new Error(message);
  error.name = 'InputUnavailable';
  return error;
}
