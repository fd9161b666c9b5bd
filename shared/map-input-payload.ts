import type { MapTaskInput } from './job.ts';
import type { MapInputPayload } from './protocol.ts';
import { encodeUtf8 } from './utf8.ts';

/** How a map task's input travels: a text record as raw UTF-8, anything else as JSON. */
export function toMapInputPayload(task: MapTaskInput): MapInputPayload & { bytes: Uint8Array } {
  return task.kind === 'text'
    ? { format: 'text', key: task.key, bytes: encodeUtf8(task.text) }
    : { format: 'json', bytes: encodeUtf8(JSON.stringify(task)) };
}
