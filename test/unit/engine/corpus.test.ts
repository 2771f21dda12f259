// The shared third-party corpus (../shared/data, beside the repo): every
// capture parses, packet counts equal capinfos, the two deliberately
// malformed pcapng files fail with the offset; and on a sample, flows and DNS
// answers agree with tshark. Skips when the corpus or the tools are absent.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyzeFiles } from '../../../src/adapters/capture/analyze-files.js';
import type { Detector, FlowCloseEvent, DnsEvent } from '../../../src/core/engine/events.js';

const DATA = fileURLToPath(new URL('../../../../shared/data/', import.meta.url));
const haveData = existsSync(join(DATA, 'ground-truth.json'));
const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const haveCapinfos = has('capinfos');
const haveTshark = has('tshark');
if (!haveData) console.warn(`[corpus] skipped: ${DATA} is absent`);

function walk(d: string, out: string[] = []): string[] {
  for (const n of readdirSync(d).sort()) {
    const p = join(d, n);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (/\.(pcap|pcapng|cap)(\.gz)?$/.test(n)) out.push(p);
  }
  return out;
}

describe.skipIf(!haveData)('shared corpus', () => {
  const files = haveData ? walk(DATA) : [];
  const truth = haveData ? (JSON.parse(readFileSync(join(DATA, 'ground-truth.json'), 'utf8')) as Record<string, { packets?: string }>) : {};

  it('every capture parses, with capinfos\' packet count; malformed ones name the offset', async () => {
    expect(files.length).toBeGreaterThan(150);
    let checked = 0;
    for (const f of files) {
      const rel = relative(DATA, f);
      const warnings: string[] = [];
      const { result, failures } = await analyzeFiles([f], { onWarning: (m) => warnings.push(m) });
      expect(warnings, rel).toEqual([]);
      if (/_test901\.pcapng$/.test(f)) {
        // pcapng-test-generator's deliberately broken file: a second section of version 2.0
        expect(failures, rel).toHaveLength(1);
        expect(failures[0].message).toMatch(/unsupported pcapng section header version 2\.0 at byte offset 480/);
        expect(failures[0].details?.offset).toBe(480);
        expect(result.summary.packets).toBe(1);
        continue;
      }
      expect(failures.map((x) => x.message), rel).toEqual([]);
      let expected: number | undefined;
      if (haveCapinfos) {
        const r = spawnSync('capinfos', ['-c', '-M', f], { encoding: 'utf8' });
        expected = Number(/Number of packets:\s+(\d+)/.exec(r.stdout)?.[1]);
      } else if (truth[rel]?.packets) expected = Number(truth[rel].packets);
      if (expected !== undefined && Number.isFinite(expected)) {
        expect(result.summary.packets, rel).toBe(expected);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(150);
  }, 300_000);

  const SAMPLE = [
    'pcap/tls/ndpi/443-curl.pcap',
    'pcap/tls/ndpi/selfsigned.pcap',
    'pcap/dns/ndpi/dns.pcap',
    'pcap/scan-telnet-malware/slips/test7-malicious.pcap',
    'pcap/iot-devices/iot-sentinel/Aria/Setup-A-1-STA.pcap',
    'pcap/iot-devices/iot-sentinel/EdimaxCam1/Setup-A-1-STA.pcap',
    'pcap/iot-devices/iot-sentinel/D-LinkCam/Setup-A-1-STA.pcap',
    'pcap/discovery/ndpi/android.pcap',
    'dns-tunnel/dmachard-datasets-malicious-dns/iodine.pcap',
  ].filter((f) => haveData && existsSync(join(DATA, f)));

  it.skipIf(!haveTshark || SAMPLE.length === 0)('TCP/UDP conversations and DNS answers agree with tshark', async () => {
    for (const rel of SAMPLE) {
      const f = join(DATA, rel);
      const flows: FlowCloseEvent[] = [];
      const dns: DnsEvent[] = [];
      const rec: Detector = { name: 'rec', wants: ['flow-close', 'dns'], onEvent: (e) => void (e.kind === 'flow-close' ? flows.push(e) : e.kind === 'dns' && dns.push(e)), finish: () => [] };
      await analyzeFiles([f], { detectors: [rec] });

      // conversations: unordered endpoint pair per protocol -> total frames
      const mine = new Map<string, number>();
      for (const e of flows) {
        if (e.flow.proto !== 'tcp' && e.flow.proto !== 'udp') continue;
        const k = `${e.flow.proto} ${[`${e.flow.client.ip}:${e.flow.client.port}`, `${e.flow.server.ip}:${e.flow.server.port}`].sort().join(' ')}`;
        mine.set(k, (mine.get(k) ?? 0) + e.flow.packetsToServer + e.flow.packetsToClient);
      }
      const theirs = new Map<string, number>();
      const out = spawnSync('tshark', ['-r', f, '-q', '-z', 'conv,tcp', '-z', 'conv,udp', '-o', 'ip.defragment:FALSE'], { encoding: 'utf8', maxBuffer: 1 << 28 }).stdout;
      let proto = '';
      for (const line of out.split('\n')) {
        if (/^TCP Conversations/.test(line)) proto = 'tcp';
        if (/^UDP Conversations/.test(line)) proto = 'udp';
        const t = line.trim().split(/\s+/);
        if (t[1] !== '<->') continue;
        const k = `${proto} ${[t[0], t[2]].sort().join(' ')}`;
        theirs.set(k, (theirs.get(k) ?? 0) + Number(t[9]));
      }
      expect(Object.fromEntries(mine), rel).toEqual(Object.fromEntries(theirs));

      // DNS: (question name, A address) pairs in responses; tshark's dns.a spans all sections
      const mineDns = new Set<string>();
      for (const e of dns) if (e.response) for (const a of [...e.answers, ...e.additional]) if (a.type === 1) mineDns.add(`${e.questions[0]?.name.toLowerCase()} ${a.data}`);
      const theirDns = new Set<string>();
      const t2 = spawnSync('tshark', ['-r', f, '-Y', 'dns.flags.response == 1 && dns.a && !mdns && udp.port == 53', '-T', 'fields', '-e', 'dns.qry.name', '-e', 'dns.a'], { encoding: 'utf8', maxBuffer: 1 << 28 }).stdout;
      for (const line of t2.split('\n').filter(Boolean)) {
        const [q, as] = line.split('\t');
        for (const a of as.split(',')) theirDns.add(`${q.split(',')[0].toLowerCase()} ${a}`);
      }
      expect([...mineDns].sort(), rel).toEqual([...theirDns].sort());
    }
  }, 300_000);
});
