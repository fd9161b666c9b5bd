import { useCallback, useEffect, useState } from 'react';

const HASH_PREFIX = '#job=';

function jobIdFromHash(): string | undefined {
  const hash = window.location.hash;
  return hash.startsWith(HASH_PREFIX) ? decodeURIComponent(hash.slice(HASH_PREFIX.length)) || undefined : undefined;
}

/**
 * The selected job's id, kept in the URL hash (`#job=<id>`) so a reload or a shared link
 * opens the same job. Selecting replaces the history entry rather than pushing one, so
 * Back leaves the dashboard instead of walking through every job clicked.
 */
export function useSelectedJob(): [string | undefined, (id: string) => void] {
  const [selectedId, setSelectedId] = useState(jobIdFromHash);

  useEffect(() => {
    const onHashChange = () => setSelectedId(jobIdFromHash());
    window.addEventListener('hashchange', onHashChange);
    return () => window.removeEventListener('hashchange', onHashChange);
  }, []);

  const select = useCallback((id: string) => {
    setSelectedId(id);
    history.replaceState(history.state, '', HASH_PREFIX + encodeURIComponent(id));
  }, []);

  return [selectedId, select];
}
