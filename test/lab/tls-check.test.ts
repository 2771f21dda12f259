// tls-check against real TLS clients on the lab's smart plug, with the probe
// on the router (issue #7). Runs in its own lab ("igtls") so no other test's
// rules (a MUD allowlist on the shared router, UPnP mappings) change the
// ruleset under it or block the redirect.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { labCliAsync, runAsync } from './lab-harness.js';

const ready = inject('labReady');
const LAB = 'igtls';
const env = { ...process.env, IOTGUARD_LAB: LAB };
const bin = new URL('../../bin/iotguard.js', import.meta.url).pathname;
const CA = `/run/iotguard-lab/${LAB}/ca/ca.crt`;
const CLOUD = 'cloud.plugco.example';
const MQTT = 'mqtt.plugco.example';
const PLUG = '192.168.77.60';
const work = mkdtempSync(join(tmpdir(), 'iotguard-tlslab-'));
let startedLab = false;

const nft = (args: string[]) => spawnSync('ip', ['netns', 'exec', `${LAB}-router`, 'nft', ...args], { encoding: 'utf8' });
const ruleset = () => nft(['list', 'ruleset']).stdout;
const tableUp = () => /table ip iotguard_tlscheck/.test(nft(['list', 'tables']).stdout);
const inPlug = (argv: string[], input = '', timeout = 15_000) =>
  new Promise<{ code: number; out: string }>((resolve) => {
    const ch = spawn('ip', ['netns', 'exec', `${LAB}-plug`, ...argv], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    ch.stdout.on('data', (d: Buffer) => (out += d.toString()));
    ch.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const t = setTimeout(() => ch.kill('SIGKILL'), timeout);
    ch.on('close', (code) => {
      clearTimeout(t);
      resolve({ code: code ?? 1, out });
    });
    ch.stdin.on('error', () => {});
    ch.stdin.end(input);
  });

interface Probe {
  child: ChildProcess;
  done: Promise<{ code: number; stdout: string; stderr: string }>;
}

function startProbe(args: string[], stateDir: string): Probe {
  const child = spawn('ip', ['netns', 'exec', `${LAB}-router`, process.execPath, bin, 'tls-check', '--device', PLUG, '--authorized', '--json', '--state-dir', stateDir, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  const done = new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => child.on('close', (code, sig) => resolve({ code: code ?? (sig ? 128 : 1), stdout, stderr })));
  return { child, done };
}

async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Result {
  device: string;
  sni: string | null;
  destination: string | null;
  verdict: string;
  tests: Array<{ certificate: string; accepted: boolean; outcome: string; reason: string }>;
  passedThrough: number;
}

/** One probe run, one client driven `rounds` times (4 forgeries + pass-through), stopped with SIGTERM. */
async function probeWith(client: () => Promise<{ code: number; out: string }>, extra: string[] = [], rounds = 5) {
  const stateDir = mkdtempSync(join(work, 'state-'));
  const before = ruleset();
  const p = startProbe(['--seconds', '120', ...extra], stateDir);
  await waitFor(tableUp, 20_000, 'the redirect table');
  const outs: Array<{ code: number; out: string }> = [];
  for (let i = 0; i < rounds; i++) outs.push(await client());
  p.child.kill('SIGTERM');
  const r = await p.done;
  expect(r.code, r.stderr).toBe(0);
  const doc = JSON.parse(r.stdout) as { results: Result[]; findings: Array<{ id: string; evidence: Record<string, unknown> }>; run: Record<string, unknown> };
  expect(ruleset()).toBe(before);
  expect(tableUp()).toBe(false);
  expect(readdirSync(stateDir)).toEqual([]);
  return { doc, outs };
}

const curl = (args: string[]) => () => inPlug(['curl', '-sS', '--max-time', '8', ...args, `https://${CLOUD}/api/status`]);
const sclient = (args: string[]) => () =>
  inPlug(['openssl', 's_client', '-connect', `${CLOUD}:443`, '-servername', CLOUD, '-quiet', ...args], `GET /api/status HTTP/1.0\r\nHost: ${CLOUD}\r\n\r\n`);
const mosq = (args: string[]) => () =>
  inPlug(['mosquitto_pub', '-h', MQTT, '-p', '8883', '--cafile', CA, ...args, '-u', 'plug', '-P', 'plugpass123', '-i', 'sp1-tlscheck', '-t', 'plugco/sp1/state', '-m', '{"relay":"on"}']);
const NODE_CLIENT = `const tls = require('node:tls');
const s = tls.connect({ host: '${CLOUD}', port: 443, servername: '${CLOUD}', rejectUnauthorized: false }, () => s.write('GET /api/status HTTP/1.0\\r\\nHost: ${CLOUD}\\r\\n\\r\\n'));
let got = '';
s.on('data', (d) => (got += d));
s.on('error', (e) => { console.error(e.message); process.exit(1); });
s.on('close', () => { process.stdout.write(got); process.exit(got ? 0 : 1); });`;

function only(doc: { results: Result[] }, sni: string): Result {
  const r = doc.results.filter((x) => x.sni === sni);
  expect(r, JSON.stringify(doc.results)).toHaveLength(1);
  return r[0];
}

function expectAllTested(r: Result) {
  expect(r.tests.filter((t) => t.outcome !== 'inconclusive').map((t) => t.certificate)).toEqual(['self-signed', 'wrong-host', 'expired', 'untrusted-ca']);
}

describe.skipIf(!ready)('tls-check on the lab router', () => {
  let attackerCert = '';
  let attackerKey = '';
  beforeAll(async () => {
    startedLab = JSON.parse((await labCliAsync(['status', '--json'], { env })).stdout).up !== true;
    const up = await labCliAsync(['up'], { env });
    expect(up.status, up.stderr).toBe(0);
    // An attacker's genuine certificate for a domain it owns, from a CA the devices trust
    // (the lab CA stands for a public CA here): what catches a client that skips only the name check.
    attackerKey = join(work, 'attacker.key');
    attackerCert = join(work, 'attacker.crt');
    writeFileSync(join(work, 'attacker.ext'), 'subjectAltName=DNS:attacker.example\nextendedKeyUsage=serverAuth\n');
    const o = (a: string[]) => expect(spawnSync('openssl', a, { encoding: 'utf8' }).status).toBe(0);
    o(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=attacker.example', '-keyout', attackerKey, '-out', join(work, 'attacker.csr')]);
    o(['x509', '-req', '-in', join(work, 'attacker.csr'), '-CA', CA, '-CAkey', CA.replace('ca.crt', 'ca.key'), '-CAserial', join(work, 'ca.srl'), '-CAcreateserial', '-days', '2', '-extfile', join(work, 'attacker.ext'), '-out', attackerCert]);
  }, 120_000);

  afterAll(async () => {
    if (startedLab && process.env.IOTGUARD_KEEP_LAB !== '1') await labCliAsync(['down'], { env });
  }, 120_000);

  const trusted = () => ['--wrong-host-cert', attackerCert, '--wrong-host-key', attackerKey];

  it('curl with the lab CA: validates (all four refused), then works through the pass-through', async () => {
    const { doc, outs } = await probeWith(curl(['--cacert', CA]), trusted());
    const r = only(doc, CLOUD);
    expect(r.verdict).toBe('validates');
    expectAllTested(r);
    expect(r.destination).toBe('5.45.1.30:443');
    expect(outs.slice(0, 4).every((o) => o.code !== 0)).toBe(true);
    expect(outs[4]).toMatchObject({ code: 0, out: '{"ok":true}\n' });
    expect(r.passedThrough).toBe(1);
    expect(doc.findings).toEqual([]);
  });

  it('curl -k: accepts-self-signed, with a tls-no-cert-validation finding', async () => {
    const { doc, outs } = await probeWith(curl(['-k']));
    const r = only(doc, CLOUD);
    expect(r.verdict).toBe('accepts-self-signed');
    expect(r.tests.every((t) => t.accepted)).toBe(true);
    expect(outs[4]).toMatchObject({ code: 0, out: '{"ok":true}\n' });
    expect(doc.findings).toHaveLength(1);
    expect(doc.findings[0]).toMatchObject({ id: 'tls-no-cert-validation', severity: 'high', device: { ip: PLUG, mac: '70:89:76:00:77:60' } });
    expect(JSON.stringify(doc.findings[0].evidence)).toMatch(/sent \d+ bytes of application data/);
  });

  it('wget --no-check-certificate: accepts-self-signed', async () => {
    const { doc } = await probeWith(() => inPlug(['wget', '-q', '-O', '-', '-T', '8', '-t', '1', '--no-check-certificate', `https://${CLOUD}/api/status`]));
    expect(only(doc, CLOUD).verdict).toBe('accepts-self-signed');
  });

  it('openssl s_client -verify_return_error (lab CA, host name checked): validates', async () => {
    const { doc } = await probeWith(sclient(['-verify_return_error', '-CAfile', CA, '-verify_hostname', CLOUD]), trusted());
    const r = only(doc, CLOUD);
    expect(r.verdict).toBe('validates');
    expectAllTested(r);
  });

  it('openssl s_client -verify_return_error without -verify_hostname: the name is never checked, accepts-wrong-host', async () => {
    const { doc } = await probeWith(sclient(['-verify_return_error', '-CAfile', CA]), trusted());
    const r = only(doc, CLOUD);
    expect(r.verdict).toBe('accepts-wrong-host');
    expect(r.tests.filter((t) => t.accepted).map((t) => t.certificate)).toEqual(['wrong-host']);
  });

  it('openssl s_client without -verify_return_error: accepts-self-signed', async () => {
    const { doc } = await probeWith(sclient([]));
    expect(only(doc, CLOUD).verdict).toBe('accepts-self-signed');
  });

  it('mosquitto_pub --insecure over 8883: accepts-wrong-host with a trusted certificate for another name', async () => {
    // --insecure turns off the host name check only; the chain is still checked against --cafile
    const { doc, outs } = await probeWith(mosq(['--insecure']), trusted());
    const r = only(doc, MQTT);
    expect(r.destination).toBe('5.45.1.40:8883');
    expect(r.verdict).toBe('accepts-wrong-host');
    expect(r.tests.filter((t) => t.accepted).map((t) => t.certificate)).toEqual(['wrong-host']);
    expect(outs[4].code).toBe(0);
    expect(doc.findings.map((f) => f.id)).toEqual(['tls-no-cert-validation']);
  });

  it('mosquitto_pub --insecure with only forged certificates: validates (no forgery an attacker without a trusted certificate can make gets through)', async () => {
    const { doc } = await probeWith(mosq(['--insecure']));
    const r = only(doc, MQTT);
    expect(r.verdict).toBe('validates');
    expectAllTested(r);
  });

  it('a Node client with rejectUnauthorized:false: accepts-self-signed', async () => {
    const { doc, outs } = await probeWith(() => inPlug([process.execPath, '-e', NODE_CLIENT]));
    expect(only(doc, CLOUD).verdict).toBe('accepts-self-signed');
    expect(outs[4].out).toContain('{"ok":true}');
  });

  it('no TLS from the device: no-tls-seen, and plain HTTP keeps working during the run', async () => {
    const stateDir = mkdtempSync(join(work, 'state-'));
    const before = ruleset();
    const p = startProbe(['--seconds', '4'], stateDir);
    await waitFor(tableUp, 20_000, 'the redirect table');
    const fw = await inPlug(['wget', '-q', '-O', '-', '-T', '5', 'http://fw.plugco.example/firmware/latest.json']);
    expect(fw.code).toBe(0);
    expect(fw.out).toContain('"version":"1.2.3"');
    const r = await p.done;
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.results).toEqual([{ device: PLUG, sni: null, destination: null, verdict: 'no-tls-seen', tests: [], passedThrough: 0 }]);
    expect(doc.findings).toEqual([]);
    expect(ruleset()).toBe(before);
  });

  it('learns a TLS port seen in the device\'s traffic (8443) and tests it too', async () => {
    // a TLS service on a non-standard port in the internet namespace, with the lab's server certificate
    const dir = `/run/iotguard-lab/${LAB}/ca`;
    const srv = spawn('ip', ['netns', 'exec', `${LAB}-inet`, 'openssl', 's_server', '-accept', '5.45.1.30:8443', '-cert', `${dir}/server.crt`, '-key', `${dir}/server.key`, '-www', '-quiet'], { stdio: 'ignore' });
    try {
      await waitFor(() => /5\.45\.1\.30:8443/.test(spawnSync('ip', ['netns', 'exec', `${LAB}-inet`, 'ss', '-ltn'], { encoding: 'utf8' }).stdout), 10_000, 's_server');
      const stateDir = mkdtempSync(join(work, 'state-'));
      const before = ruleset();
      const p = startProbe(['--seconds', '120'], stateDir);
      await waitFor(tableUp, 20_000, 'the redirect table');
      const get = () => inPlug(['curl', '-sS', '-k', '--max-time', '8', `https://${CLOUD}:8443/`]);
      // the first connection goes straight through and is seen; then the port is redirected
      expect((await get()).code).toBe(0);
      await waitFor(() => /8443/.test(nft(['list', 'set', 'ip', 'iotguard_tlscheck', 'ports']).stdout), 10_000, 'port 8443 to be learned');
      for (let i = 0; i < 5; i++) await get();
      p.child.kill('SIGTERM');
      const r = await p.done;
      expect(r.code, r.stderr).toBe(0);
      const doc = JSON.parse(r.stdout);
      expect(doc.run.learnedPorts).toEqual([8443]);
      const res = only(doc, CLOUD);
      expect(res.destination).toBe('5.45.1.30:8443');
      expect(res.verdict).toBe('accepts-self-signed');
      expect(ruleset()).toBe(before);
    } finally {
      srv.kill('SIGKILL');
    }
  });

  it('after SIGKILL the rules stay; the next start removes them and the ruleset is exactly as before', async () => {
    const stateDir = mkdtempSync(join(work, 'state-'));
    const before = ruleset();
    const p = startProbe(['--seconds', '120'], stateDir);
    await waitFor(tableUp, 20_000, 'the redirect table');
    p.child.kill('SIGKILL');
    await p.done;
    // a crash leaves the table and the state file behind
    expect(tableUp()).toBe(true);
    expect(readdirSync(stateDir).filter((f) => f.endsWith('.json'))).toHaveLength(1);
    const again = await runAsync('ip', ['netns', 'exec', `${LAB}-router`, process.execPath, bin, 'tls-check', '--device', PLUG, '--authorized', '--json', '--seconds', '1', '--state-dir', stateDir], { timeout: 60_000 });
    expect(again.status, again.stderr).toBe(0);
    const doc = JSON.parse(again.stdout);
    expect(doc.run.recovery).toMatchObject({ staleState: true, removedTable: true });
    expect(tableUp()).toBe(false);
    expect(ruleset()).toBe(before);
    expect(existsSync(join(stateDir, readdirSync(stateDir)[0] ?? 'none'))).toBe(false);
  });
});
