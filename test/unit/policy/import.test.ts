import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { importMud, importMudText } from '../../../src/core/policy/import.js';

const plug = () => JSON.parse(readFileSync(new URL('../../fixtures/policy/plug.mud.json', import.meta.url), 'utf8'));
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const ace0 = (d: Json) => d['ietf-access-control-list:acls'].acl[0].aces.ace[0];
const reject = (d: unknown) => {
  const r = importMud(d);
  if (r.ok) throw new Error('expected a rejection');
  return r.reason;
};

describe('policy import', () => {
  it('normalizes an RFC 8520 file into remote-centric rules', () => {
    const r = importMud(plug());
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.profile.authority).toBe('plugco.example');
    expect(r.profile.dialect).toBe('rfc8520');
    const cloud = r.profile.rules.find((x) => x.id === 'sp1-fr/fr-cloud')!;
    expect(cloud).toMatchObject({ direction: 'from-device', protocol: 6, remote: { name: 'cloud.plugco.example' }, remotePort: { lo: 443, hi: 443 }, initiatedBy: 'from-device' });
    const back = r.profile.rules.find((x) => x.id === 'sp1-to/to-cloud')!;
    expect(back).toMatchObject({ direction: 'to-device', remote: { name: 'cloud.plugco.example' }, remotePort: { lo: 443, hi: 443 } });
  });

  it('rejects with the JSON pointer of the offending node', () => {
    const d1 = plug();
    ace0(d1).matches.tcp['destination-port'] = { 'lower-port': 90, 'upper-port': 80 };
    expect(reject(d1)).toBe('/ietf-access-control-list:acls/acl/0/aces/ace/0/matches/tcp/destination-port: upper-port is below lower-port (RFC 8519: upper-port must be >= lower-port)');
    const d2 = plug();
    ace0(d2).matches.ipv4.protocol = 17;
    expect(reject(d2)).toMatch(/^\/ietf-access-control-list:acls\/acl\/0\/aces\/ace\/0\/matches\/ipv4\/protocol: protocol 17 contradicts the tcp match/);
    const d3 = plug();
    d3['ietf-mud:mud']['from-device-policy']['access-lists']['access-list'][0].name = 'nope';
    expect(reject(d3)).toBe("/ietf-mud:mud/from-device-policy/access-lists/access-list/0/name: names ACL 'nope', which the file does not define");
    const d4 = plug();
    ace0(d4).matches.ipv4['destination-ipv4-network'] = '203.0.113.0/24';
    expect(reject(d4)).toMatch(/ietf-acldns:dst-dnsname: dst-dnsname and a destination network are alternatives/);
    const d5 = plug();
    d5['ietf-mud:mud']['mud-url'] = 'http://plugco.example/x';
    expect(reject(d5)).toMatch(/^\/ietf-mud:mud\/mud-url: mud-url must be an https URL/);
    const d6 = plug();
    ace0(d6).matches['ietf-mud:mud'] = { 'local-networks': true };
    expect(reject(d6)).toMatch(/matches\/ietf-mud:mud\/local-networks: a YANG "empty" leaf must be \[null\]/);
    const d7 = plug();
    ace0(d7).matches.ipv4.protocolx = 6;
    expect(reject(d7)).toBe("/ietf-access-control-list:acls/acl/0/aces/ace/0/matches/ipv4/protocolx: unknown node 'protocolx'");
    const d8 = plug();
    delete d8['ietf-mud:mud']['last-update'];
    expect(reject(d8)).toBe('/ietf-mud:mud/last-update: required node is missing');
    expect(importMudText('{"ietf-mud:mud": ').ok).toBe(false);
    expect(reject([1, 2])).toMatch(/^\/: a MUD file is a JSON object/);
  });

  it('reads the pre-RFC access-lists container with a warning, and names draft-era keys in rejections', () => {
    const d = plug();
    d['ietf-access-control-list:access-lists'] = d['ietf-access-control-list:acls'];
    delete d['ietf-access-control-list:acls'];
    const r = importMud(d);
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.profile.dialect).toBe('draft');
      expect(r.warnings[0].message).toMatch(/pre-RFC 8519 container name/);
    }
    const old = plug();
    const acl = old['ietf-access-control-list:acls'].acl[0];
    acl['access-list-entries'] = acl.aces;
    delete acl.aces;
    expect(reject(old)).toMatch(/acl\/0\/access-list-entries: unknown node 'access-list-entries' \(pre-RFC 8519 draft layout; RFC 8519 names this container 'aces'\)/);
  });

  it('never throws, whatever JSON it is given', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (v) => {
        const r = importMud(v);
        expect(typeof r.ok).toBe('boolean');
      }),
      { numRuns: 300 },
    );
    // and a valid file with random mutations at random places
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(200), fc.jsonValue({ maxDepth: 2 })), { maxLength: 4 }), (muts) => {
        const d = plug();
        const nodes: Array<[Json, string]> = [];
        const walk = (o: unknown) => {
          if (o && typeof o === 'object') for (const k of Object.keys(o)) { nodes.push([o as Json, k]); walk((o as Json)[k]); }
        };
        walk(d);
        for (const [i, v] of muts) { const [o, k] = nodes[i % nodes.length]; o[k] = v; }
        const r = importMud(d);
        if (!r.ok) expect(r.reason).toMatch(/^\//);
      }),
      { numRuns: 300 },
    );
  });
});
