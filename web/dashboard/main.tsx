import { StrictMode, useMemo, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { ApiClient } from '../../client/api-client.ts';
import '../theme.css';
import './dashboard.css';
import { ApiClientContext } from './api-context.ts';
import { App } from './App.tsx';
import { initialToken, rememberToken } from './submit-token.ts';

/** Holds the submit token and the one ApiClient built from it. */
function Root() {
  const [token, setToken] = useState(initialToken);
  const api = useMemo(() => new ApiClient({ token }), [token]);
  const changeToken = (next: string) => {
    rememberToken(next);
    setToken(next);
  };
  return (
    <ApiClientContext value={api}>
      <App onToken={changeToken} />
    </ApiClientContext>
  );
}

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');

createRoot(root).render(
  <StrictMode>
    <Root />
  </StrictMode>,
);
