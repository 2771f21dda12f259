import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importMudText } from '../../../src/core/policy/import.js';
import type { MudProfile } from '../../../src/core/policy/profile.js';
import { qnameMatch, renderNftables, type DeviceBinding } from '../../../src/core/policy/render-nft.js';
import { renderOpenWrt } from '../../../src/core/policy/render-openwrt.js';
import { corpusSkipReason, haveCorpus, listMudFiles, mudDir } from './corpus.js';
import { haveNft, nftCheck, nftSkipReason } from './nft-helper.js';

const fixture = (name: string): MudProfile => {
  const r = importMudText(readFileSync(new URL(`../../fixtures/policy/${name}`, import.meta.url), 'utf8'));
  if (!r.ok) throw new Error(r.reason);
  return r.profile;
};
const LAN = { lan: '192.168.77.0/24' };
const PLUG = '70:89:76:00:77:60';
const HUB = '70:89:76:00:77:61';
const INFECTED = '14:08:08:00:77:70';
const CONSOLE = '00:04:1f:00:77:50';

/** The body of a chain: its lines up to the closing tab-brace. */
function chainBody(nft: string, name: string): string {
  const start = nft.indexOf(`\tchain ${name} {\n`);
  if (start < 0) return '';
  return nft.slice(start, nft.indexOf('\n\t}', start));
}
const idOf = (nft: string, mac: string) => new RegExp(`#   (d\\d+) ${mac}`).exec(nft)![1];

function labLike(): DeviceBinding[] {
  return [
    { mac: PLUG, ip: '192.168.77.60', profile: fixture('plug.mud.json'), mode: 'enforce' },
    { mac: HUB, ip: '192.168.77.61', profile: fixture('hub.mud.json'), mode: 'enforce' },
    { mac: INFECTED, ip: '192.168.77.70', mode: 'quarantine' },
    { mac: CONSOLE, ip: '192.168.77.50', mode: 'no-internet' },
  ];
}

if (!haveNft) console.warn(`[policy] nft checks skipped: ${nftSkipReason}`);

describe('policy render (nftables)', () => {
  it('gives each managed device its chains, name sets and dnsmasq nftset lines', () => {
    const r = renderNftables(labLike(), LAN);
    expect(r.nft).toContain('table inet iotguard {');
    expect(r.nft).toContain('table bridge iotguard {');
    // the plug's names share one set per (direction, proto, port)
    const out = r.sets.filter((s) => s.device === PLUG);
    expect(out.flatMap((s) => s.names)).toEqual(expect.arrayContaining(['fw.plugco.example', 'cloud.plugco.example', 'mqtt.plugco.example']));
    expect(r.dnsmasq).toMatch(/^nftset=\/cloud\.plugco\.example\/4#inet#iotguard#d\d+_n\d+_v4/m);
    // the NTP controller resolves to the router (input chain), not to the internet
    const plug = idOf(r.nft, PLUG);
    expect(chainBody(r.nft, `${plug}_to_router`)).toContain('udp dport 123 accept');
    expect(chainBody(r.nft, `${plug}_out`)).toMatch(/ip daddr @d\d+_n\d+_v4 tcp dport 443 accept/);
    // quarantine: DHCP only, DNS is dropped with everything else
    const inf = idOf(r.nft, INFECTED);
    const q = chainBody(r.nft, `${inf}_to_router`);
    expect(q).toContain('udp dport 67 accept');
    expect(q).not.toContain('dport 53 accept');
    expect(chainBody(r.nft, `${inf}_out`)).toMatch(/^\s*chain \S+ \{\n\s*counter drop comment "quarantined"$/);
    expect(chainBody(r.nft, `${inf}_lan_out`)).toContain('counter drop comment "quarantined"');
    // no-internet: DNS allowed, nothing routed
    const con = idOf(r.nft, CONSOLE);
    expect(chainBody(r.nft, `${con}_to_router`)).toContain('th dport 53 accept');
    expect(chainBody(r.nft, `${con}_out`)).toMatch(/counter drop comment "no internet"$/);
    // same-manufacturer resolves to the sibling's MAC on the bridge; a LAN
    // flow needs both ends' profiles, and the plug's does not name the hub
    const hub = idOf(r.nft, HUB);
    expect(chainBody(r.nft, `${hub}_lan_out`)).toContain(`ether daddr ${PLUG} tcp dport 9999 return`);
    expect(chainBody(r.nft, `${hub}_lan_in`)).toContain(`ether saddr ${PLUG} tcp dport 9999 return`);
    expect(chainBody(r.nft, `${plug}_lan_in`)).not.toContain('9999');
    expect(r.notes.some((n) => n.includes('same-manufacturer') || n.includes('authority'))).toBe(false);
  });

  it('is deterministic: same input, same bytes, whatever the order of devices', () => {
    const a = renderNftables(labLike(), LAN);
    const b = renderNftables([...labLike()].reverse(), LAN);
    expect(b.nft).toBe(a.nft);
    expect(b.dnsmasq).toBe(a.dnsmasq);
    expect(renderOpenWrt(labLike(), LAN).bundle).toBe(renderOpenWrt([...labLike()].reverse(), LAN).bundle);
  });

  it('fails closed on abstractions it cannot resolve and says so', () => {
    const r = renderNftables([{ mac: HUB, profile: fixture('hub.mud.json'), mode: 'enforce' }], LAN);
    expect(r.notes.join('\n')).toMatch(/not enforced \(stays blocked\).*MUD authority plugco\.example/);
    expect(r.nft).not.toContain('9999');
  });

  it.skipIf(!haveNft)('keeps hostile names from a MUD file out of the script syntax', () => {
    const raw = JSON.parse(readFileSync(new URL('../../fixtures/policy/plug.mud.json', import.meta.url), 'utf8'));
    raw['ietf-mud:mud'].systeminfo = 'evil\n}\ntable ip x { chain y { } }\n#';
    raw['ietf-access-control-list:acls'].acl[0].aces.ace[0].name = 'a"b\\c\nd';
    const r = importMudText(JSON.stringify(raw));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const out = renderNftables([{ mac: PLUG, profile: r.profile, mode: 'enforce', label: r.profile.systeminfo }], LAN);
    expect(out.nft).not.toMatch(/^\s*table ip x/m);
    expect(out.nft).toContain('(evil?}?table ip x { chain y { } }?#)');
    expect(out.nft).toContain('comment "sp1-fr/abc?d"');
    expect(nftCheck(out.nft).ok).toBe(true);
    expect(() => renderNftables([{ mac: 'zz:00:00:00:00:01', mode: 'quarantine' }], LAN)).toThrow(/not a MAC/);
    expect(() => renderNftables([{ mac: PLUG, ip: '1.2.3.4; drop', mode: 'quarantine' }], LAN)).toThrow(/not an IPv4/);
  });

  it('rejects an enforce device without a profile and duplicate MACs', () => {
    expect(() => renderNftables([{ mac: PLUG, mode: 'enforce' }], LAN)).toThrow(/needs a MUD profile/);
    expect(() => renderNftables([{ mac: PLUG, mode: 'quarantine' }, { mac: PLUG.toUpperCase(), mode: 'quarantine' }], LAN)).toThrow(/twice/);
  });

  it('encodes DNS question names for the exact-name allowlist (RFC 1035 wire form, <=128-bit pieces)', () => {
    expect(qnameMatch('pool.ntp.org')).toBe('@th,160,112 0x04706f6f6c036e7470036f726700');
    const long = qnameMatch('euw1-device-cloudgateway.iot.i.tplinknbu.com')!;
    expect(long.split(' ').length).toBe(6);
    expect(qnameMatch('a..b')).toBeUndefined();
    const r = renderNftables([{ mac: PLUG, profile: fixture('plug.mud.json'), mode: 'enforce' }], { ...LAN, dnsAllowlist: true });
    expect(r.nft).toContain('comment "DNS name not in the allowlist"');
    expect(r.nft).toContain('comment "DNS cloud.plugco.example"');
  });

  it.skipIf(!haveNft)('nft -c accepts the lab-like ruleset in every mode, and the OpenWrt include', () => {
    for (const dnsAllowlist of [false, true]) {
      const r = renderNftables(labLike(), { ...LAN, dnsAllowlist });
      const c = nftCheck(r.nft);
      expect(c.stderr).toBe('');
      expect(c.ok).toBe(true);
    }
    const ow = renderOpenWrt(labLike(), LAN);
    const c = nftCheck(ow.files[0].content);
    expect(c.ok, c.stderr).toBe(true);
    expect(ow.files[1].content).toContain("uci set firewall.iotguard.position='ruleset-post'");
    expect(ow.files[1].content).toMatch(/uci add_list dhcp\.iotguard_d\d+_n\d+_v4\.domain='cloud\.plugco\.example'/);
  });
});

describe.skipIf(!haveCorpus)('policy render: every importable MUD file in ../shared/data/mud', () => {
  it.skipIf(!haveNft)('renders a ruleset nft -c accepts, deterministically', () => {
    let rendered = 0;
    const failures: string[] = [];
    for (const f of listMudFiles()) {
      const r = importMudText(readFileSync(f, 'utf8'));
      if (!r.ok) continue;
      // the profile on two devices (so same-manufacturer/model resolve), in every mode
      const bindings: DeviceBinding[] = [
        { mac: '02:00:00:00:00:01', ip: '192.168.77.11', profile: r.profile, mode: 'enforce' },
        { mac: '02:00:00:00:00:02', ip: '192.168.77.12', profile: r.profile, mode: 'enforce' },
        { mac: '02:00:00:00:00:03', profile: r.profile, mode: 'no-internet' },
        { mac: '02:00:00:00:00:04', mode: 'quarantine' },
      ];
      const opts = { ...LAN, controllers: { 'https://controller.nist.local': ['192.168.77.5'] }, dnsAllowlist: true };
      const a = renderNftables(bindings, opts);
      expect(renderNftables([...bindings].reverse(), opts).nft).toBe(a.nft);
      const c = nftCheck(a.nft);
      if (!c.ok) failures.push(`${relative(mudDir, f)}: ${c.stderr.split('\n').slice(0, 4).join(' | ')}`);
      rendered++;
    }
    expect(failures).toEqual([]);
    expect(rendered).toBeGreaterThan(40);
    console.log(`nft -c accepted the rulesets of ${rendered} MUD files`);
  });
});

if (!haveCorpus) console.warn(`[policy] ${corpusSkipReason}`);
