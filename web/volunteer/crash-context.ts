/**
 * Names this volunteer in the browser's crash report, so the coordinator can learn why
 * a tab vanished. A job worker that exhausts its heap takes the whole tab down with it
 * (measured on Chromium 156: no error event, no last message), and all the coordinator
 * sees is a disconnect. Chromium's Crash Reporting API keeps a few key-value pairs set
 * by the page (`window.crashReport`) and, once the renderer is gone, the browser itself
 * POSTs `{ type: "crash", body: { reason: "oom", crash_report_api: { volunteerId } } }`
 * to the page's `default` Reporting-Endpoints endpoint, a few seconds after the crash.
 *
 * Inert unless the coordinator serves the volunteer page over HTTPS with a
 * `Reporting-Endpoints: default="…"` header (Chromium ignores plain-http endpoints) and
 * accepts the reports; and where the API is missing (other browsers), it does nothing.
 */

/** The part of Chromium's `CrashReportContext` (`window.crashReport`) used here. */
export interface CrashReportContextLike {
  /** Reserves `bytes` of crash-report memory; must settle before `set`. */
  initialize(bytes: number): Promise<unknown>;
  set(key: string, value: string): void;
}

/** Crash-report memory to reserve, in bytes: a volunteer id needs a few dozen. */
const CONTEXT_BYTES = 1024;

/** The key under which the volunteer id is recorded. */
export const CRASH_KEY_VOLUNTEER_ID = 'volunteerId';

/**
 * Keeps the crash report context's `volunteerId` equal to the latest id passed to the
 * returned function (empty while there is none). Never throws: a missing or failing
 * API only means no crash attribution.
 */
export function crashContextRecorder(
  context: CrashReportContextLike | undefined = (globalThis as { crashReport?: CrashReportContextLike }).crashReport,
): (volunteerId: string | undefined) => void {
  if (!context || typeof context.initialize !== 'function' || typeof context.set !== 'function') return () => {};
  let ready = false;
  let latest = '';
  const write = () => {
    try {
      context.set(CRASH_KEY_VOLUNTEER_ID, latest);
    } catch {
      // A crash report without attribution is no worse than none.
    }
  };
  const becomeReady = () => {
    ready = true;
    write();
  };
  // A second initialize (a remounted page) is refused as already done: `set` works
  // either way, and a failing `set` is caught, so both outcomes lead to writing.
  try {
    context.initialize(CONTEXT_BYTES).then(becomeReady, becomeReady);
  } catch {
    becomeReady();
  }
  return (volunteerId) => {
    const next = volunteerId ?? '';
    if (next === latest) return;
    latest = next;
    if (ready) write();
  };
}
