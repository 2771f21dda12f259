import { describe, expect, it } from 'vitest';
import { checkTraffic, violationFindings } from '../../../src/core/policy/check.js';
import { importMud } from '../../../src/core/policy/import.js';
import { learnProfile, tunnelLikeParents } from '../../../src/core/policy/learn.js';
import { mudFileStrict } from '../../../src/core/policy/mud-schema.js';
import type { DeviceTraffic, ObservedFlow } from '../../../src/core/policy/traffic.js';

const NET = { lan: '192.168.77.0/24', router: '192.168.77.1' };
const now = new Date('2026-11-25T12:00:00Z');
const out = (remoteIp: string, proto: ObservedFlow['proto'], remotePort: number, remoteName?: string, extra: Partial<ObservedFlow> = {}): ObservedFlow => ({
  initiator: 'device', family: 'ipv4', proto, remoteIp, remotePort, ...(remoteName ? { remoteName } : {}), flows: 1, bytes: 100, ...extra,
});

const plug: DeviceTraffic = {
  mac: '70:89:76:00:77:60',
  ip: '192.168.77.60',
  queries: [{ name: 'fw.plugco.example' }, { name: 'cloud.plugco.example' }, { name: 'mqtt.plugco.example' }],
  flows: [
    out('192.168.77.1', 'udp', 53),
    out('255.255.255.255', 'udp', 67),
    out('5.45.1.20', 'tcp', 80, 'fw.plugco.example', { flows: 2 }),
    out('5.45.1.30', 'tcp', 443, 'Cloud.PlugCo.example.', { flows: 4 }),
    out('5.45.1.40', 'tcp', 1883, 'mqtt.plugco.example'),
    out('224.0.0.251', 'udp', 5353),
  ],
};

// iodine-shaped names: long base32-ish labels under the tunnel domain
const tunnelNames = Array.from({ length: 40 }, (_, i) => `${'paab'.repeat(8)}${i.toString(36)}x${'q'.repeat(20)}.t.c2tunnel.example`);
const infected: DeviceTraffic = {
  mac: '14:08:08:00:77:70',
  ip: '192.168.77.70',
  queries: [...tunnelNames.map((name) => ({ name })), { name: 'time.example.net' }],
  flows: [
    out('192.168.77.1', 'udp', 53, undefined, { flows: 400 }),
    out('5.45.1.10', 'udp', 53),
    out('5.45.1.99', 'udp', 123, 'time.example.net'),
    ...Array.from({ length: 60 }, (_, i) => out(`192.168.77.${i + 2}`, 'tcp', i % 2 ? 23 : 2323)),
    out('192.168.77.30', 'tcp', 23, undefined, { flows: 25 }),
  ],
};

describe('policy learn', () => {
  it('learns names, ports and local services, and writes a valid RFC 8520 file', () => {
    const r = learnProfile(plug, { ...NET, now });
    expect(r.names).toEqual(['cloud.plugco.example', 'fw.plugco.example', 'mqtt.plugco.example']);
    expect(mudFileStrict.safeParse(r.mud).success).toBe(true);
    const back = importMud(JSON.parse(JSON.stringify(r.mud)));
    expect(back.ok).toBe(true);
    if (!back.ok) return;
    expect(back.device).toEqual({ mac: '70:89:76:00:77:60', ip: '192.168.77.60' });
    expect(back.warnings).toEqual([]);
    const rules = back.profile.rules;
    expect(rules.find((x) => x.remote.name === 'cloud.plugco.example' && x.direction === 'from-device')).toMatchObject({ protocol: 6, remotePort: { lo: 443, hi: 443 }, initiatedBy: 'from-device' });
    expect(rules.find((x) => x.remote.mud?.kind === 'controller' && x.direction === 'from-device')).toMatchObject({ remote: { mud: { kind: 'controller', uri: 'urn:ietf:params:mud:dns' } }, remotePort: { lo: 53, hi: 53 } });
    expect(rules.some((x) => x.remote.net === '224.0.0.251/32' && x.remotePort?.toString() !== undefined)).toBe(true);
    // deterministic: same traffic, same document
    expect(JSON.stringify(learnProfile({ ...plug, flows: [...plug.flows].reverse() }, { ...NET, now }).mud)).toBe(JSON.stringify(r.mud));
  });

  it('leaves out what an attack looks like, and says why', () => {
    expect([...tunnelLikeParents(tunnelNames)]).toEqual(['t.c2tunnel.example']);
    const r = learnProfile(infected, { ...NET, now });
    expect(r.names).toEqual(['time.example.net']);
    expect(r.excludedNames.every((n) => n.reason.startsWith('dns-tunnel'))).toBe(true);
    expect(r.excludedNames.length).toBe(40);
    const reasons = r.excluded.map((e) => `${e.reason.split(' ')[0]} ${e.proto}/${e.port}`);
    expect(reasons).toContain('lateral-scan tcp/23');
    expect(reasons).toContain('lateral-scan tcp/2323');
    expect(reasons).toContain('dns-bypass udp/53');
    // no LAN peer is allowed: the scan and the brute force are both out
    const back = importMud(r.mud);
    expect(back.ok && back.profile.rules.some((x) => x.remote.net?.startsWith('192.168.77.') && x.remote.net !== '192.168.77.1/32')).toBe(false);
  });

  it('excludes flows a detector flagged', () => {
    const t: DeviceTraffic = { ...plug, flows: [...plug.flows, out('5.45.1.66', 'tcp', 8443, 'evil.example', { suspicious: 'known-vulnerability' })] };
    const r = learnProfile(t, { ...NET, now });
    expect(r.names).not.toContain('evil.example');
    expect(r.excluded[0]).toMatchObject({ reason: 'known-vulnerability', port: 8443 });
  });
});

describe('policy check', () => {
  const learned = importMud(learnProfile(plug, { ...NET, now }).mud);
  if (!learned.ok) throw new Error('learned profile does not import');
  const profile = learned.profile;

  it('passes the traffic it was learned from', () => {
    expect(checkTraffic(profile, plug, NET)).toEqual([]);
  });

  it('flags a new destination, a new port, a LAN peer and an inbound connection', () => {
    const t: DeviceTraffic = {
      ...plug,
      flows: [
        ...plug.flows,
        out('5.45.1.77', 'tcp', 443, 'new.c2.example'),
        out('5.45.1.30', 'tcp', 8443, 'cloud.plugco.example'),
        out('192.168.77.30', 'tcp', 23),
        { initiator: 'remote', family: 'ipv4', proto: 'tcp', remoteIp: '5.45.0.1', localPort: 23, flows: 1 },
      ],
    };
    const v = checkTraffic(profile, t, NET);
    expect(v.map((x) => `${x.kind} ${x.remote.ip} ${x.proto}/${x.port}`)).toEqual([
      'inbound 5.45.0.1 tcp/23',
      'lan-peer 192.168.77.30 tcp/23',
      'new-destination 5.45.1.77 tcp/443',
      'new-port 5.45.1.30 tcp/8443',
    ]);
    const f = violationFindings(v, profile.url);
    expect(f.every((x) => x.id === 'policy-violation')).toBe(true);
    expect(f[2].title).toContain('new.c2.example');
    expect(f[1].severity).toBe('high');
  });

  it('checks against vendor profiles too: a name it does not list is a violation', () => {
    const t: DeviceTraffic = { mac: 'aa:bb:cc:00:00:01', queries: [], flows: [out('5.45.1.30', 'tcp', 443, 'cloud.plugco.example')] };
    const v = checkTraffic(profile, t, NET);
    expect(v).toEqual([]);
    const t2: DeviceTraffic = { ...t, flows: [out('5.45.1.31', 'tcp', 443)] };
    expect(checkTraffic(profile, t2, NET)[0].kind).toBe('new-destination');
  });
});
