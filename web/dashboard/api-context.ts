import { createContext, use } from 'react';
import type { ApiClient } from '../../client/api-client.ts';

/** The one ApiClient of the page, so the token is set in one place (main.tsx). */
export const ApiClientContext = createContext<ApiClient | null>(null);

export function useApiClient(): ApiClient {
  const client = use(ApiClientContext);
  if (!client) throw new Error('useApiClient needs an <ApiClientContext> above it');
  return client;
}
