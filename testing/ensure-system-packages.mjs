// Makes sure the programs the tests run for real exist before any test starts: Chromium
// for Playwright (which cannot download its own browser here), PostgreSQL for the
// throwaway clusters of testing/postgres-server.ts and nginx for testing/nginx-proxy.ts.
// They come from Debian. As root we install the missing ones in one apt-get run;
// otherwise we say exactly what to run.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';

const chromium = process.env.TABREDUCE_CHROMIUM || '/usr/bin/chromium';
const nginx = process.env.TABREDUCE_NGINX || '/usr/sbin/nginx';
const PG_ROOT = '/usr/lib/postgresql';

/** The newest /usr/lib/postgresql/VERSION/bin holding initdb and pg_ctl (the rule of testing/postgres-server.ts). */
function postgresBinDir() {
  if (!existsSync(PG_ROOT)) return undefined;
  const versions = readdirSync(PG_ROOT)
    .filter((version) => hasPostgresBinaries(path.join(PG_ROOT, version, 'bin')))
    .sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a));
  return versions[0] === undefined ? undefined : path.join(PG_ROOT, versions[0], 'bin');
}

function hasPostgresBinaries(dir) {
  return existsSync(path.join(dir, 'initdb')) && existsSync(path.join(dir, 'pg_ctl'));
}

// An override that points nowhere is a mistake to report, not a package to install.
if (process.env.TABREDUCE_CHROMIUM && !existsSync(chromium)) {
  console.error(`TABREDUCE_CHROMIUM points to ${chromium}, which does not exist.`);
  process.exit(1);
}
if (process.env.TABREDUCE_NGINX && !existsSync(nginx)) {
  console.error(`TABREDUCE_NGINX points to ${nginx}, which does not exist.`);
  process.exit(1);
}
if (process.env.TABREDUCE_PG_BIN && !hasPostgresBinaries(process.env.TABREDUCE_PG_BIN)) {
  console.error(`TABREDUCE_PG_BIN points to ${process.env.TABREDUCE_PG_BIN}, which has no initdb and pg_ctl.`);
  process.exit(1);
}

const missing = [];
if (!existsSync(chromium)) {
  missing.push({ pkg: 'chromium', thing: chromium, needer: 'the browser tests', present: () => existsSync(chromium) });
}
if (!process.env.TABREDUCE_PG_BIN && !postgresBinDir()) {
  missing.push({ pkg: 'postgresql', thing: `initdb and pg_ctl under ${PG_ROOT}/*/bin`, needer: 'the PostgreSQL tests', present: () => postgresBinDir() !== undefined });
}
if (!existsSync(nginx)) missing.push({ pkg: 'nginx', thing: nginx, needer: 'the tests behind a proxy', present: () => existsSync(nginx) });

if (missing.length === 0) process.exit(0);

const packages = missing.map((m) => m.pkg);
const described = missing.map((m) => `${m.thing} is missing and ${m.needer} need it.`).join('\n');

if (process.getuid?.() !== 0) {
  const overrides = [
    packages.includes('chromium') && 'point TABREDUCE_CHROMIUM at another Chromium binary',
    packages.includes('postgresql') && 'point TABREDUCE_PG_BIN at a directory with initdb and pg_ctl',
    packages.includes('nginx') && 'point TABREDUCE_NGINX at another nginx binary',
  ].filter(Boolean);
  console.error(
    `${described} Install ${missing.length === 1 ? 'it' : 'them'} with:\n` +
      `  sudo apt-get update && sudo apt-get install -y ${packages.join(' ')}` +
      (overrides.length > 0 ? `\nor ${overrides.join(', or ')}.` : ''),
  );
  process.exit(1);
}

const chromiumNote = packages.includes('chromium') ? ' (chromium alone takes about 30 s)' : '';
console.log(`${missing.map((m) => `${m.thing} is missing`).join('; ')}: installing Debian's ${packages.join(', ')}${chromiumNote}...`);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
const run = (args) => execFileSync('apt-get', args, { stdio: 'inherit', env });
run(['update', '-qq']);
run(['install', '-y', '-qq', ...packages]);

// Debian starts a system nginx on port 80 and may create and start a cluster on 5432.
// The tests run their own on free ports: stop these so that nothing depends on them or
// collides with them. Any of the ways may be missing or fail; none of that is an error.
const quietly = (file, args) => {
  try {
    execFileSync(file, args, { stdio: 'ignore', env, timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
};
if (packages.includes('nginx')) {
  quietly('service', ['nginx', 'stop']);
  quietly(nginx, ['-s', 'stop']);
}
if (packages.includes('postgresql')) {
  let clusters = '';
  try {
    clusters = execFileSync('pg_lsclusters', ['--no-header'], { encoding: 'utf8', env });
  } catch {
    // No postgresql-common tools: nothing was set up through them.
  }
  for (const line of clusters.split('\n')) {
    const [version, name, , status] = line.trim().split(/\s+/);
    if (version && name && status === 'online') quietly('pg_ctlcluster', [version, name, 'stop']);
  }
  quietly('service', ['postgresql', 'stop']);
}

const stillMissing = missing.filter((m) => !m.present());
if (stillMissing.length > 0) {
  console.error(`apt-get finished but these are still missing:\n${stillMissing.map((m) => `  ${m.thing}`).join('\n')}`);
  process.exit(1);
}
