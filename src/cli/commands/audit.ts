// `iotguard audit`: everything safe by default (the intrusive checks with
// --authorized), joined per device, with risk, advice and a report.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import { Option } from 'commander';
import { newCommand, parse } from '../command.js';
import { color, info, printJson, severityColor, table } from '../ui.js';
import { version } from '../main.js';
import { ErrorCodes, IotguardError } from '../../core/model/errors.js';
import type { Severity } from '../../core/model/finding.js';
import { renderHtml } from '../../core/report/html.js';
import { renderMarkdown } from '../../core/report/markdown.js';
import type { AuditDiff } from '../../core/report/assemble.js';
import type { AuditResult } from '../../core/report/model.js';

function num(name: string, min: number, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || n < min || n > max) throw new IotguardError(ErrorCodes.USAGE, `${name} must be a whole number from ${min} to ${max}`);
    return n;
  };
}

function levelColor(level: string): (s: string) => string {
  return level === 'none' ? color.dim : severityColor(level as Severity);
}

function formatFor(file: string, given?: string): 'html' | 'md' | 'json' {
  if (given === 'html' || given === 'md' || given === 'json') return given;
  if (given) throw new IotguardError(ErrorCodes.USAGE, `--format must be html, md or json, not ${given}`);
  const ext = extname(file).toLowerCase();
  return ext === '.md' || ext === '.markdown' ? 'md' : ext === '.json' ? 'json' : 'html';
}

function renderDiff(d: AuditDiff): string {
  const lines = [color.bold(`Changes since the audit of ${d.since}`)];
  if (d.newDevices.length) lines.push(`  new devices: ${d.newDevices.join(', ')}`);
  if (d.goneDevices.length) lines.push(`  gone: ${d.goneDevices.join(', ')}`);
  for (const f of d.newFindings) lines.push(`  ${color.red('+')} ${severityColor(f.severity as Severity)(f.severity)} ${f.id} ${f.ip ?? ''} ${f.title}`);
  for (const f of d.resolvedFindings) lines.push(`  ${color.green('-')} ${f.severity} ${f.id} ${f.ip ?? ''} ${f.title}`);
  for (const r of d.riskChanges) lines.push(`  ${r.ip}: ${r.from} ${r.fromScore} -> ${r.to} ${r.toScore}`);
  if (lines.length === 1) lines.push('  nothing changed');
  return lines.join('\n');
}

function renderText(r: AuditResult): string {
  const rows = [...r.devices]
    .sort((a, b) => b.risk.score - a.risk.score)
    .map((d) => [
      d.ip,
      (d.hostname ?? d.vendor ?? '-').slice(0, 24),
      d.type,
      levelColor(d.risk.level)(`${d.risk.level} ${d.risk.score}`),
      String(d.findings.length),
      (d.advice[0]?.text ?? '-').slice(0, 90),
    ]);
  const out = [table(['DEVICE', 'NAME', 'TYPE', 'RISK', 'FINDINGS', 'FIRST THING TO DO'], rows)];
  if (r.networkFindings.length) {
    out.push('', color.bold('Network and router'));
    for (const f of r.networkFindings) out.push(`  ${severityColor(f.severity)(f.severity)} ${f.id}: ${f.title}`);
  }
  const failed = r.steps.filter((s) => s.status !== 'ok');
  if (failed.length) {
    out.push('', color.bold('Steps not run or failed'));
    for (const s of failed) out.push(`  ${s.status === 'failed' ? color.red(s.status) : color.dim(s.status)} ${s.name}${s.detail ? `: ${s.detail}` : ''}`);
  }
  return out.join('\n');
}

export async function run(argv: string[]): Promise<number> {
  const cmd = newCommand('audit', 'every attack vector, per device, with what to do: discover → upnp → creds (--authorized) → traffic → vulnerabilities → report')
    .option('--cidr <cidr...>', 'ranges to audit (default: the subnets of the interface)')
    .option('--iface <if>', 'interface to audit from (and to capture on)')
    .addOption(new Option('--capture-seconds <n>', 'watch live traffic this long (needs capture rights; see README)').default(0).argParser(num('--capture-seconds', 0, 86_400)))
    .option('--pcap <file...>', 'analyse these captures instead of capturing (e.g. one recorded on the router)')
    .option('--authorized', 'also run the intrusive checks: default passwords, the UPnP permissive-mapping test')
    .option('--report <file>', 'write the report here (.html, .md or .json; see --format)')
    .option('--format <fmt>', 'html | md | json (default: from the --report extension)')
    .option('--diff', 'say what changed since the last stored audit')
    .option('--db <path>', 'the store (default: the inventory database)')
    .option('--no-store', 'do not store this audit')
    .addOption(new Option('--budget <seconds>', 'time budget for the whole audit').default(900).argParser(num('--budget', 30, 86_400)))
    .addOption(new Option('--discover-ports <spec>', 'ports for discovery (top100 or a list)').default('top100'))
    .option('--json', 'one JSON document on stdout (CONTRACT.md)')
    .addHelpText('after', '\nWithout --authorized nothing intrusive runs: no login attempts, no mapping is added. Exit: 0 ran, 1 could not, 2 bad usage.');
  await parse(cmd, argv);
  const o = cmd.opts<{
    cidr?: string[];
    iface?: string;
    captureSeconds: number;
    pcap?: string[];
    authorized?: boolean;
    report?: string;
    format?: string;
    diff?: boolean;
    db?: string;
    store: boolean;
    budget: number;
    discoverPorts: string;
    json?: boolean;
  }>();
  const json = o.json === true;
  const format = o.report ? formatFor(o.report, o.format) : undefined;
  const { runAudit } = await import('../../adapters/audit/run.js');
  const { defaultStorePath } = await import('../../adapters/store/db.js');
  const t0 = Date.now();
  if (!json) info(`${color.bold('audit')} ${o.authorized ? color.yellow('with intrusive checks (authorised)') : 'safe checks only (add --authorized for default-password tests)'}`);
  const { result, diff } = await runAudit(
    {
      cidrs: o.cidr?.flatMap((c) => c.split(',')).filter(Boolean),
      iface: o.iface,
      authorized: o.authorized === true,
      pcaps: o.pcap ?? [],
      captureSeconds: o.captureSeconds,
      budgetSeconds: o.budget,
      db: o.db ?? defaultStorePath(),
      store: o.store,
      version: version(),
      discoverArgs: ['--ports', o.discoverPorts],
    },
    (m) => info(color.dim(m)),
  );
  if (!result.steps.some((s) => s.status === 'ok' && s.name.startsWith('discover')) && !result.devices.length) {
    throw new IotguardError(ErrorCodes.NET_UNREACHABLE, `the audit found nothing to audit: ${result.steps.map((s) => `${s.name.split(':')[0]} ${s.status}${s.detail ? ` (${s.detail})` : ''}`).join('; ')}`);
  }
  if (o.report && format) {
    const body = format === 'html' ? renderHtml(result) : format === 'md' ? renderMarkdown(result) : `${JSON.stringify(result, null, 2)}\n`;
    try {
      mkdirSync(dirname(resolve(o.report)), { recursive: true });
      writeFileSync(o.report, body);
    } catch (e) {
      throw new IotguardError(ErrorCodes.FILE_NOT_FOUND, `cannot write the report to ${o.report}: ${(e as Error).message}`);
    }
  }
  if (json) {
    printJson(o.diff ? { ...result, diff: diff ?? null } : result);
    return 0;
  }
  process.stdout.write(`${renderText(result)}\n`);
  if (o.diff) process.stdout.write(`\n${diff ? renderDiff(diff) : 'No earlier audit in the store to compare with.'}\n`);
  info(`\n${color.green('audit done')} in ${((Date.now() - t0) / 1000).toFixed(0)} s: ${result.devices.length} devices, ${result.findings.length} findings.${o.report ? ` Report: ${o.report}` : ' Next: add --report report.html for the full report.'}`);
  return 0;
}
