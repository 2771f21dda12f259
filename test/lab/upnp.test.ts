// `iotguard upnp` against the lab router's real miniupnpd, checked against
// what `upnpc -l` (miniupnpc) prints from the same pi: mappings (including
// ones added and removed during the test), devices, risk, --remove, the
// secure_mode misconfiguration and the WAN side. Restores the router at the end.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { LAB_NODES } from '../../src/lab/topology.js';
import { labCli } from './lab-harness.js';

const ready = inject('labReady');
const bin = new URL('../../bin/iotguard.js', import.meta.url).pathname;
const IGD = 'http://192.168.77.1:5000/rootDesc.xml';
const lab = process.env.IOTGUARD_LAB ?? 'ig';
const inNs = (node: string, argv: string[], timeout = 120_000) => spawnSync('ip', ['netns', 'exec', `${lab}-${node}`, ...argv], { encoding: 'utf8', timeout });
const ipOf = (node: string) => LAB_NODES.find((n) => n.name === node)!.ip;

interface Row {
  protocol: string;
  externalPort: number;
  internalClient: string;
  internalPort: number;
  description: string;
  leaseSeconds: number;
}

/** `upnpc -l` rows: " 5 TCP  2323->192.168.77.20:23    'ipcam telnet' '' 604692" */
function upnpcList(): Row[] {
  const r = inNs('pi', ['upnpc', '-u', IGD, '-l']);
  expect(r.status, r.stderr).toBe(0);
  return [...r.stdout.matchAll(/^\s*\d+\s+(TCP|UDP)\s+(\d+)->([\d.]+):(\d+)\s+'([^']*)'\s+'[^']*'\s+(\d+)\s*$/gm)]
    .map((m) => ({ protocol: m[1], externalPort: Number(m[2]), internalClient: m[3], internalPort: Number(m[4]), description: m[5], leaseSeconds: Number(m[6]) }))
    .sort((a, b) => a.protocol.localeCompare(b.protocol) || a.externalPort - b.externalPort);
}

/** A device adds a mapping with miniupnpc. Retried briefly: other lab tests may be restarting miniupnpd. */
function upnpcAdd(node: string, description: string, internalPort: number, externalPort: number, protocol: 'TCP' | 'UDP', lease: number): void {
  let out = '';
  for (let i = 0; i < 3; i++) {
    const r = inNs(node, ['upnpc', '-u', IGD, '-e', description, '-a', ipOf(node), String(internalPort), String(externalPort), protocol, String(lease)]);
    out = r.stdout + r.stderr;
    if (/is redirected to internal/.test(out)) return;
    spawnSync('sleep', ['2']);
  }
  throw new Error(`${node} could not add ${protocol}/${externalPort}: ${out.trim().split('\n').slice(-3).join(' / ')}`);
}

function audit(args: string[], node = 'pi') {
  const r = inNs(node, [process.execPath, bin, 'upnp', '--json', ...args]);
  if (r.status !== 0) throw new Error(`iotguard upnp ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

type Mapping = Row & { risk: string; device: { mac: string | null; ip: string; vendor: string | null } };

function expectSameAsUpnpc(ours: Mapping[], theirs: Row[]): void {
  const strip = (m: Row) => ({ protocol: m.protocol, externalPort: m.externalPort, internalClient: m.internalClient, internalPort: m.internalPort, description: m.description });
  const sorted = [...ours].sort((a, b) => a.protocol.localeCompare(b.protocol) || a.externalPort - b.externalPort);
  expect(sorted.map(strip)).toEqual(theirs.map(strip));
  // Leases count down between the two reads: allow a few seconds.
  for (const [i, m] of sorted.entries()) expect(Math.abs(m.leaseSeconds - theirs[i].leaseSeconds), `lease of ${m.protocol}/${m.externalPort}`).toBeLessThanOrEqual(5);
}

/**
 * Make the router's miniupnpd answer on its WAN side, as a misconfigured
 * router does. miniupnpd 2.3.1 refuses to listen on an interface with a public
 * address (so `lab upnp --wan-exposed yes`, which sets listening_ip=wan0, stops
 * it), and binds its sockets to br-lan; so WAN traffic to 1900/udp and
 * 5000/tcp is accepted by the router's input chain and relayed by socat to the
 * br-lan sockets. Returns the undo (relays ended by PID, rules deleted by handle).
 */
async function exposeWanSide(): Promise<() => void> {
  const router = `${lab}-router`;
  const nft = (...a: string[]) => spawnSync('ip', ['netns', 'exec', router, 'nft', ...a], { encoding: 'utf8' });
  for (const rule of [['tcp', '5000'], ['udp', '1900']]) {
    expect(nft('insert', 'rule', 'inet', 'filter', 'input', 'iifname', 'wan0', rule[0], 'dport', rule[1], 'accept', 'comment', '"iotguard-upnp-test"').status).toBe(0);
  }
  const relays: ChildProcess[] = [
    spawn('ip', ['netns', 'exec', router, 'socat', 'TCP-LISTEN:5000,bind=5.45.0.2,so-bindtodevice=wan0,reuseaddr,fork', 'TCP:192.168.77.1:5000,so-bindtodevice=br-lan'], { stdio: 'ignore' }),
    spawn('ip', ['netns', 'exec', router, 'socat', 'UDP-RECVFROM:1900,bind=5.45.0.2,so-bindtodevice=wan0,reuseaddr,fork', 'UDP-SENDTO:192.168.77.1:1900,so-bindtodevice=br-lan'], { stdio: 'ignore' }),
  ];
  await new Promise((r) => setTimeout(r, 500));
  const dead = relays.filter((p) => p.exitCode !== null);
  const undo = () => {
    for (const p of relays) if (p.exitCode === null && p.pid) p.kill('SIGTERM');
    const listing = nft('-a', 'list', 'chain', 'inet', 'filter', 'input').stdout;
    for (const m of listing.matchAll(/iotguard-upnp-test.*# handle (\d+)/g)) nft('delete', 'rule', 'inet', 'filter', 'input', 'handle', m[1]);
  };
  if (dead.length > 0) {
    undo();
    throw new Error('a socat relay for the WAN side did not start (port taken?)');
  }
  return undo;
}

let reconfigured = false;
afterAll(() => {
  if (!ready) return;
  // Leave the router as the lab made it: secure mode on, WAN side closed, the devices' mappings re-added.
  if (reconfigured) labCli(['upnp', '--secure-mode', 'yes'], { timeout: 120_000 });
  inNs('console', ['upnpc', '-u', IGD, '-d', '41001', 'TCP']);
  inNs('plug', ['upnpc', '-u', IGD, '-d', '41002', 'UDP']);
});

describe.skipIf(!ready)('iotguard upnp against the lab router (miniupnpd)', () => {
  it('lists the same mappings as upnpc -l, also after mappings are added and removed, each with its device', () => {
    const first = audit([]);
    // Found by SSDP; other engineers' tests may briefly run their own IGDs in the lab, so pick the router's.
    const g = first.gateways.find((x: { location: string }) => x.location === IGD);
    expect(g, JSON.stringify(first.gateways.map((x: { location: string }) => x.location))).toBeDefined();
    expect(g).toMatchObject({ location: IGD, externalIp: '5.45.0.2', server: expect.stringContaining('MiniUPnPd') });
    expectSameAsUpnpc(g.mappings, upnpcList());

    // Devices add mappings during the test...
    upnpcAdd('console', 'iotguard lab test', 41001, 41001, 'TCP', 600);
    upnpcAdd('plug', 'plug p2p', 41002, 41002, 'UDP', 300);
    const added = audit(['--location', IGD]).gateways[0].mappings as Mapping[];
    expectSameAsUpnpc(added, upnpcList());
    expect(added.find((m) => m.externalPort === 41002)).toMatchObject({ protocol: 'UDP', internalClient: ipOf('plug'), device: { mac: LAB_NODES.find((n) => n.name === 'plug')!.mac } });

    // ...and remove one.
    inNs('console', ['upnpc', '-u', IGD, '-d', '41001', 'TCP']);
    const removed = audit(['--location', IGD]).gateways[0].mappings as Mapping[];
    expect(removed.some((m) => m.externalPort === 41001)).toBe(false);
    expectSameAsUpnpc(removed, upnpcList());

    // Every mapping carries the device that holds its internal address.
    for (const m of removed) {
      const node = LAB_NODES.find((n) => n.ip === m.internalClient)!;
      expect(m.device, `${m.protocol}/${m.externalPort}`).toMatchObject({ ip: node.ip, mac: node.mac });
    }
    const telnet = removed.find((m) => m.protocol === 'TCP' && m.externalPort === 2323)!;
    expect(telnet).toMatchObject({ internalClient: ipOf('cam'), internalPort: 23, risk: 'critical', device: { vendor: expect.stringMatching(/Hikvision/) } });
    expect(removed.find((m) => m.protocol === 'UDP' && m.externalPort === 3074)!.risk).toBe('low');
    const f = first.findings.find((x: { id: string; evidence: { externalPort: number } }) => x.id === 'upnp-mapping' && x.evidence.externalPort === 2323);
    expect(f).toMatchObject({ severity: 'critical', device: { ip: ipOf('cam'), mac: LAB_NODES.find((n) => n.name === 'cam')!.mac } });
    expect(first.findings.some((x: { id: string }) => x.id === 'upnp-enabled')).toBe(true);
    expect(g.natPmp).toBe(true);
    inNs('plug', ['upnpc', '-u', IGD, '-d', '41002', 'UDP']);
  });

  it('--remove tcp/2323: refused with a clear reason under secure_mode=yes, really removed under secure_mode=no (checked with upnpc -l)', () => {
    expect(upnpcList().some((m) => m.protocol === 'TCP' && m.externalPort === 2323)).toBe(true);
    // miniupnpd secure mode lets only the client that owns a mapping delete it (UPnP error 606).
    const refused = inNs('pi', [process.execPath, bin, 'upnp', '--location', IGD, '--remove', 'tcp/2323', '--yes']);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/606.*secure mode/);
    expect(upnpcList().some((m) => m.protocol === 'TCP' && m.externalPort === 2323)).toBe(true);

    reconfigured = true;
    expect(labCli(['upnp', '--secure-mode', 'no'], { timeout: 120_000 }).status).toBe(0);
    expect(upnpcList().some((m) => m.protocol === 'TCP' && m.externalPort === 2323)).toBe(true);
    const r = audit(['--location', IGD, '--remove', 'tcp/2323', '--yes']);
    expect(r.removed[0]).toMatchObject({ removed: true, stillPresent: false });
    expect(upnpcList().some((m) => m.protocol === 'TCP' && m.externalPort === 2323)).toBe(false);
    expect(r.gateways[0].mappings.some((m: Mapping) => m.protocol === 'TCP' && m.externalPort === 2323)).toBe(false);
    // the camera opens it again, as its firmware would
    upnpcAdd('cam', 'ipcam telnet', 23, 2323, 'TCP', 0);
  });

  it('reports upnp-permissive with secure_mode=no and not with secure_mode=yes, leaving no test mapping behind', () => {
    reconfigured = true;
    expect(labCli(['upnp', '--secure-mode', 'no'], { timeout: 120_000 }).status).toBe(0);
    const open = audit(['--location', IGD, '--authorized']);
    const p = open.gateways[0].permissive;
    expect(p).toMatchObject({ accepted: true, removed: true, requester: ipOf('pi') });
    expect(open.findings.some((f: { id: string }) => f.id === 'upnp-permissive')).toBe(true);
    expect(upnpcList().some((m) => m.description.startsWith('iotguard-test'))).toBe(false);

    expect(labCli(['upnp', '--secure-mode', 'yes'], { timeout: 120_000 }).status).toBe(0);
    const secure = audit(['--location', IGD, '--authorized']);
    expect(secure.gateways[0].permissive).toMatchObject({ accepted: false, selfMapping: { accepted: true, removed: true } });
    expect(secure.findings.some((f: { id: string }) => f.id === 'upnp-permissive')).toBe(false);
    expect(upnpcList().some((m) => m.description.startsWith('iotguard-test'))).toBe(false);
  });

  it('reports upnp-wan-exposed from the internet namespace only when the IGD answers on the WAN side', async () => {
    const closed = audit(['--wan', '5.45.0.2'], 'inet');
    expect(closed.findings).toEqual([]);
    expect(closed.wan).toMatchObject({ ssdp: [], descriptions: [], soap: [], natPmp: false });

    const undo = await exposeWanSide();
    try {
      const exposed = audit(['--wan', '5.45.0.2'], 'inet');
      expect(exposed.findings.map((f: { id: string }) => f.id)).toEqual(['upnp-wan-exposed']);
      expect(exposed.findings[0].severity).toBe('critical');
      expect(exposed.wan.ssdp.length).toBeGreaterThan(0);
      expect(exposed.wan.descriptions).toContain('http://5.45.0.2:5000/rootDesc.xml');
      expect(exposed.wan.soap[0]).toMatchObject({ action: 'GetExternalIPAddress', result: '5.45.0.2' });
    } finally {
      undo();
    }
    expect(audit(['--wan', '5.45.0.2'], 'inet').findings).toEqual([]);
  });
});
