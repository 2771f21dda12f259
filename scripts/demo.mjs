#!/usr/bin/env node
// `npm run demo`: bring up the lab, record the devices' traffic on the router,
// audit the lab from the pi (as a user's Raspberry Pi would), write the report
// (HTML, Markdown, JSON) and tear the lab down, even when something fails.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'iotguard.js');
const outBase = resolve(process.env.IOTGUARD_DEMO_OUT ?? 'iotguard-demo-report');
const say = (m) => process.stderr.write(`\x1b[1m[demo]\x1b[0m ${m}\n`);

if (process.getuid?.() !== 0) {
  say('the demo builds a simulated home network in network namespaces: run it as root (sudo npm run demo).');
  process.exit(1);
}

function iotguard(args, { inNs } = {}) {
  const argv = inNs ? ['ip', ['netns', 'exec', inNs, process.execPath, bin, ...args]] : [process.execPath, [bin, ...args]];
  return new Promise((res) => {
    const child = spawn(argv[0], argv[1], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (b) => (out += b));
    child.on('close', (code) => res({ code: code ?? 1, out }));
  });
}

const work = mkdtempSync(join(tmpdir(), 'iotguard-demo-'));
let code = 0;
try {
  say('1/4 bringing up the lab (installs missing Debian packages the first time)');
  let r = await iotguard(['lab', 'up']);
  if (r.code !== 0) throw new Error('lab up failed');
  const pcap = join(work, 'router-lan.pcap');
  say('2/4 recording 30 s of the devices\' traffic on the router\'s LAN');
  r = await iotguard(['lab', 'capture', '--traffic', '--seconds', '30', '--write', pcap]);
  if (r.code !== 0) throw new Error('lab capture failed');
  say('3/4 auditing the lab from the pi: discovery, UPnP, default passwords (authorised: it is our lab), traffic, vulnerabilities');
  r = await iotguard(['audit', '--authorized', '--pcap', pcap, '--db', join(work, 'store.db'), '--report', `${outBase}.json`, '--json'], { inNs: `${process.env.IOTGUARD_LAB ?? 'ig'}-pi` });
  if (r.code !== 0) throw new Error('audit failed');
  const result = JSON.parse(readFileSync(`${outBase}.json`, 'utf8'));
  // the same result rendered for people, without auditing twice
  const render = spawnSync(process.execPath, ['--input-type=module', '-e', `
    import { readFileSync, writeFileSync } from 'node:fs';
    import { renderHtml } from ${JSON.stringify(join(root, 'dist/core/report/html.js'))};
    import { renderMarkdown } from ${JSON.stringify(join(root, 'dist/core/report/markdown.js'))};
    const r = JSON.parse(readFileSync(${JSON.stringify(`${outBase}.json`)}, 'utf8'));
    writeFileSync(${JSON.stringify(`${outBase}.html`)}, renderHtml(r));
    writeFileSync(${JSON.stringify(`${outBase}.md`)}, renderMarkdown(r));
  `], { stdio: 'inherit' });
  if (render.status !== 0) throw new Error('rendering the report failed');
  say('4/4 summary');
  const rows = [...result.devices].sort((a, b) => b.risk.score - a.risk.score);
  for (const d of rows.slice(0, 10)) {
    process.stdout.write(`  ${d.ip.padEnd(15)} ${(d.hostname ?? d.vendor ?? d.type).slice(0, 22).padEnd(22)} ${`${d.risk.level} ${d.risk.score}`.padEnd(13)} ${(d.advice[0]?.text ?? '-').slice(0, 80)}\n`);
  }
  process.stdout.write(`\nReport: ${outBase}.html (also .md and .json)\n`);
} catch (e) {
  say(`failed: ${e.message}`);
  code = 1;
} finally {
  say('tearing down the lab');
  await iotguard(['lab', 'down']);
  rmSync(work, { recursive: true, force: true });
}
process.exit(code);
