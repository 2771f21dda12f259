// The simulated home network: bring it up, tear it down, tell its state.
// Namespaces `<lab>-<node>` joined by veths (no link ever lives in the host's
// namespace, so the lab has no route to the real network), real daemons from
// Debian packages, every PID recorded in a state file and ended by PID.
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, readdirSync, cpSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCodes, IotguardError } from '../core/model/errors.js';
import {
  avahiConf,
  avahiService,
  DEFAULT_UPNP,
  FAKE_SHELL,
  internetDnsmasqConf,
  minidlnaConf,
  miniupnpdConf,
  mosquittoConf,
  routerDnsmasqConf,
  routerRuleset,
  sshdConf,
  type UpnpOptions,
} from './configs.js';
import {
  DEFAULT_LAB_NAME,
  LAB_INTERNET,
  LAB_ISP_IP,
  LAB_LAN,
  LAB_NAMES,
  LAB_NODES,
  LAB_ROUTER_LAN_IP,
  LAB_SECRETS,
  LAB_WAN_IP,
  netnsName,
  type LabNode,
} from './topology.js';
import {
  ipn,
  must,
  netnsExists,
  nsMust,
  nsRun,
  pidAlive,
  pidsInNetns,
  run,
  sleepMs,
  startDaemon,
  stopGroup,
  waitForListen,
  type DaemonRecord,
} from './sys.js';

export interface LabState {
  name: string;
  createdAt: string;
  stateDir: string;
  namespaces: string[];
  etcNetns: string[];
  daemons: DaemonRecord[];
  upnp: UpnpOptions;
  ready: boolean;
}

export interface LabStatus {
  name: string;
  up: boolean;
  lan: string;
  wanIp: string;
  nodes: Array<{ name: string; netns: string; role: string; ip: string; mac: string; hostname: string }>;
  daemons: Array<{ node: string; name: string; pid: number; alive: boolean }>;
  upnp?: UpnpOptions;
}

export type Logger = (msg: string) => void;

export function labName(): string {
  const n = process.env.IOTGUARD_LAB ?? DEFAULT_LAB_NAME;
  if (!/^[a-z][a-z0-9]{0,5}$/.test(n)) throw new IotguardError(ErrorCodes.USAGE, `lab name must be 1-6 lowercase letters/digits: ${n}`);
  return n;
}

export function stateDirFor(name: string): string {
  return `/run/iotguard-lab/${name}`;
}

function statePath(name: string): string {
  return join(stateDirFor(name), 'state.json');
}

export function readState(name: string): LabState | undefined {
  try {
    return JSON.parse(readFileSync(statePath(name), 'utf8')) as LabState;
  } catch {
    return undefined;
  }
}

function saveState(s: LabState): void {
  mkdirSync(s.stateDir, { recursive: true });
  writeFileSync(statePath(s.name) + '.tmp', JSON.stringify(s, null, 2));
  // rename is atomic: a crash mid-write never leaves a half state file
  must('mv', [statePath(s.name) + '.tmp', statePath(s.name)]);
}

export function requireRoot(): void {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new IotguardError(ErrorCodes.NOT_ROOT, 'the lab needs root: it creates network namespaces (run with sudo)');
  }
}

async function ensurePackages(log: Logger): Promise<void> {
  const mod = (await import(new URL('../../scripts/lab-packages.mjs', import.meta.url).href)) as {
    missingLabPackages: () => string[];
  };
  const missing = mod.missingLabPackages();
  if (missing.length === 0) return;
  log(`installing Debian packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  run('sh', ['-c', 'echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections'], { env });
  let r = run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env, timeoutMs: 900_000 });
  if (r.status !== 0) {
    run('apt-get', ['update', '-qq'], { env, timeoutMs: 600_000 });
    r = run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env, timeoutMs: 900_000 });
  }
  const still = mod.missingLabPackages();
  if (still.length > 0) {
    throw new IotguardError(ErrorCodes.DEPENDENCY_MISSING, `lab: could not install ${still.join(' ')}: ${r.stderr.trim().split('\n').slice(-2).join(' / ')}`);
  }
}

const lanNodes = (): LabNode[] => LAB_NODES.filter((n) => n.role !== 'internet' && n.role !== 'router');
const node = (name: string): LabNode => LAB_NODES.find((n) => n.name === name)!;

function hashPassword(pw: string): string {
  return must('openssl', ['passwd', '-6', '-stdin'], { input: `${pw}\n` }).trim();
}

/** Per-device /etc overrides: passwd/shadow with the device's accounts, a harmless shell, resolv.conf. */
function writeEtc(state: LabState, n: LabNode, accounts: Array<{ user: string; password: string; uid: number }>, extra: (dir: string) => void = () => {}): void {
  const ns = netnsName(state.name, n.name);
  const dir = `/etc/netns/${ns}`;
  mkdirSync(dir, { recursive: true });
  if (!state.etcNetns.includes(dir)) state.etcNetns.push(dir);
  writeFileSync(join(dir, 'resolv.conf'), `nameserver ${n.role === 'internet' ? LAB_INTERNET.dns : LAB_ROUTER_LAN_IP}\n`);
  writeFileSync(join(dir, 'hosts'), `127.0.0.1\tlocalhost\n${n.ip}\t${n.hostname}\n`);
  // a device's own login banner, not the host's "Debian GNU/Linux 12"
  writeFileSync(join(dir, 'issue'), '\n');
  writeFileSync(join(dir, 'issue.net'), '\n'); // what BusyBox telnetd prints before login
  writeFileSync(join(dir, 'motd'), '');
  if (accounts.length > 0) {
    const shell = join(state.stateDir, 'fakesh');
    const passwd = readFileSync('/etc/passwd', 'utf8').split('\n').filter(Boolean);
    const shadow = readFileSync('/etc/shadow', 'utf8').split('\n').filter(Boolean);
    const group = readFileSync('/etc/group', 'utf8').split('\n').filter(Boolean);
    const days = Math.floor(Date.now() / 86_400_000);
    for (const a of accounts) {
      const pw = `${a.user}:x:${a.uid}:${a.uid}:${a.user}:/root:${shell}`;
      const sh = `${a.user}:${hashPassword(a.password)}:${days}:0:99999:7:::`;
      const i = passwd.findIndex((l) => l.startsWith(`${a.user}:`));
      if (i >= 0) passwd[i] = pw;
      else passwd.push(pw);
      const j = shadow.findIndex((l) => l.startsWith(`${a.user}:`));
      if (j >= 0) shadow[j] = sh;
      else shadow.push(sh);
      if (a.uid !== 0 && !group.some((l) => l.startsWith(`${a.user}:`))) group.push(`${a.user}:x:${a.uid}:`);
    }
    writeFileSync(join(dir, 'passwd'), passwd.join('\n') + '\n');
    writeFileSync(join(dir, 'shadow'), shadow.join('\n') + '\n', { mode: 0o640 });
    writeFileSync(join(dir, 'group'), group.join('\n') + '\n');
    // a device's login says nothing about the host: no Debian motd, uname or "Last login" line
    cpSync('/etc/pam.d', join(dir, 'pam.d'), { recursive: true });
    const login = readFileSync(join(dir, 'pam.d', 'login'), 'utf8')
      .split('\n')
      .filter((l) => !/pam_(lastlog|motd|mail)\.so/.test(l))
      .join('\n');
    writeFileSync(join(dir, 'pam.d', 'login'), login);
  }
  extra(dir);
}

function daemon(state: LabState, nodeName: string, name: string, argv: string[], opts: { cwd?: string } = {}): DaemonRecord {
  const ns = netnsName(state.name, nodeName);
  const n = node(nodeName);
  // Each device gets its own UTS namespace so login prompts and banners show its hostname.
  const wrapped = ['unshare', '--uts', '--', 'sh', '-c', 'hostname "$0" && exec "$@"', n.hostname, ...argv];
  const rec = startDaemon(ns, nodeName, name, wrapped, join(state.stateDir, 'logs', `${nodeName}-${name}.log`), opts);
  state.daemons.push(rec);
  saveState(state);
  return rec;
}

function expectListen(state: LabState, nodeName: string, proto: 'tcp' | 'udp', port: number, what: string, timeoutMs = 15_000): void {
  if (!waitForListen(netnsName(state.name, nodeName), proto, port, timeoutMs)) {
    const rec = [...state.daemons].reverse().find((d) => d.node === nodeName && d.name === what);
    const tail = rec && existsSync(rec.log) ? readFileSync(rec.log, 'utf8').trim().split('\n').slice(-4).join(' / ') : '';
    throw new IotguardError(ErrorCodes.LAB_SETUP, `lab: ${what} on ${nodeName} did not listen on ${proto}/${port}${tail ? `: ${tail}` : ''}`);
  }
}

function offloadsOff(ns: string, dev: string): void {
  // real frame sizes and valid checksums in captures (LAB-NOTES)
  nsRun(ns, ['ethtool', '-K', dev, 'tx', 'off', 'rx', 'off', 'tso', 'off', 'gso', 'off', 'gro', 'off']);
}

function buildNetwork(state: LabState, log: Logger): void {
  const L = state.name;
  for (const n of LAB_NODES) {
    const ns = netnsName(L, n.name);
    must('ip', ['netns', 'add', ns]);
    state.namespaces.push(ns);
    saveState(state);
    ipn(ns, ['link', 'set', 'lo', 'up']);
  }
  const R = netnsName(L, 'router');
  const I = netnsName(L, 'inet');
  log('wiring router <-> internet and the LAN bridge');
  // veths are created directly inside the namespaces: nothing ever appears in the host's
  must('ip', ['-n', R, 'link', 'add', 'wan0', 'address', '14:75:90:00:77:02', 'type', 'veth', 'peer', 'name', 'isp0', 'address', node('inet').mac, 'netns', I]);
  ipn(R, ['addr', 'add', `${LAB_WAN_IP}/24`, 'dev', 'wan0']);
  ipn(R, ['link', 'set', 'wan0', 'up']);
  ipn(I, ['addr', 'add', `${LAB_ISP_IP}/24`, 'dev', 'isp0']);
  ipn(I, ['link', 'set', 'isp0', 'up']);
  for (const ip of Object.values(LAB_INTERNET)) ipn(I, ['addr', 'add', `${ip}/32`, 'dev', 'lo']);
  ipn(R, ['route', 'add', 'default', 'via', LAB_ISP_IP]);
  offloadsOff(R, 'wan0');
  offloadsOff(I, 'isp0');

  ipn(R, ['link', 'add', 'br-lan', 'address', node('router').mac, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0']);
  ipn(R, ['addr', 'add', `${LAB_ROUTER_LAN_IP}/24`, 'dev', 'br-lan']);
  ipn(R, ['link', 'set', 'br-lan', 'up']);
  for (const n of lanNodes()) {
    const ns = netnsName(L, n.name);
    const port = `v-${n.name}`.slice(0, 15);
    must('ip', ['-n', R, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'address', n.mac, 'netns', ns]);
    ipn(R, ['link', 'set', port, 'master', 'br-lan']);
    ipn(R, ['link', 'set', port, 'up']);
    ipn(ns, ['addr', 'add', `${n.ip}/24`, 'dev', 'eth0']);
    ipn(ns, ['link', 'set', 'eth0', 'up']);
    ipn(ns, ['route', 'add', 'default', 'via', LAB_ROUTER_LAN_IP]);
    offloadsOff(R, port);
    offloadsOff(ns, 'eth0');
  }
  nsMust(R, ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
  // bridged LAN frames must not traverse the IP firewall (LAB-NOTES); the key exists only with br_netfilter
  nsRun(R, ['sysctl', '-q', '-w', 'net.bridge.bridge-nf-call-iptables=0']);
  nsMust(R, ['nft', '-f', '-'], { input: routerRuleset(state.upnp) });
}

function writeCa(state: LabState): void {
  const ca = join(state.stateDir, 'ca');
  mkdirSync(ca, { recursive: true });
  const sslCnf = join(ca, 'server.ext');
  writeFileSync(sslCnf, `subjectAltName=DNS:${LAB_NAMES.cloudHost},DNS:${LAB_NAMES.mqttHost},DNS:${LAB_NAMES.relayHost}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n`);
  must('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '3650', '-subj', '/O=iotguard lab/CN=iotguard lab root CA', '-keyout', join(ca, 'ca.key'), '-out', join(ca, 'ca.crt')]);
  must('openssl', ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', `/O=PlugCo/CN=${LAB_NAMES.cloudHost}`, '-keyout', join(ca, 'server.key'), '-out', join(ca, 'server.csr')]);
  must('openssl', ['x509', '-req', '-in', join(ca, 'server.csr'), '-CA', join(ca, 'ca.crt'), '-CAkey', join(ca, 'ca.key'), '-CAcreateserial', '-days', '825', '-extfile', sslCnf, '-out', join(ca, 'server.crt')]);
  chmodSync(join(ca, 'server.key'), 0o644);
}

/** A firmware image with a real uImage header (magic 0x27051956) followed by a squashfs-like body. */
function firmwareImage(): Buffer {
  const size = 256 * 1024;
  const b = Buffer.alloc(size);
  b.writeUInt32BE(0x27051956, 0); // IH_MAGIC
  b.writeUInt32BE(0, 4); // header CRC (not checked by anyone here)
  b.writeUInt32BE(Math.floor(Date.UTC(2024, 0, 1) / 1000), 8);
  b.writeUInt32BE(size - 64, 12);
  b.writeUInt32BE(0x80000000, 16);
  b.writeUInt32BE(0x80000000, 20);
  b[28] = 5; // OS: Linux
  b[29] = 5; // arch: MIPS
  b[30] = 2; // type: kernel
  b.write('PlugCo SP1 v1.2.3', 32, 'latin1');
  b.write('hsqs', 64, 'latin1'); // squashfs magic where a rootfs would start
  let x = 0x1234567;
  for (let i = 128; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

function writeWebRoots(state: LabState): void {
  const d = state.stateDir;
  const mk = (p: string) => mkdirSync(join(d, p), { recursive: true });
  mk('inet/fw/firmware');
  writeFileSync(join(d, 'inet/fw/firmware/plug-v1.2.3.bin'), firmwareImage());
  writeFileSync(join(d, 'inet/fw/firmware/latest.json'), JSON.stringify({ model: 'SP1', version: '1.2.3', url: `http://${LAB_NAMES.firmwareHost}${LAB_NAMES.firmwarePath}` }) + '\n');
  mk('inet/cloud/api');
  writeFileSync(join(d, 'inet/cloud/index.html'), '<html><head><title>PlugCo Cloud</title></head><body>PlugCo cloud API</body></html>\n');
  writeFileSync(join(d, 'inet/cloud/api/status'), '{"ok":true}\n');
  mk('inet/tunnel');
  writeFileSync(join(d, 'inet/tunnel/secret.txt'), 'data that crossed the DNS tunnel\n');
  // the exfiltration target reads the whole body before it answers: a server that answers
  // first and closes with the body unread makes the kernel reset the connection, and curl
  // then fails with exit 56 at random over the slow tunnel
  mk('inet/tunnel/cgi-bin');
  writeFileSync(
    join(d, 'inet/tunnel/cgi-bin/upload'),
    '#!/bin/sh\nn=$(head -c "${CONTENT_LENGTH:-0}" | wc -c)\nprintf "Content-Type: text/plain\\r\\n\\r\\nreceived %s bytes\\n" "$n"\n',
  );
  chmodSync(join(d, 'inet/tunnel/cgi-bin/upload'), 0o755);
  mk('cam/www/cgi-bin');
  writeFileSync(join(d, 'cam/www/index.html'), '<html><head><title>IPCAM Web Admin</title></head><body>Network Camera</body></html>\n');
  writeFileSync(join(d, 'cam/httpd.conf'), `/:${LAB_SECRETS.camHttp.username}:${LAB_SECRETS.camHttp.password}\n`);
  mk('nas/www');
  writeFileSync(join(d, 'nas/www/index.html'), '<html><head><title>NAS Admin</title></head><body>NAS</body></html>\n');
  writeFileSync(join(d, 'nas/httpd.conf'), `/:admin:${LAB_SECRETS.strong}\n`);
  mk('nas/media');
  mk('nas/minidlna-db');
  writeFileSync(join(d, 'nas/media/holiday.mp3'), Buffer.alloc(4096));
  mk('plug/www');
  writeFileSync(join(d, 'plug/www/index.html'), '<html><head><title>Smart Plug</title></head><body>SP1 smart plug. Relay: on</body></html>\n');
  mk('speaker/www');
  writeFileSync(join(d, 'speaker/www/index.html'), '<html><head><title>Speaker</title></head><body>speaker</body></html>\n');
}

function startInternet(state: LabState, log: Logger): void {
  const d = state.stateDir;
  log('internet: DNS, firmware server, HTTPS cloud, MQTT broker, iodined');
  writeFileSync(join(d, 'inet-dnsmasq.conf'), internetDnsmasqConf(d));
  daemon(state, 'inet', 'dnsmasq', ['dnsmasq', '-k', '-C', join(d, 'inet-dnsmasq.conf')]);
  daemon(state, 'inet', 'httpd-firmware', ['busybox', 'httpd', '-f', '-v', '-p', `${LAB_INTERNET.firmware}:80`, '-h', join(d, 'inet/fw')]);
  daemon(state, 'inet', 'httpd-cloud', ['busybox', 'httpd', '-f', '-p', '127.0.0.1:8080', '-h', join(d, 'inet/cloud')]);
  daemon(state, 'inet', 'tls-cloud', [
    'socat',
    `OPENSSL-LISTEN:443,bind=${LAB_INTERNET.cloud},reuseaddr,fork,cert=${join(d, 'ca/server.crt')},key=${join(d, 'ca/server.key')},verify=0`,
    'TCP:127.0.0.1:8080',
  ]);
  writeFileSync(join(d, 'mosquitto.passwd'), '');
  must('mosquitto_passwd', ['-b', join(d, 'mosquitto.passwd'), LAB_SECRETS.mqttPlug.username, LAB_SECRETS.mqttPlug.password]);
  must('mosquitto_passwd', ['-b', join(d, 'mosquitto.passwd'), 'cam', 'camrelay-7f3a']);
  chmodSync(join(d, 'mosquitto.passwd'), 0o600);
  writeFileSync(join(d, 'mosquitto.conf'), mosquittoConf(d));
  daemon(state, 'inet', 'mosquitto', ['mosquitto', '-c', join(d, 'mosquitto.conf')]);
  daemon(state, 'inet', 'iodined', ['iodined', '-f', '-c', '-P', LAB_SECRETS.iodine, '-l', LAB_INTERNET.tunnelNs, '-p', '53', '10.99.0.1/27', LAB_NAMES.tunnelDomain]);
  expectListen(state, 'inet', 'udp', 53, 'dnsmasq');
  expectListen(state, 'inet', 'tcp', 80, 'httpd-firmware');
  expectListen(state, 'inet', 'tcp', 443, 'tls-cloud');
  expectListen(state, 'inet', 'tcp', 1883, 'mosquitto');
  expectListen(state, 'inet', 'tcp', 8883, 'mosquitto');
  // the tunnel's far end: a web server reachable only through iodine's dns0
  const I = netnsName(state.name, 'inet');
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && !ipn(I, ['-br', 'addr']).includes('10.99.0.1')) sleepMs(100);
  daemon(state, 'inet', 'httpd-tunnel', ['busybox', 'httpd', '-f', '-v', '-p', '10.99.0.1:8080', '-h', join(d, 'inet/tunnel')]);
}

function startRouter(state: LabState, log: Logger): void {
  const d = state.stateDir;
  log('router: dnsmasq (DHCP + DNS), miniupnpd (UPnP IGD + NAT-PMP)');
  writeFileSync(join(d, 'router-dnsmasq.conf'), routerDnsmasqConf(d));
  daemon(state, 'router', 'dnsmasq', ['dnsmasq', '-k', '-C', join(d, 'router-dnsmasq.conf')]);
  startMiniupnpd(state);
  expectListen(state, 'router', 'udp', 53, 'dnsmasq');
  expectListen(state, 'router', 'udp', 67, 'dnsmasq');
}

function startMiniupnpd(state: LabState): void {
  const d = state.stateDir;
  writeFileSync(join(d, 'miniupnpd.conf'), miniupnpdConf(state.upnp, d));
  daemon(state, 'router', 'miniupnpd', ['miniupnpd', '-f', join(d, 'miniupnpd.conf'), '-d', '-P', join(d, 'miniupnpd.pid')]);
  expectListen(state, 'router', 'tcp', 5000, 'miniupnpd');
  expectListen(state, 'router', 'udp', 5351, 'miniupnpd');
  if (state.upnp.wanExposed) {
    // miniupnpd 2.3.1 refuses to listen on a public address, so the misconfigured
    // router of the tests answers on its WAN side through relays to its LAN listener,
    // as routers with a badly bound IGD do
    daemon(state, 'router', 'wan-relay-soap', ['socat', `TCP-LISTEN:5000,bind=${LAB_WAN_IP},so-bindtodevice=wan0,reuseaddr,fork`, `TCP:${LAB_ROUTER_LAN_IP}:5000,so-bindtodevice=br-lan`]);
    daemon(state, 'router', 'wan-relay-ssdp', ['socat', `UDP-RECVFROM:1900,bind=${LAB_WAN_IP},so-bindtodevice=wan0,reuseaddr,fork`, `UDP-SENDTO:${LAB_ROUTER_LAN_IP}:1900,so-bindtodevice=br-lan`]);
    expectListen(state, 'router', 'tcp', 5000, 'wan-relay-soap');
  }
}

function startDevices(state: LabState, log: Logger): void {
  const d = state.stateDir;
  writeFileSync(join(d, 'fakesh'), FAKE_SHELL, { mode: 0o755 });
  const strong = LAB_SECRETS.strong;

  log('cam: telnetd + PAM login (Mirai default), HTTP admin with Basic auth');
  writeEtc(state, node('cam'), [{ user: 'root', password: LAB_SECRETS.camTelnet.password, uid: 0 }]);
  daemon(state, 'cam', 'telnetd', ['busybox', 'telnetd', '-F', '-p', '23', '-l', '/bin/login']);
  daemon(state, 'cam', 'httpd', ['busybox', 'httpd', '-f', '-p', '80', '-h', join(d, 'cam/www'), '-c', join(d, 'cam/httpd.conf'), '-r', 'IPCAM']);

  log('dvr: OpenSSH with a default password');
  mkdirSync(join(d, 'dvr'), { recursive: true });
  mkdirSync('/run/sshd', { recursive: true });
  must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(d, 'dvr/ssh_host_ed25519_key')]);
  writeFileSync(join(d, 'dvr/sshd_config'), sshdConf(d, 'dvr', { permitRoot: false }));
  writeEtc(state, node('dvr'), [{ user: LAB_SECRETS.dvrSsh.username, password: LAB_SECRETS.dvrSsh.password, uid: 1000 }]);
  daemon(state, 'dvr', 'sshd', ['/usr/sbin/sshd', '-D', '-e', '-f', join(d, 'dvr/sshd_config')]);

  log('nas: strong passwords on telnet, SSH and HTTP; minidlna announced by SSDP');
  mkdirSync(join(d, 'nas'), { recursive: true });
  must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(d, 'nas/ssh_host_ed25519_key')]);
  writeFileSync(join(d, 'nas/sshd_config'), sshdConf(d, 'nas', { permitRoot: true }));
  writeEtc(state, node('nas'), [
    { user: 'root', password: strong, uid: 0 },
    { user: 'admin', password: strong, uid: 1000 },
  ]);
  daemon(state, 'nas', 'telnetd', ['busybox', 'telnetd', '-F', '-p', '23', '-l', '/bin/login']);
  daemon(state, 'nas', 'sshd', ['/usr/sbin/sshd', '-D', '-e', '-f', join(d, 'nas/sshd_config')]);
  daemon(state, 'nas', 'httpd', ['busybox', 'httpd', '-f', '-p', '80', '-h', join(d, 'nas/www'), '-c', join(d, 'nas/httpd.conf'), '-r', 'NAS']);
  writeFileSync(join(d, 'nas/minidlna.conf'), minidlnaConf(d));
  daemon(state, 'nas', 'minidlna', ['minidlnad', '-S', '-f', join(d, 'nas/minidlna.conf'), '-P', join(d, 'nas/minidlna.pid'), '-r']);

  log('speaker: avahi-daemon announcing its services by mDNS');
  writeEtc(state, node('speaker'), [], (dir) => {
    const av = join(dir, 'avahi');
    mkdirSync(join(av, 'services'), { recursive: true });
    writeFileSync(join(av, 'avahi-daemon.conf'), avahiConf(node('speaker').hostname));
    writeFileSync(join(av, 'services', 'raop.service'), avahiService('Living Room', '_raop._tcp', 7000, ['am=Sonos One', 'vs=366.0']));
    writeFileSync(join(av, 'services', 'sonos.service'), avahiService('Living Room', '_sonos._tcp', 1400, ['info=/api/v1/players/RINCON_000E58000000/info', 'mdnssequence=0']));
    writeFileSync(join(av, 'services', 'spotify.service'), avahiService('Living Room', '_spotify-connect._tcp', 1400, ['CPath=/spotifyzc', 'VERSION=1.0']));
  });
  mkdirSync('/run/avahi-daemon', { recursive: true });
  daemon(state, 'speaker', 'httpd', ['busybox', 'httpd', '-f', '-p', '1400', '-h', join(d, 'speaker/www')]);
  // avahi keeps its PID file in /run/avahi-daemon: give this one a private copy (the
  // mount namespace of `ip netns exec` is this process tree's own) so labs never collide
  const avahiRun = join(d, 'speaker/avahi-run');
  mkdirSync(avahiRun, { recursive: true });
  daemon(state, 'speaker', 'avahi', ['sh', '-c', 'mount --bind "$0" /run/avahi-daemon && exec "$@"', avahiRun, 'avahi-daemon', '--no-drop-root', '--no-chroot', '--no-rlimits', '--no-proc-title', '-f', '/etc/avahi/avahi-daemon.conf']);

  log('plug: local web page');
  writeEtc(state, node('plug'), []);
  daemon(state, 'plug', 'httpd', ['busybox', 'httpd', '-f', '-p', '80', '-h', join(d, 'plug/www')]);

  log('ap: telnet with lock-out (pam_faillock + connection rate limit), strong password');
  writeEtc(state, node('ap'), [{ user: 'root', password: strong, uid: 0 }], (dir) => {
    // PAM's config (copied by writeEtc) gets a common-auth that locks an account after 3 failures
    const tally = join(d, 'ap-faillock');
    mkdirSync(tally, { recursive: true });
    writeFileSync(
      join(dir, 'pam.d', 'common-auth'),
      [
        // not `silent`: a locked account says so ("The account is locked due to 3 failed logins."), as devices that lock out do
        `auth required pam_faillock.so preauth deny=3 unlock_time=120 even_deny_root root_unlock_time=120 dir=${tally}`,
        // success jumps over the authfail and deny lines to pam_permit
        'auth [success=2 default=ignore] pam_unix.so nullok',
        `auth [default=die] pam_faillock.so authfail deny=3 unlock_time=120 even_deny_root root_unlock_time=120 dir=${tally}`,
        'auth requisite pam_deny.so',
        'auth required pam_permit.so',
        `auth sufficient pam_faillock.so authsucc dir=${tally}`,
        '',
      ].join('\n'),
    );
  });
  daemon(state, 'ap', 'telnetd', ['busybox', 'telnetd', '-F', '-p', '23', '-l', '/bin/login']);
  nsMust(netnsName(state.name, 'ap'), ['nft', '-f', '-'], {
    input: [
      'table inet lockout {',
      '  chain input {',
      '    type filter hook input priority 0; policy accept;',
      '    tcp dport 23 ct state new meter telnet_flood { ip saddr limit rate over 6/minute burst 6 packets } reject with tcp reset',
      '  }',
      '}',
      '',
    ].join('\n'),
  });

  log('infected: telnetd with the default password it was taken by, iodine DNS tunnel');
  writeEtc(state, node('infected'), [{ user: 'root', password: LAB_SECRETS.camTelnet.password, uid: 0 }]);
  daemon(state, 'infected', 'telnetd', ['busybox', 'telnetd', '-F', '-p', '23', '-l', '/bin/login']);
  for (const n of ['pi', 'console', 'router', 'inet']) writeEtc(state, node(n), []);

  expectListen(state, 'cam', 'tcp', 23, 'telnetd');
  expectListen(state, 'cam', 'tcp', 80, 'httpd');
  expectListen(state, 'dvr', 'tcp', 22, 'sshd');
  expectListen(state, 'nas', 'tcp', 22, 'sshd');
  expectListen(state, 'nas', 'tcp', 23, 'telnetd');
  expectListen(state, 'nas', 'tcp', 80, 'httpd');
  expectListen(state, 'nas', 'tcp', 8200, 'minidlna', 20_000);
  expectListen(state, 'speaker', 'udp', 5353, 'avahi');
  expectListen(state, 'plug', 'tcp', 80, 'httpd');
  expectListen(state, 'ap', 'tcp', 23, 'telnetd');
  expectListen(state, 'infected', 'tcp', 23, 'telnetd');
}

/** One DHCP exchange per device (hostname + vendor class), so the router's leases and captures look like a real home. */
function dhcpAnnounce(state: LabState): void {
  for (const n of lanNodes()) {
    const args = ['busybox', 'udhcpc', '-i', 'eth0', '-n', '-q', '-f', '-t', '3', '-T', '1', '-s', '/bin/true', '-x', `hostname:${n.hostname}`, '-r', n.ip];
    if (n.vendorClass) args.push('-V', n.vendorClass);
    nsRun(netnsName(state.name, n.name), args, { timeoutMs: 15_000 });
  }
}

const IGD_URL = `http://${LAB_ROUTER_LAN_IP}:5000/rootDesc.xml`;

/** The port mappings devices hold after bring-up: the camera's dangerous telnet hole and the console's ordinary ones. */
export const LAB_MAPPINGS = [
  { node: 'cam', description: 'ipcam telnet', internalPort: 23, externalPort: 2323, protocol: 'TCP', lease: 0 },
  { node: 'cam', description: 'ipcam web', internalPort: 80, externalPort: 8000, protocol: 'TCP', lease: 86400 },
  { node: 'console', description: 'PS4 3074 UDP', internalPort: 3074, externalPort: 3074, protocol: 'UDP', lease: 0 },
  { node: 'console', description: 'PS4 3074 TCP', internalPort: 3074, externalPort: 3074, protocol: 'TCP', lease: 0 },
  { node: 'console', description: 'PS4 STUN 3478', internalPort: 3478, externalPort: 3478, protocol: 'UDP', lease: 7200 },
  { node: 'console', description: 'PS4 STUN 3479', internalPort: 3479, externalPort: 3479, protocol: 'UDP', lease: 7200 },
] as const;

export function addLabMappings(state: LabState): void {
  for (const m of LAB_MAPPINGS) {
    const n = node(m.node);
    const r = nsRun(netnsName(state.name, m.node), ['upnpc', '-u', IGD_URL, '-e', m.description, '-a', n.ip, String(m.internalPort), String(m.externalPort), m.protocol, String(m.lease)], { timeoutMs: 20_000 });
    if (r.status !== 0 || !/is redirected to internal/.test(r.stdout)) {
      throw new IotguardError(ErrorCodes.LAB_SETUP, `lab: ${m.node} could not add its UPnP mapping ${m.protocol}/${m.externalPort}: ${(r.stdout + r.stderr).trim().split('\n').slice(-2).join(' / ')}`);
    }
  }
}

function startTunnel(state: LabState, log: Logger): void {
  log('infected: iodine client through the router resolver');
  daemon(state, 'infected', 'iodine', ['iodine', '-f', '-r', '-P', LAB_SECRETS.iodine, LAB_ROUTER_LAN_IP, LAB_NAMES.tunnelDomain]);
  const ns = netnsName(state.name, 'infected');
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (/10\.99\.0\.\d+/.test(nsRun(ns, ['ip', '-br', 'addr', 'show', 'dev', 'dns0']).stdout)) return;
    sleepMs(250);
  }
  const rec = state.daemons.find((x) => x.node === 'infected' && x.name === 'iodine');
  const tail = rec && existsSync(rec.log) ? readFileSync(rec.log, 'utf8').trim().split('\n').slice(-3).join(' / ') : '';
  throw new IotguardError(ErrorCodes.LAB_SETUP, `lab: the iodine tunnel did not come up: ${tail}`);
}

function healthy(state: LabState): boolean {
  return state.ready && state.namespaces.every(netnsExists) && state.daemons.every((d) => pidAlive(d.pid));
}

export async function labUp(log: Logger = () => {}): Promise<LabState> {
  requireRoot();
  const name = labName();
  const existing = readState(name);
  if (existing && healthy(existing)) {
    log(`lab '${name}' is already up`);
    return existing;
  }
  if (existing || LAB_NODES.some((n) => netnsExists(netnsName(name, n.name)))) {
    log('cleaning up a previous, incomplete lab');
    labDown(() => {});
  }
  await ensurePackages(log);
  const stateDir = stateDirFor(name);
  mkdirSync(join(stateDir, 'logs'), { recursive: true });
  const state: LabState = { name, createdAt: new Date().toISOString(), stateDir, namespaces: [], etcNetns: [], daemons: [], upnp: { ...DEFAULT_UPNP }, ready: false };
  saveState(state);
  try {
    log('creating namespaces');
    buildNetwork(state, log);
    writeCa(state);
    writeWebRoots(state);
    startInternet(state, log);
    startRouter(state, log);
    startDevices(state, log);
    dhcpAnnounce(state);
    log('devices open their UPnP port mappings');
    addLabMappings(state);
    startTunnel(state, log);
    state.ready = true;
    saveState(state);
  } catch (e) {
    log('bring-up failed; tearing down what was created');
    try {
      labDown(() => {});
    } catch {
      /* keep the original error */
    }
    throw e;
  }
  return state;
}

export function labDown(log: Logger = () => {}): { removed: string[] } {
  requireRoot();
  const name = labName();
  const state = readState(name);
  const removed: string[] = [];
  const namespaces = new Set<string>([...(state?.namespaces ?? []), ...LAB_NODES.map((n) => netnsName(name, n.name))]);
  for (const d of [...(state?.daemons ?? [])].reverse()) {
    stopGroup(d.pid);
  }
  // anything else still running inside the lab's namespaces (children, test helpers): by namespace membership
  for (const ns of namespaces) {
    if (!netnsExists(ns)) continue;
    for (let round = 0; round < 3; round++) {
      const pids = pidsInNetns(ns);
      if (pids.length === 0) break;
      for (const pid of pids) stopGroup(pid, round === 0 ? 1000 : 0);
    }
  }
  for (const ns of namespaces) {
    if (netnsExists(ns)) {
      run('ip', ['netns', 'del', ns]);
      removed.push(ns);
      log(`removed namespace ${ns}`);
    }
  }
  for (const n of LAB_NODES) {
    const dir = `/etc/netns/${netnsName(name, n.name)}`;
    if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  }
  try {
    if (existsSync('/etc/netns') && readdirSync('/etc/netns').length === 0) rmSync('/etc/netns', { recursive: true });
  } catch {
    /* not ours to insist on */
  }
  const dir = stateDirFor(name);
  if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  try {
    if (readdirSync('/run/iotguard-lab').length === 0) rmSync('/run/iotguard-lab', { recursive: true });
  } catch {
    /* absent */
  }
  return { removed };
}

export function labStatus(): LabStatus {
  const name = labName();
  const state = readState(name);
  const up = state !== undefined && healthy(state);
  return {
    name,
    up,
    lan: LAB_LAN,
    wanIp: LAB_WAN_IP,
    nodes: LAB_NODES.map((n) => ({ name: n.name, netns: netnsName(name, n.name), role: n.role, ip: n.ip, mac: n.mac, hostname: n.hostname })),
    daemons: (state?.daemons ?? []).map((d) => ({ node: d.node, name: d.name, pid: d.pid, alive: pidAlive(d.pid) })),
    upnp: state?.upnp,
  };
}

export function requireUp(): LabState {
  const state = readState(labName());
  if (!state || !healthy(state)) {
    throw new IotguardError(ErrorCodes.LAB_NOT_RUNNING, "the lab is not running: start it with 'iotguard lab up'");
  }
  return state;
}

/** Restart the router's miniupnpd with another configuration (secure_mode, WAN exposure); the mappings are re-added. */
export function reconfigureUpnp(opts: Partial<UpnpOptions>): UpnpOptions {
  requireRoot();
  const state = requireUp();
  state.upnp = {
    secureMode: opts.secureMode ?? state.upnp.secureMode,
    wanExposed: opts.wanExposed ?? state.upnp.wanExposed,
  };
  const old = state.daemons.filter((d) => d.node === 'router' && (d.name === 'miniupnpd' || d.name.startsWith('wan-relay-')));
  for (const d of old) stopGroup(d.pid);
  state.daemons = state.daemons.filter((d) => !old.includes(d));
  const R = netnsName(state.name, 'router');
  // miniupnpd removes its rules on a clean exit; start from the baseline either way
  nsMust(R, ['nft', 'delete', 'table', 'inet', 'filter']);
  nsMust(R, ['nft', '-f', '-'], { input: routerRuleset(state.upnp) });
  rmSync(join(state.stateDir, 'upnp.leases'), { force: true });
  startMiniupnpd(state);
  addLabMappings(state);
  saveState(state);
  return state.upnp;
}

export function nodeNamespace(nodeName: string): string {
  const n = LAB_NODES.find((x) => x.name === nodeName || x.hostname === nodeName);
  if (!n) {
    throw new IotguardError(ErrorCodes.LAB_UNKNOWN_NODE, `no lab node '${nodeName}' (nodes: ${LAB_NODES.map((x) => x.name).join(', ')})`);
  }
  return netnsName(labName(), n.name);
}

