/** The coordinator a command talks to: --url and --token, else their environment variables. */
import { ApiClient } from '../client/api-client.ts';
import { DEFAULT_URL } from '../client/index.ts';
import type { CliContext } from './command.ts';
import { UsageError } from './exit-codes.ts';

export interface Connection {
  api: ApiClient;
  url: string;
  token: string | undefined;
}

/** Builds the API client from `--url`/`--token` (or TABREDUCE_URL/TABREDUCE_TOKEN) and records the target for error messages. */
export function connectFrom(values: { url?: string | undefined; token?: string | undefined }, context: CliContext): Connection {
  const url = (values.url ?? (context.env.TABREDUCE_URL || DEFAULT_URL)).replace(/\/+$/, '');
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    throw new UsageError(`--url must be an http:// or https:// URL such as ${DEFAULT_URL}, got "${url}"`);
  }
  const token = values.token ?? (context.env.TABREDUCE_TOKEN || undefined);
  context.target = { url, tokenGiven: Boolean(token) };
  return { api: new ApiClient({ baseUrl: url, ...(token ? { token } : {}) }), url, token };
}
