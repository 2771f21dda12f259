// `iotguard lab`: the simulated home network the tests and the demo run against.
import { spawnSync } from 'node:child_process';
import { newCommand, parse } from '../command.js';
import { color, info, printJson, table } from '../ui.js';
import { ErrorCodes, IotguardError } from '../../core/model/errors.js';

export async function run(argv: string[]): Promise<number> {
  let code = 0;
  const cmd = newCommand('lab', 'the simulated home network: namespaces with real daemons (needs root)');

  cmd
    .command('up')
    .description('bring the lab up (installs missing Debian packages; idempotent)')
    .option('--json', 'print the status as JSON when done')
    .action(async (o: { json?: boolean }) => {
      const { labUp, labStatus } = await import('../../lab/lab.js');
      const t0 = Date.now();
      await labUp((m) => info(color.dim(`lab: ${m}`)));
      const s = labStatus();
      if (o.json) printJson(s);
      else info(`${color.green('lab is up')} in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${s.nodes.length} nodes on ${s.lan}, WAN ${s.wanIp}. Next: 'iotguard lab status', 'iotguard lab run pi -- upnpc -l'.`);
    });

  cmd
    .command('down')
    .description('remove every namespace, link, process and file the lab created')
    .option('--json', 'JSON output')
    .action(async (o: { json?: boolean }) => {
      const { labDown } = await import('../../lab/lab.js');
      const r = labDown((m) => info(color.dim(`lab: ${m}`)));
      if (o.json) printJson(r);
      else info(r.removed.length ? `${color.green('lab is down')}: removed ${r.removed.length} namespaces` : 'lab was not running; nothing to remove');
    });

  cmd
    .command('status')
    .description('nodes, addresses and daemons of the lab')
    .option('--json', 'JSON output (CONTRACT.md)')
    .action(async (o: { json?: boolean }) => {
      const { labStatus } = await import('../../lab/lab.js');
      const s = labStatus();
      if (o.json) {
        printJson(s);
        return;
      }
      process.stdout.write(`${s.up ? color.green('up') : color.red('down')}  lab '${s.name}'  LAN ${s.lan}  WAN ${s.wanIp}\n\n`);
      process.stdout.write(
        `${table(
          ['node', 'netns', 'role', 'ip', 'mac', 'daemons'],
          s.nodes.map((n) => [
            n.name,
            n.netns,
            n.role,
            n.ip,
            n.mac,
            s.daemons
              .filter((d) => d.node === n.name)
              .map((d) => (d.alive ? d.name : color.red(`${d.name}(dead)`)))
              .join(' '),
          ]),
        )}\n`,
      );
      if (!s.up) process.stdout.write(`\nStart it with 'iotguard lab up'.\n`);
    });

  cmd
    .command('run')
    .description('run a command inside a lab node: iotguard lab run pi -- upnpc -l')
    .argument('<node>', 'node name (see lab status)')
    .argument('<cmd...>', 'command and arguments (after --)')
    .action(async (nodeName: string, rest: string[]) => {
      const { nodeNamespace, requireUp } = await import('../../lab/lab.js');
      requireUp();
      const ns = nodeNamespace(nodeName);
      const r = spawnSync('ip', ['netns', 'exec', ns, ...rest], { stdio: 'inherit' });
      if (r.error) throw new IotguardError(ErrorCodes.LAB_SETUP, `could not run ${rest[0]}: ${r.error.message}`);
      code = r.status ?? 1;
    });

  cmd
    .command('traffic')
    .description("play the devices' traffic: firmware download, MQTT, TLS, relay connection, UPnP/NAT-PMP requests, DNS tunnel, neighbour scan")
    .option('--seconds <n>', 'how long long-lived connections stay open', '20')
    .option('--only <nodes>', 'comma-separated nodes to play (default: all)')
    .option('--json', 'JSON output')
    .action(async (o: { seconds: string; only?: string; json?: boolean }) => {
      const { playTraffic } = await import('../../lab/traffic.js');
      const r = await playTraffic({ seconds: Number(o.seconds), only: o.only?.split(',') }, (m) => info(color.dim(`traffic: ${m}`)));
      if (o.json) printJson(r);
      else process.stdout.write(`${table(['node', 'action', 'ok'], r.actions.map((a) => [a.node, a.action, a.ok ? color.green('yes') : color.red(`no: ${a.detail ?? ''}`)]))}\n`);
    });

  cmd
    .command('capture')
    .description("record the router's LAN (br-lan) with tcpdump, optionally while playing the traffic")
    .requiredOption('--write <file>', 'pcap file to write')
    .option('--seconds <n>', 'how long to capture', '30')
    .option('--traffic', 'play `lab traffic` during the capture')
    .option('--iface <dev>', 'router interface to capture on', 'br-lan')
    .option('--json', 'JSON output')
    .action(async (o: { write: string; seconds: string; traffic?: boolean; iface: string; json?: boolean }) => {
      const { labCapture } = await import('../../lab/traffic.js');
      const r = await labCapture({ file: o.write, seconds: Number(o.seconds), traffic: o.traffic === true, iface: o.iface }, (m) => info(color.dim(`capture: ${m}`)));
      if (o.json) printJson(r);
      else {
        for (const a of r.traffic?.actions ?? []) if (!a.ok) info(`${color.yellow('traffic step failed:')} ${a.node}: ${a.action}: ${a.detail ?? ''}`);
        info(`${color.green('captured')} ${r.packets} packets to ${r.file}${r.dropped ? color.yellow(` (${r.dropped} dropped)`) : ''}`);
      }
    });

  cmd
    .command('upnp')
    .description("reconfigure the router's miniupnpd (for tests of misconfigured gateways)")
    .option('--secure-mode <yes|no>', 'miniupnpd secure_mode')
    .option('--wan-exposed <yes|no>', 'also answer SSDP/SOAP on the WAN side')
    .option('--json', 'JSON output')
    .action(async (o: { secureMode?: string; wanExposed?: string; json?: boolean }) => {
      const { reconfigureUpnp } = await import('../../lab/lab.js');
      const yn = (v: string | undefined, what: string) => {
        if (v === undefined) return undefined;
        if (v !== 'yes' && v !== 'no') throw new IotguardError(ErrorCodes.USAGE, `${what} takes yes or no`);
        return v === 'yes';
      };
      const r = reconfigureUpnp({ secureMode: yn(o.secureMode, '--secure-mode'), wanExposed: yn(o.wanExposed, '--wan-exposed') });
      if (o.json) printJson(r);
      else info(`miniupnpd restarted: secure_mode=${r.secureMode ? 'yes' : 'no'}, WAN side ${r.wanExposed ? color.red('exposed') : 'closed'}`);
    });

  await parse(cmd, argv);
  return code;
}
