// The lab is real: real daemons answer from the pi as they would on a home LAN.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { inNsAsync, labCli, labCliAsync } from './lab-harness.js';
import { LAB_MAPPINGS } from '../../src/lab/lab.js';
import { LAB_NODES, LAB_SECRETS } from '../../src/lab/topology.js';

const ready = inject('labReady');
const telnetTool = new URL('./tools/telnet-login.mjs', import.meta.url).pathname;

describe.skipIf(!ready)('lab (real daemons in namespaces)', () => {
  it('status --json lists every node with netns, role, ip and mac (CONTRACT.md)', async () => {
    const r = labCli(['status', '--json']);
    expect(r.status).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.up).toBe(true);
    expect(s.lan).toBe('192.168.77.0/24');
    expect(s.wanIp).toBe('5.45.0.2');
    expect(s.nodes.map((n: { name: string }) => n.name).sort()).toEqual(LAB_NODES.map((n) => n.name).sort());
    for (const n of s.nodes) {
      expect(n).toMatchObject({ netns: expect.stringMatching(/^ig-/), role: expect.any(String), ip: expect.any(String), mac: expect.stringMatching(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/) });
      // the MAC the status promises is the one on the wire
      if (n.role !== 'router' && n.role !== 'internet') {
        const link = (await inNsAsync(n.name, ['ip', '-j', 'link', 'show', 'eth0']));
        expect(JSON.parse(link.stdout)[0].address).toBe(n.mac);
      }
    }
    expect(s.daemons.every((d: { alive: boolean }) => d.alive)).toBe(true);
  });

  it('upnpc -l from the pi lists the mappings the devices made', async () => {
    const r = (await inNsAsync('pi', ['upnpc', '-l']));
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('ExternalIPAddress = 5.45.0.2');
    const rows = [...r.stdout.matchAll(/^\s*\d+\s+(TCP|UDP)\s+(\d+)->([\d.]+):(\d+)\s+'([^']*)'/gm)].map((m) => ({ protocol: m[1], externalPort: Number(m[2]), ip: m[3], internalPort: Number(m[4]), description: m[5] }));
    for (const m of LAB_MAPPINGS) {
      const ip = LAB_NODES.find((n) => n.name === m.node)!.ip;
      expect(rows).toContainEqual({ protocol: m.protocol, externalPort: m.externalPort, ip, internalPort: m.internalPort, description: m.description });
    }
  });

  it('the camera telnet takes its Mirai default password (real telnetd + PAM login) and refuses a wrong one', async () => {
    const ok = JSON.parse((await inNsAsync('pi', [process.execPath, telnetTool, '192.168.77.20', '23', 'root', LAB_SECRETS.camTelnet.password])).stdout);
    expect(ok.result).toBe('shell');
    expect(ok.transcript).toContain('BusyBox');
    const bad = JSON.parse((await inNsAsync('pi', [process.execPath, telnetTool, '192.168.77.20', '23', 'root', 'not-the-password'])).stdout);
    expect(bad.result).toBe('incorrect');
    // the strong-password device does not take the default
    const nas = JSON.parse((await inNsAsync('pi', [process.execPath, telnetTool, '192.168.77.30', '23', 'root', LAB_SECRETS.camTelnet.password])).stdout);
    expect(nas.result).toBe('incorrect');
  });

  it('the camera admin page wants Basic auth and takes its default', async () => {
    const denied = (await inNsAsync('pi', ['curl', '-s', '-o', '/dev/null', '-w', '%{http_code} %header{www-authenticate}', 'http://192.168.77.20/']));
    expect(denied.stdout).toMatch(/^401 Basic realm="IPCAM"/);
    const ok = (await inNsAsync('pi', ['curl', '-s', '-u', `${LAB_SECRETS.camHttp.username}:${LAB_SECRETS.camHttp.password}`, 'http://192.168.77.20/']));
    expect(ok.stdout).toContain('IPCAM Web Admin');
  });

  it('the firmware image is reachable over plain HTTP by name and is a uImage', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iotg-fw-'));
    const out = join(dir, 'fw.bin');
    const r = (await inNsAsync('plug', ['curl', '-s', '-f', '-o', out, '-w', '%{http_code} %{remote_ip}', 'http://fw.plugco.example/firmware/plug-v1.2.3.bin']));
    expect(r.stdout).toBe('200 5.45.1.20');
    const img = readFileSync(out);
    expect(img.readUInt32BE(0)).toBe(0x27051956);
    expect(img.length).toBe(256 * 1024);
  });

  it('the cloud answers HTTPS with a certificate from the lab CA only', async () => {
    const ca = '/run/iotguard-lab/ig/ca/ca.crt';
    const ok = (await inNsAsync('plug', ['curl', '-s', '-f', '--cacert', ca, 'https://cloud.plugco.example/api/status']));
    expect(ok.stdout).toContain('"ok":true');
    const strict = (await inNsAsync('plug', ['curl', '-s', '-f', '--cacert', '/etc/ssl/certs/ca-certificates.crt', 'https://cloud.plugco.example/api/status']));
    expect(strict.status).not.toBe(0); // untrusted without the lab CA
  });

  it('the MQTT broker wants a password', async () => {
    const good = (await inNsAsync('plug', ['mosquitto_pub', '-h', 'mqtt.plugco.example', '-u', LAB_SECRETS.mqttPlug.username, '-P', LAB_SECRETS.mqttPlug.password, '-t', 't', '-m', 'x']));
    expect(good.status).toBe(0);
    const anon = (await inNsAsync('plug', ['mosquitto_pub', '-h', 'mqtt.plugco.example', '-t', 't', '-m', 'x']));
    expect(anon.status).not.toBe(0);
  });

  it('the iodine tunnel carries data through DNS only', async () => {
    const route = (await inNsAsync('infected', ['ip', 'route', 'get', '10.99.0.1']));
    expect(route.stdout).toMatch(/dev dns0/);
    const r = (await inNsAsync('infected', ['curl', '-s', '-f', '--max-time', '30', 'http://10.99.0.1:8080/secret.txt']));
    expect(r.stdout).toBe('data that crossed the DNS tunnel\n');
    // and the only way there is DNS: the router has no route to the tunnel network
    expect((await inNsAsync('router', ['ip', 'route', 'get', '10.99.0.1'])).stdout).not.toMatch(/dns0/);
  });

  it('the SSDP device and the mDNS device announce themselves', async () => {
    const desc = (await inNsAsync('pi', ['curl', '-s', 'http://192.168.77.30:8200/rootDesc.xml']));
    expect(desc.stdout).toContain('<modelName>DiskStation Media Server</modelName>');
    const avahi = readFileSync('/run/iotguard-lab/ig/logs/speaker-avahi.log', 'utf8');
    expect(avahi).toMatch(/Service "Living Room" .* successfully established/);
  });

  it('the access point locks out after repeated failures', async () => {
    // eight connections at once: past the meter's burst of six the device resets them
    const results = await Promise.all(
      Array.from({ length: 8 }, async (_, i) => JSON.parse((await inNsAsync('pi', [process.execPath, telnetTool, '192.168.77.80', '23', 'root', `wrong${i}`])).stdout).result as string),
    );
    expect(results).not.toContain('shell');
    expect(results.filter((r) => r === 'closed').length).toBeGreaterThanOrEqual(2);
    // and while locked out even the right password does not get in (pam_faillock)
    const right = JSON.parse((await inNsAsync('pi', [process.execPath, telnetTool, '192.168.77.80', '23', 'root', LAB_SECRETS.strong])).stdout);
    expect(right.result).not.toBe('shell');
  });

  it('no lab node has a route out of the lab', async () => {
    for (const n of LAB_NODES) {
      const routes = (await inNsAsync(n.name, ['ip', '-j', 'route'])).stdout;
      for (const r of JSON.parse(routes) as Array<{ dst: string; dev: string }>) {
        expect(['eth0', 'br-lan', 'wan0', 'isp0', 'dns0', 'lo'], `${n.name}: ${JSON.stringify(r)}`).toContain(r.dev);
      }
    }
    // the internet namespace is a dead end: no default route
    expect(JSON.parse((await inNsAsync('inet', ['ip', '-j', 'route'])).stdout).some((r: { dst: string }) => r.dst === 'default')).toBe(false);
  });

  it('lab traffic plays every step and lab capture records it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iotg-cap-'));
    const file = join(dir, 'lab.pcap');
    const r = await labCliAsync(['capture', '--traffic', '--seconds', '20', '--write', file, '--json'], { timeout: 300_000 });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.traffic.actions.filter((a: { ok: boolean }) => !a.ok)).toEqual([]);
    expect(out.packets).toBeGreaterThan(200);
    expect(existsSync(file)).toBe(true);
    const tshark = spawnSync('tshark', ['-r', file, '-Y', 'http.request', '-T', 'fields', '-e', 'ip.src', '-e', 'http.host', '-e', 'http.request.uri'], { encoding: 'utf8' });
    if (tshark.status === 0) {
      expect(tshark.stdout).toContain('192.168.77.60\tfw.plugco.example\t/firmware/plug-v1.2.3.bin');
      const dns = spawnSync('tshark', ['-r', file, '-Y', 'dns.qry.name contains "t.c2tunnel.example"', '-T', 'fields', '-e', 'ip.src'], { encoding: 'utf8' });
      expect(dns.stdout.split('\n').filter((l) => l === '192.168.77.70').length).toBeGreaterThan(20);
    }
  });
});
