/**
 * A map input sent as where to fetch it (`FetchedMapInput`), fetched by whoever runs the
 * task: in a tab, the worker itself, so the split's bytes go from the network straight
 * to the thread that maps them and never through the page.
 *
 * A worker busy with one task may be told to fetch its next one ahead (`InputPrefetch`):
 * a split of several MB takes the coordinator tens of milliseconds to serve when it is
 * busy, and a worker that starts its fetch only when it starts the task idles that long
 * for every task.
 */
import type { FetchedMapInput, MapInputPayload } from '../shared/protocol.ts';

/** Fetches ahead of time at most this many inputs per worker; the oldest goes first past it. */
export const PREFETCH_LIMIT = 2;

/**
 * Inputs a worker fetched ahead, by URL, until a task takes them. Bounded: an input the
 * task of which went to another worker, or was revoked, is dropped as newer ones come
 * (or when told), so a worker never holds more than `PREFETCH_LIMIT` splits it may not need.
 */
export class InputPrefetch {
  readonly #fetches = new Map<string, Promise<ArrayBuffer>>();

  start(url: string): void {
    if (this.#fetches.has(url)) return;
    const fetching = fetchInput(url);
    // Its failure is the task's to report, when a task takes it; until then it is not unhandled.
    fetching.catch(() => {});
    this.#fetches.set(url, fetching);
    for (const oldest of this.#fetches.keys()) {
      if (this.#fetches.size <= PREFETCH_LIMIT) break;
      this.#fetches.delete(oldest);
    }
  }

  forget(url: string): void {
    this.#fetches.delete(url);
  }

  /** The input as the task runtime takes it: prefetched, fetched now if it came as a `url`, else as it is. */
  async bytesOf(input: MapInputPayload | FetchedMapInput): Promise<MapInputPayload> {
    if (!('url' in input)) return input;
    const fetching = this.#fetches.get(input.url) ?? fetchInput(input.url);
    this.#fetches.delete(input.url);
    return { format: 'text', key: input.key, bytes: await fetching };
  }

  /** URLs held, oldest first (for tests). */
  get held(): string[] {
    return [...this.#fetches.keys()];
  }
}

const NOTHING_AHEAD = new InputPrefetch();

/** The input as the task runtime takes it, fetched now if it came as a `url`. Throws an `InputUnavailable` error when the fetch fails. */
export function mapInputBytes(input: MapInputPayload | FetchedMapInput): Promise<MapInputPayload> {
  return NOTHING_AHEAD.bytesOf(input);
}

/** Throws an `InputUnavailable` error when the fetch fails. */
async function fetchInput(url: string): Promise<ArrayBuffer> {
  let response: Awaited<ReturnType<typeof fetch>>;
  try {
    response = await fetch(url);
  } catch (error) {
    throw inputUnavailable(`could not fetch the task's input: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!response.ok) throw inputUnavailable(`the coordinator answered ${response.status} for the task's input: ${(await response.text()).slice(0, 300)}`);
  return response.arrayBuffer();
}

function inputUnavailable(message: string): Error {
  const error = new Error(message);
  error.name = 'InputUnavailable';
  return error;
}
