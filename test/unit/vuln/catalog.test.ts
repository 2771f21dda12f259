import { describe, expect, it } from 'vitest';
import { compileKevCatalog, matchDevice } from '../../../src/core/vuln/index.js';
import { isIotguardError } from '../../../src/core/model/errors.js';
import { catalog, dev } from './helpers.js';

const minimalEntry = {
  id: 'CVE-2099-0001',
  cve: 'CVE-2099-0001',
  name: 'Example camera web server command injection',
  vendor: 'Examplecam',
  product: 'EC-100 camera',
  deviceTypes: ['camera'],
  severity: 'critical',
  impact: 'Anyone on the network runs commands as root.',
  botnets: [],
  affected: { text: 'EC-100 firmware before 2.0', ranges: [{ fixed: '2.0' }] },
  fix: { available: true, version: '2.0' },
  signatures: [
    {
      name: 'Examplecam web server',
      all: [{ field: 'httpServer', pattern: '^ExampleCam-httpd' }],
      version: { field: 'httpServer', pattern: 'ExampleCam-httpd/(?<v>[0-9.]+)' },
    },
  ],
  sources: ['https://example.org/advisory/ec-100'],
};

function rejects(mutate: (e: Record<string, unknown>) => void): string {
  const entry = structuredClone(minimalEntry) as Record<string, unknown>;
  mutate(entry);
  try {
    compileKevCatalog({ version: 1, entries: [entry] }, 'test.json');
  } catch (e) {
    expect(isIotguardError(e)).toBe(true);
    expect((e as { code: string }).code).toBe('IOTGUARD_ERR_DATA_INVALID');
    return (e as Error).message;
  }
  throw new Error('catalog was accepted');
}

describe('the shipped catalog (data/kev/iot-kev.json)', () => {
  it('loads, validates and holds at least 40 known-exploited IoT vulnerabilities, each with a source', () => {
    expect(catalog.entries.length).toBeGreaterThanOrEqual(40);
    for (const e of catalog.entries) {
      expect(e.sources.length).toBeGreaterThan(0);
      if (e.cve) expect(e.sources.some((s) => s.includes(e.cve!))).toBe(true);
    }
    expect(new Set(catalog.entries.map((e) => e.id)).size).toBe(catalog.entries.length);
  });

  it('covers the families IoT_reaper, Satori, Mozi and Mirai variants used', () => {
    const have = new Set(catalog.entries.map((e) => e.id));
    for (const id of [
      'CVE-2014-8361', // Realtek SDK miniigd
      'CVE-2017-17215', // Huawei HG532
      'CVE-2016-10372', // Eir D1000 TR-064 on 7547
      'CVE-2017-7921', // Hikvision
      'CVE-2021-36260',
      'CVE-2021-33044', // Dahua
      'CVE-2021-33045',
      'CVE-2017-8225', // GoAhead "Wireless IP Camera (P2P)"
      'CVE-2016-20016', // MVPower / JAWS
      'CVE-2024-7029', // AVTECH
      'CVE-2016-6277', // Netgear R7000 cgi-bin
      'CVE-2024-12847', // Netgear DGN1000 setup.cgi
      'CVE-2015-2051', // D-Link HNAP
      'CVE-2025-34037', // Linksys E-series tmUnblock.cgi
      'CVE-2018-10561', // GPON
      'CVE-2020-8515', // DrayTek
      'CVE-2020-10987', // Tenda
      'CVE-2023-1389', // TP-Link
      'CVE-2020-9054', // Zyxel
    ]) {
      expect(have.has(id), id).toBe(true);
    }
  });

  it('no safe-check path carries an exploit payload', () => {
    for (const e of catalog.entries) {
      if (!e.safeCheck) continue;
      expect(e.safeCheck.path).not.toMatch(/[;`$|&<>]|\.\.|\?/);
    }
  });
});

describe('validation on load', () => {
  it('accepts a well-formed new entry, and matching it needs no code', () => {
    const cat = compileKevCatalog({ version: 1, entries: [minimalEntry] }, 'test.json');
    const ev = dev({ openPorts: [{ port: 80, proto: 'tcp', http: { server: 'ExampleCam-httpd/1.4' } }] });
    const r = matchDevice(ev, cat);
    expect(r.matches.map((m) => [m.entry.id, m.confidence, m.version])).toEqual([['CVE-2099-0001', 'exact-version', '1.4']]);
    const fixed = dev({ openPorts: [{ port: 80, proto: 'tcp', http: { server: 'ExampleCam-httpd/2.1' } }] });
    expect(matchDevice(fixed, cat).matches).toEqual([]);
    expect(matchDevice(fixed, cat).cleared.map((c) => c.version)).toEqual(['2.1']);
  });

  it('names the bad field and entry', () => {
    expect(rejects((e) => (e.sources = []))).toMatch(/entries\.0\.sources.*CVE-2099-0001/);
    expect(rejects((e) => (e.cve = 'CVE-99-1'))).toMatch(/entries\.0\.cve/);
    expect(rejects((e) => (e.severity = 'urgent'))).toMatch(/severity/);
    expect(rejects((e) => (e.extra = 1))).toMatch(/extra|unrecognized/i);
  });

  it('rejects a regular expression that does not compile', () => {
    expect(
      rejects((e) => {
        (e.signatures as { all: { pattern: string }[] }[])[0].all[0].pattern = '([a-z';
      }),
    ).toMatch(/bad regular expression/);
  });

  it('rejects a signature made only of an open port (a port is not a product)', () => {
    expect(
      rejects((e) => {
        e.signatures = [{ name: 'port only', all: [{ field: 'openPort', ports: [37215] }] }];
      }),
    ).toMatch(/names the product/);
  });

  it('rejects a version extractor without the (?<v>...) group', () => {
    expect(
      rejects((e) => {
        (e.signatures as { version: { pattern: string } }[])[0].version.pattern = 'ExampleCam-httpd/([0-9.]+)';
      }),
    ).toMatch(/named group/);
  });

  it('rejects a safe check that carries shell metacharacters', () => {
    expect(rejects((e) => (e.safeCheck = { path: '/cgi-bin/;cat$IFS/etc/passwd', why: 'this would be an exploit' }))).toMatch(/metacharacters/);
    expect(rejects((e) => (e.safeCheck = { path: '/shell%3Bid', why: 'encoded metacharacters too' }))).toMatch(/metacharacters/);
  });

  it('rejects a fixed version without a fix, and a fix for an end-of-life product', () => {
    expect(rejects((e) => (e.fix = { version: '2.0' }))).toMatch(/implies fix.available/);
    expect(rejects((e) => (e.fix = { available: true, endOfLife: true }))).toMatch(/end-of-life/);
  });

  it('rejects duplicate ids and a CVE entry whose id differs from its CVE', () => {
    expect(() => compileKevCatalog({ version: 1, entries: [minimalEntry, minimalEntry] })).toThrow(/duplicate id/);
    expect(rejects((e) => (e.id = 'EXAMPLE-1'))).toMatch(/uses it as its id/);
  });

  it('rejects a non-object and a wrong version', () => {
    expect(() => compileKevCatalog(null)).toThrow(/IOTGUARD|expected|object/i);
    expect(() => compileKevCatalog({ version: 2, entries: [minimalEntry] })).toThrow(/version/);
  });
});
