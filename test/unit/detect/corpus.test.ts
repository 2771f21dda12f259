// The detectors over the whole public corpus in ../shared/data (skipped when
// it is absent): every labelled verdict in ground-truth.json checked, a table
// of expected vs got printed, and every other finding the run produces listed
// and justified below — an unexpected finding fails the test.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyzeFiles } from '../../../src/adapters/capture/analyze-files.js';
import { defaultDetectors } from '../../../src/core/detect/index.js';
import type { Finding } from '../../../src/core/engine/events.js';

const repo = fileURLToPath(new URL('../../..', import.meta.url));
const DATA = join(repo, '../shared/data');
const present = existsSync(join(DATA, 'ground-truth.json'));
if (!present) process.stderr.write(`[detect corpus] skipping: no shared test data at ${DATA}\n`);

interface Truth {
  expected?: Record<string, unknown>;
  label_summary?: string;
}

function walk(d: string, out: string[] = []): string[] {
  for (const f of readdirSync(d)) {
    const p = join(d, f);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (/\.(pcap|pcapng)(\.gz)?$/.test(f)) out.push(p);
  }
  return out;
}

const results = new Map<string, Finding[]>();
let truth: Record<string, Truth> = {};

const of = (file: string, id?: string): Finding[] => (results.get(file) ?? []).filter((f) => id === undefined || f.id === id);
const isSentinel = (f: string) => f.startsWith('pcap/iot-devices/iot-sentinel/');

/**
 * Findings outside the labelled expectations, each with why it is right.
 * Key: file (or a prefix ending in '/'), id. Anything produced that is not
 * here and not asserted by a label fails the test.
 */
const JUSTIFIED: Array<{ file: string; id: Finding['id']; why: string; device?: string }> = [
  { file: 'pcap/iot-devices/iot-sentinel/', id: 'tls-weak', why: 'IoT Sentinel devices (2016 firmware) negotiate TLS 1.0 (ServerHello version 0x0301, checked with tshark: e.g. D-LinkCam → 52.8.178.58 TLS 1.0 TLS_RSA_WITH_AES_256_CBC_SHA); WeMo Insight also gets an expired certificate and a 1024-bit key on ticks2.bugsense.com' },
  { file: 'pcap/iot-devices/iot-sentinel/HueBridge/', id: 'remote-access', why: 'the Hue bridge polls bridge.meethue.com over HTTP every ~2 s (its cloud remote control)' },
  { file: 'pcap/iot-devices/iot-sentinel/WeMoLink/', id: 'remote-access', why: 'the WeMo Link polls api.xbcs.net:8443 (Belkin cloud) every few seconds' },
  { file: 'pcap/iot-devices/ss-for-iot-MUD/G06-tapo-p115.pcap', id: 'remote-access', why: 'the Tapo plug holds a TLS session to its cloud gateway for the whole 10 min capture' },
  { file: 'pcap/iot-devices/ndpi/xiaomi.pcap', id: 'remote-access', why: 'the Xiaomi device keeps XMPP-style sessions to port 5222 open for minutes (MiHome cloud push)' },
  { file: 'pcap/iot-devices/ndpi/coap_mqtt.pcap', id: 'insecure-service', why: 'the MQTT broker on 192.168.56.101 accepts a CONNECT without user name or password (CONNACK 0)' },
  { file: 'pcap/iot-devices/ndpi/mqtt.pcap', id: 'plaintext-credentials', why: 'MQTT CONNECTs with user name and password on port 1883 (an Azure IoT hub SAS token and a device login)' },
  { file: 'pcap/scan-telnet-malware/ndpi/telnet.pcap', id: 'insecure-service', why: 'a telnet login on 192.168.0.1 succeeds (nDPI: Unsafe Protocol)' },
  { file: 'pcap/scan-telnet-malware/zeek/ftp_bruteforce.pcap', id: 'plaintext-credentials', why: 'each FTP guess sends USER/PASS in clear' },
  { file: 'pcap/scan-telnet-malware/ndpi/malware.pcap', id: 'tls-weak', why: 'nDPI labels this flow "TLS Cert Mismatch": www.internetbadguys.com gets a certificate for another name' },
  { file: 'pcap/scan-telnet-malware/slips/test12-icmp-portscan.pcap', id: 'lateral-scan', why: 'label "scan (ICMP)": 192.168.1.109 pings 17 LAN addresses' },
  { file: 'pcap/scan-telnet-malware/zeek/nmap-vsn.pcap', id: 'lateral-scan', why: 'label "scan": the nmap host ARP-sweeps the /24 before probing' },
  { file: 'pcap/tls/suricata-verify/ja4-tls.pcap', id: 'tls-weak', why: 'the test server on 192.168.56.101 presents a self-signed certificate (rated low: a LAN server)' },
  { file: 'pcap/http-download/ndpi/exe_download.pcap', id: 'plaintext-firmware', why: 'label binary_over_http: a PE executable fetched over plain HTTP (nDPI: Binary App Transfer)' },
  { file: 'pcap/http-download/zeek/http_iso-download.pcap', id: 'plaintext-firmware', why: 'label binary_over_http: a 358 KB ISO image fetched over plain HTTP' },
  { file: 'pcap/dns/ndpi/dns_doh.pcap', id: 'dns-bypass', why: 'label BENIGN DoH: DNS over HTTPS to mozilla.cloudflare-dns.com is a bypass of the LAN resolver (not a tunnel)' },
];

const TUNNEL_FILES = ['dns2tcp', 'dnscat2', 'dnsextrator', 'iodine', 'sods'].map((n) => `dns-tunnel/dmachard-datasets-malicious-dns/${n}.pcap`);

describe.skipIf(!present)('detectors over the public corpus', () => {
  beforeAll(async () => {
    truth = JSON.parse(readFileSync(join(DATA, 'ground-truth.json'), 'utf8')) as Record<string, Truth>;
    // pcapng conformance files test the readers, not the detectors
    const files = walk(DATA)
      .map((p) => relative(DATA, p))
      .filter((f) => !f.startsWith('pcap/format-conformance/'))
      .sort();
    for (const f of files) {
      const { result } = await analyzeFiles([join(DATA, f)], { detectors: defaultDetectors() });
      results.set(f, result.findings);
    }
  }, 180_000);

  it('prints expected vs got for every labelled capture', () => {
    const rows: string[][] = [];
    const exp = (f: string): string => {
      const e = truth[f]?.expected ?? {};
      const parts: string[] = [];
      if (e.dns_tunnel) parts.push(`dns-tunnel ${String(e.tunnel_domain)}`);
      if (e.dns_tunnel === false) parts.push('no dns-tunnel');
      if (e.plaintext_firmware_http === true) parts.push('plaintext-firmware');
      if (e.cleartext_http_credentials || e.cleartext_mqtt_credentials) parts.push('plaintext-credentials');
      if (e.telnet_login) parts.push('plaintext-credentials (telnet)');
      if (e.ftp_bruteforce) parts.push('login-brute-force');
      if (e.arp_scan || e.vertical_scan) parts.push('lateral-scan');
      if (e.port_mapping_request) parts.push('upnp-port-mapping-request');
      if (e.binary_over_http) parts.push('binary over HTTP');
      if (f.endsWith('test7-malicious.pcap')) parts.push('lateral-scan 23/2323 from 192.168.2.16 (README)');
      if (f.endsWith('selfsigned.pcap')) parts.push('tls-weak self-signed+expired');
      if (f.endsWith('ssl-cert-name-mismatch.pcap')) parts.push('tls-weak name-mismatch');
      return parts.join('; ');
    };
    for (const [f, fs] of results) {
      const e = exp(f);
      const got = [...new Set(fs.map((x) => (x.id === 'dns-tunnel' ? `dns-tunnel ${String(x.evidence.domain)}` : x.id)))].join(', ');
      if (e === '' && got === '') continue;
      if (isSentinel(f) && e === '' && fs.every((x) => x.id === 'tls-weak')) continue;
      rows.push([f, e || '-', got || '-']);
    }
    const w0 = Math.max(...rows.map((r) => r[0].length));
    const w1 = Math.max(...rows.map((r) => r[1].length));
    const lines = rows.map((r) => `${r[0].padEnd(w0)}  ${r[1].padEnd(w1)}  ${r[2]}`);
    process.stdout.write(`\n${'capture'.padEnd(w0)}  ${'expected'.padEnd(w1)}  got\n${lines.join('\n')}\n`);
    let total = 0;
    const byId = new Map<string, number>();
    for (const fs of results.values()) for (const x of fs) {
      total++;
      byId.set(x.id, (byId.get(x.id) ?? 0) + 1);
    }
    process.stdout.write(`\n${results.size} captures, ${total} findings: ${[...byId].map(([k, v]) => `${k} ${v}`).join(', ')}\n`);
    expect(rows.length).toBeGreaterThan(20);
  });

  it('names the domain of every DNS tunnel capture', () => {
    for (const f of TUNNEL_FILES) {
      const e = truth[f].expected!;
      const t = of(f, 'dns-tunnel');
      expect(t, f).toHaveLength(1);
      const domain = t[0].evidence.domain as string;
      // "base64.hsc.fr (hsc.fr)": the data queries of DNSExfiltrator ride hsc.fr itself
      const accepted = String(e.tunnel_domain).split(/[ ()]+/).filter(Boolean);
      expect(accepted, `${f}: got ${domain}`).toContain(domain);
      expect(String(t[0].evidence.tool).toLowerCase()).toBe(String(e.dns_tunnel).toLowerCase());
      expect(t[0].device.ip).toMatch(/^192\.168\.1\./);
    }
  });

  it('finds no tunnel in the benign DNS, DoH and name-trap captures', () => {
    const benign = Object.entries(truth).filter(([, t]) => t.expected?.dns_tunnel === false).map(([f]) => f);
    expect(benign.length).toBeGreaterThanOrEqual(4);
    for (const f of [...benign, 'pcap/dns/ndpi/dns-invalid-chars.pcap']) expect(of(f, 'dns-tunnel'), f).toEqual([]);
  });

  it('sees the 23/2323 horizontal scan on the right device, and the other labelled scans', () => {
    // README: "Raspberry Pi 192.168.2.16 (b8:27:eb:c7:e9:c9) SYN-scans 82 distinct IPs on TCP 23 (255 SYNs) and 2323 (128 SYNs)"
    const s = of('pcap/scan-telnet-malware/slips/test7-malicious.pcap', 'lateral-scan');
    expect(s).toHaveLength(1);
    expect(s[0].device).toMatchObject({ ip: '192.168.2.16', mac: 'b8:27:eb:c7:e9:c9' });
    expect(s[0].evidence.ports).toEqual(expect.arrayContaining(['23/tcp', '2323/tcp']));
    const v = of('pcap/scan-telnet-malware/ndpi/synscan.pcap', 'lateral-scan');
    expect(v[0]?.device.ip).toBe(truth['pcap/scan-telnet-malware/ndpi/synscan.pcap'].expected!.scanner_ip);
    expect(v[0]?.evidence.kind).toBe('vertical');
    expect(of('pcap/scan-telnet-malware/slips/test8-malicious.pcap', 'lateral-scan')[0]?.evidence.kind).toBe('arp');
  });

  it('reports plaintext firmware on exactly the D-Link IoT Sentinel setups, on the labelled device', () => {
    let positives = 0;
    for (const [f, t] of Object.entries(truth)) {
      if (!isSentinel(f)) continue;
      const e = t.expected!;
      const fw = of(f, 'plaintext-firmware');
      if (e.plaintext_firmware_http === true) {
        positives++;
        expect(fw, f).toHaveLength(1);
        expect(fw[0].device.mac).toBe(e.device_mac);
        const urls = (fw[0].evidence.requests as Array<{ url: string }>).map((r) => r.url);
        // every firmware URL tshark saw is in the evidence
        for (const req of e.firmware_http_requests as string[]) expect(urls.some((u) => req.includes(u.slice(0, 60)))).toBe(true);
      } else {
        expect(fw, f).toEqual([]);
      }
    }
    expect(positives).toBe(15);
  });

  it('reports cleartext credentials (HTTP Basic, MQTT, telnet) and the FTP brute force', () => {
    for (const [f, t] of Object.entries(truth)) {
      const e = t.expected ?? {};
      if (e.cleartext_http_credentials) expect(of(f, 'plaintext-credentials').map((x) => x.evidence.protocol), f).toContain('http-basic');
      if (e.cleartext_mqtt_credentials) {
        const c = of(f, 'plaintext-credentials');
        expect(c.map((x) => x.evidence.protocol), f).toContain('mqtt');
        expect(JSON.stringify(c)).not.toContain(`"${String(e.mqtt_password)}"`);
      }
      if (e.telnet_login) {
        const c = of(f, 'plaintext-credentials').find((x) => x.evidence.protocol === 'telnet');
        expect(c?.evidence.usernames).toEqual([e.telnet_username]);
      }
      if (e.ftp_bruteforce) expect(of(f, 'login-brute-force')[0]?.evidence.service, f).toBe('ftp');
      if (e.port_mapping_request) expect(of(f, 'upnp-port-mapping-request').length, f).toBeGreaterThan(0);
    }
  });

  it('says why TLS is weak in the self-signed, expired and name-mismatch captures', () => {
    const ss = of('pcap/tls/ndpi/selfsigned.pcap', 'tls-weak');
    expect(ss).toHaveLength(1);
    expect(ss[0].evidence.reasons).toEqual(expect.arrayContaining(['self-signed', 'expired']));
    const mm = of('pcap/tls/ndpi/ssl-cert-name-mismatch.pcap', 'tls-weak');
    expect(mm).toHaveLength(1);
    expect(mm[0].evidence.reasons).toEqual(['name-mismatch']);
    expect(mm[0].evidence.sni).toBe('wrong.host.badssl.com');
  });

  it('raises no dns-tunnel, lateral-scan or beaconing on any IoT Sentinel capture', () => {
    for (const [f, fs] of results) {
      if (!isSentinel(f)) continue;
      expect(fs.filter((x) => ['dns-tunnel', 'lateral-scan', 'beaconing'].includes(x.id)), f).toEqual([]);
      // the TLS findings there are about versions and certificates tshark confirms, never a guess
      for (const x of fs.filter((y) => y.id === 'tls-weak')) {
        for (const r of x.evidence.reasons as string[]) expect(['obsolete-version', 'expired', 'weak-key'], f).toContain(r);
      }
    }
  });

  it('produces nothing else than the labelled and the justified findings', () => {
    const asserted = (f: string, x: Finding): boolean => {
      const e = truth[f]?.expected ?? {};
      if (x.id === 'dns-tunnel') return TUNNEL_FILES.includes(f);
      if (x.id === 'plaintext-firmware') return e.plaintext_firmware_http === true;
      if (x.id === 'plaintext-credentials') return Boolean(e.cleartext_http_credentials || e.cleartext_mqtt_credentials || e.telnet_login);
      if (x.id === 'login-brute-force') return Boolean(e.ftp_bruteforce);
      if (x.id === 'lateral-scan') return Boolean(e.arp_scan || e.vertical_scan) || f.endsWith('test7-malicious.pcap');
      if (x.id === 'upnp-port-mapping-request') return Boolean(e.port_mapping_request);
      if (x.id === 'tls-weak') return f.endsWith('selfsigned.pcap') || f.endsWith('ssl-cert-name-mismatch.pcap');
      return false;
    };
    const unexplained: string[] = [];
    const listing: string[] = [];
    for (const [f, fs] of results) {
      for (const x of fs) {
        const j = JUSTIFIED.find((k) => (k.file.endsWith('/') ? f.startsWith(k.file) : f === k.file) && k.id === x.id);
        const ok = asserted(f, x) || j !== undefined;
        listing.push(`${ok ? ' ' : '!'} ${f}  ${x.severity} ${x.id}  ${x.title}${j ? `\n      justified: ${j.why}` : ''}`);
        if (!ok) unexplained.push(`${f}: ${x.id} ${x.title}`);
      }
    }
    process.stdout.write(`\nevery finding of the corpus run:\n${listing.join('\n')}\n`);
    expect(unexplained).toEqual([]);
  });
});
