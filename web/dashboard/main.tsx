import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { ApiClient } from '../../client/api-client.ts';
import '../theme.css';
import './dashboard.css';
import { ApiClientContext } from './api-context.ts';
import { App } from './App.tsx';

/**
 * Where a submit token would come from until the dashboard has a field for it:
 * `localStorage['tabreduce.token']`, set by hand in the browser console.
 */
const TOKEN_STORAGE_KEY = 'tabreduce.token';

function storedToken(): string | undefined {
  try {
    return localStorage.getItem(TOKEN_STORAGE_KEY) ?? undefined;
  } catch {
    // Storage can be blocked (privacy settings, sandboxed frames): run without a token.
    return undefined;
  }
}

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');

createRoot(root).render(
  <StrictMode>
    <ApiClientContext value={new ApiClient({ token: storedToken() })}>
      <App />
    </ApiClientContext>
  </StrictMode>,
);
