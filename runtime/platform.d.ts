/**
 * The runtime's whole view of its host: the globals that a browser tab, a Web Worker
 * and Node (18 and later) all provide, with the same behaviour. runtime/tsconfig.json
 * checks the runtime against these alone, with no DOM and no Node types, so code here
 * that reaches for `document`, `window`, `process` or `node:fs` fails to compile.
 * Other tsconfigs do not include this file: they see the host's own, richer declarations.
 */

type TimerHandle = { readonly __timer: unique symbol } | number;

declare function setTimeout(callback: () => void, delayMs?: number): TimerHandle;
declare function clearTimeout(handle: TimerHandle | undefined): void;
declare function setInterval(callback: () => void, delayMs?: number): TimerHandle;
declare function clearInterval(handle: TimerHandle | undefined): void;
declare function queueMicrotask(callback: () => void): void;
declare var URL: { new (url: string, base?: string): { readonly href: string } };
/** What the runtime uses of fetch (a task's `FetchedMapInput`). */
declare function fetch(url: string): Promise<{ readonly ok: boolean; readonly status: number; arrayBuffer(): Promise<ArrayBuffer>; text(): Promise<string> }>;

interface AbortSignal {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}
declare var AbortSignal: { timeout(ms: number): AbortSignal };
interface AbortController {
  readonly signal: AbortSignal;
  abort(reason?: unknown): void;
}
declare var AbortController: { new (): AbortController };

interface TextEncoder {
  encode(input?: string): Uint8Array;
  encodeInto(source: string, destination: Uint8Array): { read: number; written: number };
}
declare var TextEncoder: { new (): TextEncoder };
interface TextDecoder {
  decode(input?: ArrayBufferView | ArrayBuffer, options?: { stream?: boolean }): string;
}
declare var TextDecoder: { new (label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean }): TextDecoder };

declare var performance: { now(): number };
