// remote-access: the device keeps a connection to a cloud relay or broker open
// (MQTT, or any long-lived TCP/TLS session) or polls one every few seconds, so
// whoever controls that relay reaches the device through the home router's
// NAT as if it were a server. Says which relay, how long the connection
// lived, and that blocking it removes the app's remote access.
import type { DetectorConfig } from './config.js';
import type { Detector, DeviceRef, EngineEvent, EventKind } from '../engine/events.js';
import type { Finding, Severity } from '../model/finding.js';
import { deviceKeyOf, deviceOf, duration, prune } from './util.js';

const WANTS: readonly EventKind[] = ['flow-close'];

interface Relay {
  device: DeviceRef;
  name?: string;
  ips: Set<string>;
  port: number;
  app?: string;
  kind: 'broker' | 'relay' | 'poll';
  longest: number;
  connections: number;
  starts: number[];
  stillOpen: boolean;
  frames: number[];
  file: string;
  bytes: number;
}

export function remoteAccessDetector(cfg: DetectorConfig): Detector {
  const c = cfg.remoteAccess;
  const relays = new Map<string, Relay>();

  return {
    name: 'remote-access',
    wants: WANTS,
    onEvent(e: EngineEvent, ctx): void {
      if (e.kind !== 'flow-close') return;
      const f = e.flow;
      if (f.proto !== 'tcp' || !f.client.local || f.server.local || f.server.port === undefined) return;
      // a handshake that never completed holds nothing open
      if (f.packetsToClient === 0 || f.tcpState === 'rejected' || f.tcpState === 'syn') return;
      // the device object is made for a new relay only (deviceKeyOf is its key without building it)
      const name = f.serverName ?? ctx.nameFor(e.device !== undefined && e.device.ip === f.client.ip ? e.device : f.client, f.server.ip);
      const k = `${deviceKeyOf(e, f.client, f.server)}|${name ?? f.server.ip}|${f.server.port}`;
      let r = relays.get(k);
      if (!r) {
        const device = deviceOf(e, f.client, f.server);
        r = { device, name, ips: new Set(), port: f.server.port, app: f.app, kind: 'poll', longest: 0, connections: 0, starts: [], stillOpen: false, frames: [], file: e.file, bytes: 0 };
        prune(relays, 50_000, (x) => x.kind !== 'poll' || x.connections >= 3);
        relays.set(k, r);
      }
      const lived = f.lastTs - f.firstTs;
      r.connections++;
      r.bytes += f.bytesToClient + f.bytesToServer;
      if (r.ips.size < 8) r.ips.add(f.server.ip);
      if (r.starts.length < 5000) r.starts.push(f.firstTs);
      if (r.frames.length < cfg.maxEvidence) r.frames.push(f.firstFrame);
      if (f.app && !r.app) r.app = f.app;
      const broker = f.app === 'mqtt' || f.server.port === 1883 || f.server.port === 8883;
      if (broker && lived >= c.brokerMinSeconds) r.kind = 'broker';
      else if (lived >= c.relayMinSeconds && f.packetsToServer >= 4 && f.packetsToClient >= 4 && r.kind !== 'broker') r.kind = 'relay';
      if (lived > r.longest) {
        r.longest = lived;
        r.stillOpen = e.reason === 'end';
      }
    },
    finish(): Finding[] {
      const out: Finding[] = [];
      for (const r of relays.values()) {
        const kind = r.kind;
        if (kind === 'poll') {
          if (r.connections < c.pollMinConnections) continue;
          const s = [...r.starts].sort((a, b) => a - b);
          const mean = (s[s.length - 1] - s[0]) / (s.length - 1);
          if (!(mean <= c.pollMaxIntervalSeconds)) continue;
        }
        const who = r.device.ip ?? r.device.mac ?? 'a device';
        const ip = [...r.ips][0];
        const dest = r.name ? `${r.name} (${ip}:${r.port})` : `${ip}:${r.port}`;
        const proto = r.app === 'mqtt' || r.port === 1883 ? 'MQTT' : r.port === 8883 ? 'MQTT over TLS' : r.app === 'tls' ? 'TLS' : r.app ? r.app.toUpperCase() : 'TCP';
        const severity: Severity = kind === 'poll' ? 'low' : 'medium';
        const span = r.starts.length > 1 ? Math.max(...r.starts) - Math.min(...r.starts) : 0;
        const title =
          kind === 'poll'
            ? `${who} polls ${dest} ${r.connections} times in ${duration(span)}, so the vendor's cloud can reach it at any time`
            : `${who} holds a ${proto} connection to ${dest} open (${duration(r.longest)}${r.stillOpen ? ', still open at the end of the capture' : ''}): it is reachable from the internet through it`;
        out.push({
          id: 'remote-access',
          severity,
          title,
          device: r.device,
          evidence: {
            kind,
            relay: r.name ?? ip,
            addresses: [...r.ips],
            port: r.port,
            protocol: proto,
            longestSeconds: Math.round(r.longest * 10) / 10,
            stillOpen: r.stillOpen,
            connections: r.connections,
            bytes: r.bytes,
            file: r.file,
            frames: r.frames,
          },
          advice: `Whoever controls ${r.name ?? ip} can reach this device through your router; that is how its app works remotely. If you do not need remote access, block ${r.name ?? ip} for this device (the app will then work only at home).`,
        });
      }
      return out;
    },
  };
}
