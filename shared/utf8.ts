/**
 * UTF-8 encoding for shared/. TextEncoder exists in every engine tabreduce runs on
 * (browsers, workers, Node), but in neither the ES library types nor, on purpose, in
 * shared/'s compiler settings (no DOM, no Node): it is reached once here, typed.
 */
interface Utf8Encoder {
  encode(text: string): Uint8Array;
}

const encoder = new (globalThis as unknown as { TextEncoder: new () => Utf8Encoder }).TextEncoder();

export function encodeUtf8(text: string): Uint8Array {
  return encoder.encode(text);
}
