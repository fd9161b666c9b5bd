/**
 * The job module's static check (shared/job-source.ts), loaded after the page's first
 * paint: it parses with acorn, about 113 kB of the dashboard's JavaScript, which only
 * the submit form needs. Until the checker arrives the answer is undefined, and the form
 * treats the module as not yet checked (submit stays disabled), as it does while the
 * deferred text catches up with typing.
 */
import { useEffect, useMemo, useState } from 'react';
import type { SourceCheck } from '../../shared/job-source.ts';

type Checker = (source: string) => SourceCheck;

/** One load for the page; a failed one is forgotten, so the next form to mount tries again. */
let loading: Promise<Checker> | undefined;

function loadChecker(): Promise<Checker> {
  loading ??= import('../../shared/job-source.ts').then(
    (module) => module.checkJobSource,
    (error: unknown) => {
      loading = undefined;
      const message = `the module checker did not load (${(error as Error).message}): reload the page`;
      return (): SourceCheck => ({ ok: false, message });
    },
  );
  return loading;
}

/** The check of `source`, or undefined while the checker loads. */
export function useSourceCheck(source: string): SourceCheck | undefined {
  const [checker, setChecker] = useState<Checker | undefined>(undefined);
  useEffect(() => {
    let current = true;
    void loadChecker().then((check) => {
      if (current) setChecker(() => check);
    });
    return () => {
      current = false;
    };
  }, []);
  return useMemo(() => checker?.(source), [checker, source]);
}
