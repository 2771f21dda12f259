#!/usr/bin/env node
// Installs what `npm test` and `npm run demo` need on a fresh machine:
// the npm packages (npm ci when node_modules is missing or stale) and, when
// running as root on Debian, the lab's Debian packages. Idempotent and quiet
// when everything is already there.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const lock = join(root, 'package-lock.json');
const marker = join(root, 'node_modules', '.package-lock.json');

function log(msg) {
  process.stderr.write(`[ensure] ${msg}\n`);
}

if (!existsSync(marker) || statSync(marker).mtimeMs < statSync(lock).mtimeMs) {
  log('installing npm packages (npm ci)');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
}

// The lab's Debian packages: the same list `iotguard lab up` installs.
const { LAB_PACKAGES, missingLabPackages } = await import('./lab-packages.mjs');
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (process.env.IOTGUARD_SKIP_APT === '1') {
  log('IOTGUARD_SKIP_APT=1: not installing Debian packages');
} else if (isRoot && existsSync('/usr/bin/apt-get')) {
  const missing = missingLabPackages();
  if (missing.length > 0) {
    log(`installing Debian packages for the lab: ${missing.join(' ')}`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    spawnSync('sh', ['-c', 'echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections'], { stdio: 'inherit' });
    let r = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: 'inherit', env });
    if (r.status !== 0) {
      spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
      r = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: 'inherit', env });
    }
    if (r.status !== 0) {
      log('could not install the lab packages; lab tests will skip');
      process.exitCode = 0;
    }
  }
} else {
  log(`not root: skipping Debian packages (${LAB_PACKAGES.length} needed by the lab); lab tests will skip`);
}
