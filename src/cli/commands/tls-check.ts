// `iotguard tls-check`: on the router, prove whether one device checks the TLS
// certificates it is shown (CONTRACT.md). Intrusive: runs only with
// --authorized, for one device and a bounded time; every nftables rule it adds
// is removed when it ends, is interrupted, or on the next start after a crash.
import { existsSync, readFileSync } from 'node:fs';
import { Option } from 'commander';
import { newCommand, parse } from '../command.js';
import { color, info, printJson, severityColor, table } from '../ui.js';
import { ErrorCodes, IotguardError } from '../../core/model/errors.js';
import { ipv4ToInt, isPrivateIpv4 } from '../../core/model/net.js';
import { isHostname } from '../../core/tlscheck/clienthello.js';
import { DEFAULT_TLS_PORTS } from '../../core/tlscheck/nft.js';
import type { Verdict } from '../../core/tlscheck/plan.js';
import { createExec } from '../../adapters/policy/nft.js';
import { DEFAULT_STATE_DIR, removeTableSync } from '../../adapters/probe/tls-intercept/redirect.js';
import { runTlsCheck } from '../../adapters/probe/tls-intercept/run.js';

const bad = (msg: string) => new IotguardError(ErrorCodes.DATA_INVALID, msg);

function num(name: string, min: number, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || !(n >= min && n <= max)) throw bad(`${name} must be a whole number from ${min} to ${max}`);
    return n;
  };
}

function parsePorts(text: string): number[] {
  const out: number[] = [];
  for (const p of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const n = Number(p);
    if (!/^\d{1,5}$/.test(p) || n < 1 || n > 65535) throw bad(`--ports: not a TCP port: ${p.slice(0, 20)}`);
    out.push(n);
  }
  if (out.length === 0) throw bad('--ports is empty');
  return [...new Set(out)];
}

const VERDICT_COLOR: Record<Verdict, (s: string) => string> = {
  validates: color.green,
  'accepts-self-signed': (s) => color.bold(color.red(s)),
  'accepts-untrusted-ca': (s) => color.bold(color.red(s)),
  'accepts-wrong-host': color.red,
  'accepts-expired': color.red,
  'no-tls-seen': color.dim,
  incomplete: color.yellow,
};

export async function run(argv: string[]): Promise<number> {
  const cmd = newCommand('tls-check', 'on the router: prove whether a device checks the TLS certificates it is shown, with forged certificates')
    .requiredOption('--device <ip>', 'the device to test (IPv4 address on a LAN this router serves)')
    .addOption(new Option('--seconds <n>', 'how long to redirect the device\'s TLS').default(60).argParser(num('--seconds', 1, 3600)))
    .option('--ports <list>', `TCP ports to redirect from the start (default ${DEFAULT_TLS_PORTS.join(',')})`)
    .option('--no-learn-ports', 'do not also redirect other TCP ports seen in the device\'s traffic')
    .option('--state-dir <dir>', 'where the crash-recovery state file lives', DEFAULT_STATE_DIR)
    .option('--listen-ip <ip>', 'address of this router the redirected connections go to (default: its address toward the device)')
    .option('--wrong-host-cert <file>', 'a genuine certificate chain (PEM) for a name you control, from a CA the device may trust, for the wrong-host test')
    .option('--wrong-host-key <file>', 'the private key (PEM) of --wrong-host-cert')
    .option('--wrong-host-name <name>', 'name on the forged wrong-host certificate', 'iotguard-wrong-host.invalid')
    .option('--authorized', 'confirm you own this device or may test it (required)')
    .option('--json', 'one JSON document on stdout')
    .addHelpText(
      'after',
      [
        '',
        'Runs on the router (needs root for nftables). For --seconds it DNATs the device\'s TCP to 443/8883 (and other',
        'ports it is seen using) to a local endpoint. Each TLS connection, per (device, SNI, port), is answered in turn',
        'with a forged certificate: self-signed, wrong-host, expired, untrusted-ca. Finishing the handshake and sending',
        'data = accepted; an alert or a close = refused. Other connections, and all connections once a destination is',
        'tested, pass through untouched. Nothing is fetched, nothing decrypted is kept. The rules are removed at the end,',
        'on Ctrl-C/SIGTERM, and on the next start after a crash.',
        '',
        'Verdicts: validates | accepts-self-signed | accepts-untrusted-ca | accepts-wrong-host | accepts-expired |',
        '          no-tls-seen | incomplete (not every certificate got its turn: let the device retry, or run longer)',
        'Exit: 0 ran (whatever it found), 1 could not, 2 bad usage.',
      ].join('\n'),
    );
  await parse(cmd, argv);
  const o = cmd.opts<{
    device: string;
    seconds: number;
    ports?: string;
    learnPorts: boolean;
    stateDir: string;
    listenIp?: string;
    wrongHostCert?: string;
    wrongHostKey?: string;
    wrongHostName: string;
    authorized?: boolean;
    json?: boolean;
  }>();
  const json = o.json === true;
  if (ipv4ToInt(o.device) === undefined) throw bad(`--device: not an IPv4 address: ${o.device.slice(0, 60)}`);
  if (!isPrivateIpv4(o.device)) throw new IotguardError(ErrorCodes.NET_PUBLIC_RANGE, `--device ${o.device} is not a private (LAN) address; tls-check only tests devices on your own network`);
  if (o.listenIp !== undefined && ipv4ToInt(o.listenIp) === undefined) throw bad(`--listen-ip: not an IPv4 address: ${o.listenIp.slice(0, 60)}`);
  const ports = o.ports !== undefined ? parsePorts(o.ports) : undefined;
  if (!isHostname(o.wrongHostName)) throw bad('--wrong-host-name must be a DNS name');
  if ((o.wrongHostCert === undefined) !== (o.wrongHostKey === undefined)) throw bad('--wrong-host-cert and --wrong-host-key go together');
  let wrongHostCert: { certPem: string; keyPem: string } | undefined;
  if (o.wrongHostCert && o.wrongHostKey) {
    for (const f of [o.wrongHostCert, o.wrongHostKey]) if (!existsSync(f)) throw new IotguardError(ErrorCodes.FILE_NOT_FOUND, `no such file: ${f}`);
    wrongHostCert = { certPem: readFileSync(o.wrongHostCert, 'utf8'), keyPem: readFileSync(o.wrongHostKey, 'utf8') };
    if (!/-----BEGIN CERTIFICATE-----/.test(wrongHostCert.certPem)) throw bad(`${o.wrongHostCert} holds no PEM certificate`);
    if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(wrongHostCert.keyPem)) throw bad(`${o.wrongHostKey} holds no PEM private key`);
  }
  if (!o.authorized) {
    throw new IotguardError(
      ErrorCodes.NOT_AUTHORIZED,
      'tls-check intercepts the device\'s encrypted connections and breaks a few of them: add --authorized to confirm you own it or may test it',
    );
  }
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new IotguardError(ErrorCodes.NOT_ROOT, 'tls-check needs root on the router (it adds and removes nftables rules)');
  }

  const exec = createExec();
  const ctrl = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    if (!ctrl.signal.aborted) info(`${sig}: stopping, removing the redirect rules`);
    ctrl.abort();
  };
  // whatever happens after the rules are in, they go at exit (a SIGKILL is handled by the next start)
  let installed = false;
  const atExit = () => {
    if (installed) removeTableSync(undefined);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  process.on('exit', atExit);
  const say = (m: string) => {
    if (!json || process.env.IOTGUARD_PROGRESS === '1') info(m);
  };
  try {
    const report = await runTlsCheck(
      {
        exec,
        log: say,
        signal: ctrl.signal,
        onInstalled: () => (installed = true),
        events: {
          attempt: (k, r) =>
            say(`${k.sni ?? k.destination} (${k.destination}): ${r.certificate} -> ${r.outcome === 'accepted' ? color.red('accepted') : r.outcome === 'refused' ? color.green('refused') : color.yellow('inconclusive')}${r.alert ? ` (${r.alert})` : ''}`),
          passThrough: (p) => say(color.dim(`pass-through ${p.sni ?? ''} ${p.destination}: ${p.reason}`)),
        },
      },
      {
        device: o.device,
        seconds: o.seconds,
        ...(ports ? { ports } : {}),
        learnPorts: o.learnPorts,
        stateDir: o.stateDir,
        ...(o.listenIp ? { listenIp: o.listenIp } : {}),
        ...(wrongHostCert ? { wrongHostCert } : {}),
        wrongHostName: o.wrongHostName,
      },
    );
    installed = false;
    for (const w of report.run.warnings) process.stderr.write(`${color.yellow('warning:')} ${w}\n`);
    if (json) {
      printJson(report);
      return 0;
    }
    const mark = (t: { accepted: boolean; outcome: string }) => (t.accepted ? color.red('accepted') : t.outcome === 'refused' ? color.green('refused') : color.yellow('?'));
    const rows = report.results.map((r) => [
      r.device,
      r.sni ?? '-',
      r.destination ?? '-',
      VERDICT_COLOR[r.verdict](r.verdict),
      r.tests.length ? r.tests.map((t) => `${t.certificate}: ${mark(t)}`).join(', ') : '-',
    ]);
    process.stdout.write(`${table(['DEVICE', 'SNI', 'DESTINATION', 'VERDICT', 'TESTS'], rows)}\n`);
    for (const f of report.findings) {
      process.stdout.write(`\n${severityColor(f.severity)(f.severity.toUpperCase())} ${f.title}\n  ${f.advice}\n`);
    }
    const rs = report.run.ruleset;
    process.stdout.write(
      `\n${color.dim(`${report.run.interrupted ? 'Stopped early by a signal. ' : ''}${report.run.connections.tested} connections tested, ${report.run.connections.passedThrough} passed through${report.run.learnedPorts.length ? `; learned ports ${report.run.learnedPorts.join(',')}` : ''}. Redirect rules removed; ruleset ${rs.identical ? 'identical to before' : 'differs from before (changed by something else during the run)'}.`)}\n`,
    );
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
    process.off('exit', atExit);
  }
}
