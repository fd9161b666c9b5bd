/**
 * Imports a job module's source text through a data: URL, the one way to evaluate a
 * module from a string that Node supports without `eval` (it cannot import blob: URLs).
 * Node caches modules by URL, so the same source is evaluated once per process.
 */
export function importFromDataUrl(source: string): Promise<unknown> {
  return import(/* @vite-ignore */ `data:text/javascript;base64,${base64(new TextEncoder().encode(source))}`) as Promise<unknown>;
}

function base64(bytes: Uint8Array): string {
  // btoa takes a "binary string"; building it in chunks keeps String.fromCharCode's
  // argument list far below engines' limits for megabyte sources.
  const chunkBytes = 0x8000;
  let binary = '';
  for (let i = 0; i < bytes.length; i += chunkBytes) {
    binary += String.fromCharCode(...bytes.subarray(i, i + chunkBytes));
  }
  return btoa(binary);
}
