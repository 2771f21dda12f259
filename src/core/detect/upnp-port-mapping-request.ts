// upnp-port-mapping-request: a device asks the gateway to open a port — UPnP
// IGD AddPortMapping/AddAnyPortMapping SOAP calls and NAT-PMP/PCP MAP requests
// seen on the wire. The finding itself (risk by port, "for another device"
// escalation, advice) comes from the UPnP audit's src/core/upnp/observed.ts so
// the live audit and the traffic view say the same thing.
import type { DetectorConfig } from './config.js';
import type { Detector, Endpoint, EngineEvent, EventKind } from '../engine/events.js';
import type { Finding } from '../model/finding.js';
import { findingFromRequestedMapping, type RequestedMapping } from '../upnp/observed.js';
import type { PortRiskTable } from '../upnp/risk.js';
import { deviceOf } from './util.js';

const WANTS: readonly EventKind[] = ['upnp-soap', 'natpmp'];

export function upnpPortMappingRequestDetector(cfg: DetectorConfig, riskTable?: PortRiskTable): Detector {
  const seen = new Map<string, Finding>();

  const add = (req: RequestedMapping, e: EngineEvent & { client: Endpoint; server: Endpoint }) => {
    const k = `${e.client.mac ?? e.client.ip}|${req.via}|${req.protocol}|${req.externalPort}|${req.internalClient ?? ''}|${req.internalPort}`;
    const prev = seen.get(k);
    if (prev) {
      const frames = prev.evidence.frames as number[];
      if (frames.length < cfg.maxEvidence) frames.push(e.frame);
      prev.evidence.requests = (prev.evidence.requests as number) + 1;
      return;
    }
    const f = findingFromRequestedMapping(
      req,
      { srcIp: e.client.ip, ...(e.client.mac ? { srcMac: e.client.mac } : {}), dstIp: e.server.ip, dstPort: e.server.port ?? 0, frames: [e.frame], ts: e.ts },
      riskTable ? { riskTable } : {},
    );
    f.evidence.file = e.file;
    f.evidence.requests = 1;
    // the engine's attribution (MAC + current address) when it names the asker
    f.device = deviceOf(e, e.client, e.server);
    seen.set(k, f);
  };

  return {
    name: 'upnp-port-mapping-request',
    wants: WANTS,
    onEvent(e: EngineEvent): void {
      if (e.kind === 'upnp-soap') {
        if (e.action !== 'AddPortMapping' && e.action !== 'AddAnyPortMapping') return;
        const m = e.mapping;
        if (!m || m.externalPort === undefined || m.internalPort === undefined) return;
        const req: RequestedMapping = { via: 'upnp-soap', action: e.action, protocol: (m.protocol ?? 'TCP').toUpperCase(), externalPort: m.externalPort, internalPort: m.internalPort };
        if (m.internalClient) req.internalClient = m.internalClient;
        if (m.description !== undefined) req.description = m.description.replace(/[\u0000-\u001f]/g, ' ').slice(0, 200);
        if (m.leaseSeconds !== undefined) req.leaseSeconds = m.leaseSeconds;
        add(req, e);
      } else if (e.kind === 'natpmp') {
        // requests only, and only map requests with a lifetime (lifetime 0 deletes a mapping: RFC 6886 §3.4)
        if (e.response || e.internalPort === undefined || (e.lifetime ?? 0) === 0) return;
        if (e.protocol === 'nat-pmp' && (e.opcode === 1 || e.opcode === 2)) {
          const proto = e.opcode === 1 ? 'UDP' : 'TCP';
          add({ via: 'nat-pmp', action: `map-${proto.toLowerCase()}`, protocol: proto, externalPort: e.externalPort ?? 0, internalPort: e.internalPort, internalClient: e.client.ip, leaseSeconds: e.lifetime }, e);
        } else if (e.protocol === 'pcp' && e.opcode === 1) {
          const proto = e.mapProto === 'udp' ? 'UDP' : e.mapProto === 'tcp' ? 'TCP' : 'ANY';
          add({ via: 'pcp', action: 'MAP', protocol: proto, externalPort: e.externalPort ?? 0, internalPort: e.internalPort, internalClient: e.internalIp ?? e.client.ip, leaseSeconds: e.lifetime }, e);
        }
      }
    },
    finish(): Finding[] {
      return [...seen.values()];
    },
  };
}
