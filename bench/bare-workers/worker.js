// One worker of the bare-worker yardstick (bench/bare-workers.ts): no framework, no
// Comlink, no runtime. It imports the job module, fetches its share of the files from the
// bench's local server and calls the module's map once per file, as the task runtime
// calls it for a text split: map(fileName, text, emit). Pairs, emitted or yielded, are
// summed into one Map, which goes back to the page whole.
self.onmessage = async ({ data }) => {
  if (data.type === 'ping') {
    self.postMessage({ type: 'ready' });
    return;
  }
  try {
    const job = await import(data.jobUrl);
    const counts = new Map();
    const emit = (key, value) => {
      counts.set(key, (counts.get(key) ?? 0) + value);
    };
    const load = async (file) => {
      const response = await fetch(file.url);
      if (!response.ok) throw new Error(`GET ${file.url}: ${response.status}`);
      return response.text();
    };
    let fetchWaitMs = 0;
    let mapMs = 0;
    let bytes = 0;
    const { files } = data;
    // The next file's fetch runs while this one is mapped, as a tab holds its next task.
    let next = files.length > 0 ? load(files[0]) : undefined;
    for (let i = 0; i < files.length; i++) {
      const waited = performance.now();
      const text = await next;
      next = i + 1 < files.length ? load(files[i + 1]) : undefined;
      const mapped = performance.now();
      fetchWaitMs += mapped - waited;
      const pairs = job.map(files[i].name, text, emit);
      if (pairs !== undefined) for (const [key, value] of pairs) emit(key, value);
      mapMs += performance.now() - mapped;
      bytes += files[i].bytes;
    }
    self.postMessage({ type: 'done', counts, fetchWaitMs, mapMs, bytes });
  } catch (error) {
    self.postMessage({ type: 'error', error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  }
};
