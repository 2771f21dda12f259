// `iotguard creds`: try public default passwords on the login services of
// devices on this host's LAN (CONTRACT.md). Intrusive: runs only with
// --authorized. Never prints a password from the user's own wordlist.
import { existsSync } from 'node:fs';
import { Option } from 'commander';
import { newCommand, parse } from '../command.js';
import { color, createProgress, printJson, severityColor, table } from '../ui.js';
import { ErrorCodes, IotguardError } from '../../core/model/errors.js';
import { ipv4ToInt } from '../../core/model/net.js';
import { CRED_SERVICES, isCredService, type CredResult } from '../../core/creds/types.js';
import { NAMED_WORDLISTS, type NamedWordlist } from '../../core/creds/wordlist.js';
import { runCredsAudit, type ServiceRequest } from '../../adapters/probe/creds/audit.js';
import { DEFAULT_RUNNER_INIT } from '../../core/creds/runner.js';

function usage(msg: string): IotguardError {
  return new IotguardError(ErrorCodes.USAGE, msg);
}

function parseTargets(text: string): string[] {
  const list = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (list.length === 0) throw new IotguardError(ErrorCodes.USAGE, '--targets needs at least one IPv4 address');
  if (list.length > 1024) throw new IotguardError(ErrorCodes.DATA_INVALID, '--targets: more than 1024 addresses');
  for (const ip of list) {
    if (ipv4ToInt(ip) === undefined) throw new IotguardError(ErrorCodes.DATA_INVALID, `--targets: not an IPv4 address: ${ip.slice(0, 60)}`);
  }
  return [...new Set(list)];
}

export function parseServices(text: string): ServiceRequest[] {
  const out: ServiceRequest[] = [];
  for (const raw of text.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean)) {
    const m = /^([a-z]+)(?::(\d{1,5}))?$/.exec(raw);
    if (!m || !isCredService(m[1])) throw usage(`--services: unknown service '${raw.slice(0, 40)}' (known: ${CRED_SERVICES.join(', ')}; add :PORT for a non-standard port)`);
    const port = m[2] === undefined ? undefined : Number(m[2]);
    if (port !== undefined && (port < 1 || port > 65535)) throw usage(`--services: bad port in '${raw}'`);
    out.push({ service: m[1], port });
  }
  if (out.length === 0) throw usage('--services is empty');
  return out;
}

function num(name: string, min: number, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^\d+(\.\d+)?$/.test(v) || !(n >= min && n <= max)) throw usage(`${name} must be a number from ${min} to ${max}`);
    return n;
  };
}

const STATUS_COLOR: Record<CredResult['status'], (s: string) => string> = {
  'default-credentials': (s) => color.bold(color.red(s)),
  'not-found': color.green,
  unreachable: color.dim,
  'rate-limited': color.yellow,
};

export async function run(argv: string[]): Promise<number> {
  const cmd = newCommand('creds', 'try public default passwords (Mirai\'s 62 and vendor defaults) on telnet, SSH, HTTP, FTP, MQTT and RTSP of devices on your LAN')
    .requiredOption('--targets <ips>', 'device addresses, comma separated (must be on a directly attached subnet)')
    .option('--services <list>', `services to test, e.g. telnet,ssh,http:8080 (default: whichever of ${CRED_SERVICES.join(', ')} have a well-known port open)`)
    .option('--wordlist <name|file>', `${NAMED_WORDLISTS.join(' | ')} | a file of login:password lines (its pairs are never shown)`, 'defaults')
    .addOption(new Option('--max-rate <n>', 'login attempts per second per device').default(DEFAULT_RUNNER_INIT.maxRate).argParser(num('--max-rate', 0.01, 1000)))
    .addOption(new Option('--concurrency <n>', 'connections at once per device').default(DEFAULT_RUNNER_INIT.concurrency).argParser(num('--concurrency', 1, 16)))
    .addOption(new Option('--timeout <seconds>', 'wait for each prompt or answer').default(8).argParser(num('--timeout', 0.1, 120)))
    .option('--http-path <path>', 'HTTP path to log in to', '/')
    .option('--authorized', 'confirm you own these devices or may test them (required)')
    .option('--json', 'one JSON document on stdout')
    .addHelpText(
      'after',
      [
        '',
        'Only devices on a subnet attached to this host are accepted. Each device gets at most --max-rate attempts a second',
        'and --concurrency connections; a service stops at its first success; a device that locks logins or stops answering',
        'is reported rate-limited instead of being retried. Nothing is run after a login: the connection is closed at once.',
        '',
        'Statuses: default-credentials | not-found | unreachable | rate-limited.   Exit: 0 ran, 1 could not, 2 bad usage.',
      ].join('\n'),
    );
  await parse(cmd, argv);
  const o = cmd.opts<{
    targets: string;
    services?: string;
    wordlist: string;
    maxRate: number;
    concurrency: number;
    timeout: number;
    httpPath: string;
    authorized?: boolean;
    json?: boolean;
  }>();
  const json = o.json === true;
  const targets = parseTargets(o.targets);
  const services = o.services !== undefined ? parseServices(o.services) : undefined;
  if (!o.httpPath.startsWith('/') || /[\s\x00-\x1f]/.test(o.httpPath)) throw usage('--http-path must start with / and hold no spaces');
  let wordlist: { name: NamedWordlist } | { file: string };
  if ((NAMED_WORDLISTS as readonly string[]).includes(o.wordlist)) wordlist = { name: o.wordlist as NamedWordlist };
  else if (existsSync(o.wordlist)) wordlist = { file: o.wordlist };
  else throw new IotguardError(ErrorCodes.FILE_NOT_FOUND, `--wordlist: no list named '${o.wordlist.slice(0, 60)}' and no such file (names: ${NAMED_WORDLISTS.join(', ')})`);
  if (!o.authorized) {
    throw new IotguardError(
      ErrorCodes.NOT_AUTHORIZED,
      'creds tries passwords on devices and may trip their lock-outs: add --authorized to confirm you own them or are allowed to test them',
    );
  }

  const probeBar = createProgress('probing ports', targets.length, { quiet: json });
  let loginBar: ReturnType<typeof createProgress> | undefined;
  const report = await runCredsAudit({
    targets,
    services,
    wordlist,
    limits: { maxRate: o.maxRate, concurrency: o.concurrency },
    connectTimeoutMs: Math.min(3000, o.timeout * 1000),
    replyTimeoutMs: o.timeout * 1000,
    httpPath: o.httpPath,
    onProgress: (ev) => {
      if (ev.phase === 'probe') {
        probeBar.tick();
        if (ev.done === ev.total) probeBar.done();
      } else {
        loginBar ??= createProgress('login attempts', ev.total, { quiet: json });
        loginBar.tick();
      }
    },
  });
  if (loginBar) {
    // the run stops early on successes and lock-outs: show what was really tried
    loginBar.setTotal(report.results.reduce((n, r) => n + r.attempts, 0));
    loginBar.done();
  }

  if (json) {
    printJson({
      results: report.results.map((r) => ({
        ip: r.ip,
        service: r.service,
        port: r.port,
        status: r.status,
        ...(r.username !== undefined ? { username: r.username, password: r.password } : {}),
        attempts: r.attempts,
        listSize: r.listSize,
        durationMs: r.durationMs,
        detail: r.detail,
        ...(r.source ? { source: r.source } : {}),
        ...(r.evidence ? { evidence: r.evidence } : {}),
      })),
      findings: report.findings,
    });
    return 0;
  }

  const out: string[] = [];
  if (report.results.length === 0) {
    out.push(color.dim('No login service (telnet, SSH, HTTP, FTP, MQTT, RTSP) answered on the well-known ports.'));
  } else {
    out.push(
      table(
        ['DEVICE', 'SERVICE', 'PORT', 'STATUS', 'LOGIN', 'TRIES', 'TIME', 'WHY'],
        report.results.map((r) => [
          r.ip,
          r.service,
          String(r.port),
          STATUS_COLOR[r.status](r.status),
          r.status !== 'default-credentials' ? '' : r.username !== undefined ? `${r.username || '(none)'} / ${r.password || '(empty)'}` : color.dim('(your list)'),
          `${r.attempts}/${r.listSize}`,
          `${(r.durationMs / 1000).toFixed(1)}s`,
          color.dim(r.detail.length > 90 ? `${r.detail.slice(0, 87)}...` : r.detail),
        ]),
      ),
    );
  }
  if (report.noServices.length > 0) out.push('', color.dim(`No login service open on: ${report.noServices.join(', ')}`));
  if (report.findings.length > 0) {
    out.push('', color.bold('Findings'));
    for (const f of report.findings) {
      out.push(`  ${severityColor(f.severity)(f.severity.toUpperCase().padEnd(8))} ${f.title}`, `           ${color.dim('→')} ${f.advice}`);
    }
  } else if (report.results.length > 0) {
    out.push('', color.green('No public default password worked.'));
  }
  process.stdout.write(`${out.join('\n')}\n`);
  return 0;
}
