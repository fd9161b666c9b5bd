/**
 * Where the dashboard keeps the coordinator's submit token: for this browser session
 * only (sessionStorage), as the issue asks; a link printed by the coordinator may carry
 * it in the URL fragment (`#token=...`), which no server or log ever sees and which is
 * removed from the address bar once read.
 */
const STORAGE_KEY = 'tabreduce.token';

function storage(): Storage | undefined {
  try {
    return sessionStorage;
  } catch {
    // Storage can be blocked (privacy settings, sandboxed frames): the token lives in memory only.
    return undefined;
  }
}

/** The token from the address bar's fragment, else the one kept for this session. */
export function initialToken(): string | undefined {
  const fromFragment = new URLSearchParams(location.hash.slice(1)).get('token');
  if (fromFragment) {
    rememberToken(fromFragment);
    history.replaceState(null, '', location.pathname + location.search);
    return fromFragment;
  }
  return storage()?.getItem(STORAGE_KEY) ?? undefined;
}

export function rememberToken(token: string | undefined): void {
  const store = storage();
  if (!store) return;
  if (token) store.setItem(STORAGE_KEY, token);
  else store.removeItem(STORAGE_KEY);
}
