/**
 * How the tests (and the benchmark) launch Chromium: Debian's binary, headless, with
 * every background network feature off, because this machine's network is closed and
 * Chromium would otherwise flood it with refused connections.
 */
export const CHROMIUM_EXECUTABLE = process.env.TABREDUCE_CHROMIUM || '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const CHROMIUM_LAUNCH = { executablePath: CHROMIUM_EXECUTABLE, headless: true, args: CHROMIUM_ARGS };
