// Makes sure a Chromium for Playwright exists before the browser tests run. Playwright
// cannot download its own browser here, so the tests use Debian's package. As root we
// install it; otherwise we say exactly what to run.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const chromium = process.env.TABREDUCE_CHROMIUM || '/usr/bin/chromium';

if (existsSync(chromium)) process.exit(0);

if (process.env.TABREDUCE_CHROMIUM) {
  console.error(`TABREDUCE_CHROMIUM points to ${chromium}, which does not exist.`);
  process.exit(1);
}

if (process.getuid?.() !== 0) {
  console.error(
    `${chromium} is missing and the browser tests need it. Install it with:\n` +
      '  sudo apt-get update && sudo apt-get install -y chromium\n' +
      'or point TABREDUCE_CHROMIUM at another Chromium binary.',
  );
  process.exit(1);
}

console.log(`${chromium} is missing: installing Debian's chromium package (about 30 s)...`);
const run = (args) => execFileSync('apt-get', args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
run(['update', '-qq']);
run(['install', '-y', '-qq', 'chromium']);
if (!existsSync(chromium)) {
  console.error(`apt-get finished but ${chromium} is still missing.`);
  process.exit(1);
}
