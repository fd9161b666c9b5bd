import { describe, expect, test, vi } from 'vitest';
import { crashContextRecorder, CRASH_KEY_VOLUNTEER_ID, type CrashReportContextLike } from './crash-context.ts';

/** Records what was set, like Chromium's CrashReportContext, refusing `set` before `initialize` settles. */
class FakeCrashReport implements CrashReportContextLike {
  readonly values = new Map<string, string>();
  initialized = false;
  initializeCalls: number[] = [];
  #resolve: () => void = () => {};

  initialize(bytes: number): Promise<void> {
    this.initializeCalls.push(bytes);
    return new Promise((resolve) => {
      this.#resolve = () => {
        this.initialized = true;
        resolve();
      };
    });
  }

  finishInitialize(): void {
    this.#resolve();
  }

  set(key: string, value: string): void {
    if (!this.initialized) throw new DOMException('CrashReportContext is not initialized', 'InvalidStateError');
    this.values.set(key, value);
  }
}

describe('crashContextRecorder', () => {
  test('records the latest volunteer id once the context is ready, and keeps it current', async () => {
    const crashReport = new FakeCrashReport();
    const record = crashContextRecorder(crashReport);
    record('v-1');
    record('v-2');
    expect(crashReport.values.size).toBe(0);
    crashReport.finishInitialize();
    await vi.waitFor(() => expect(crashReport.values.get(CRASH_KEY_VOLUNTEER_ID)).toBe('v-2'));
    record(undefined);
    expect(crashReport.values.get(CRASH_KEY_VOLUNTEER_ID)).toBe('');
    record('v-3');
    expect(crashReport.values.get(CRASH_KEY_VOLUNTEER_ID)).toBe('v-3');
    expect(crashReport.initializeCalls).toHaveLength(1);
  });

  test('an initialize refused as already done still leads to recording', async () => {
    const values = new Map<string, string>();
    const record = crashContextRecorder({
      initialize: () => Promise.reject(new DOMException('already initialized', 'InvalidStateError')),
      set: (key, value) => void values.set(key, value),
    });
    record('v-9');
    await vi.waitFor(() => expect(values.get(CRASH_KEY_VOLUNTEER_ID)).toBe('v-9'));
  });

  test('does nothing where the API is missing or broken', async () => {
    expect(() => crashContextRecorder(undefined)('v-1')).not.toThrow();
    const broken: CrashReportContextLike = {
      initialize: () => Promise.reject(new DOMException('already initialized', 'InvalidStateError')),
      set: () => {
        throw new Error('nope');
      },
    };
    const record = crashContextRecorder(broken);
    await Promise.resolve();
    expect(() => record('v-1')).not.toThrow();
  });
});
