// Turning what the UPnP audit saw into Findings (CONTRACT.md ids
// upnp-enabled, upnp-mapping, upnp-wan-exposed, upnp-permissive), each with
// the evidence that proves it and one sentence of advice.
import type { Finding, Severity } from '../model/finding.js';
import type { AttributedDevice } from './attribution.js';
import type { MappingRisk } from './risk.js';
import type { PortMapping } from './soap.js';

export interface GatewayRef {
  location: string;
  host: string;
  mac?: string;
  server?: string;
  friendlyName?: string;
  controlUrl?: string;
  serviceType?: string;
}

export function upnpEnabledFinding(g: GatewayRef, evidence: { mappingCount: number; natPmp?: boolean; pcp?: boolean; externalIp?: string }): Finding {
  return {
    id: 'upnp-enabled',
    severity: 'medium',
    title: `The router at ${g.host} lets any LAN device open ports to the internet (UPnP IGD${evidence.natPmp ? ' and NAT-PMP' : ''})`,
    device: { ip: g.host, ...(g.mac ? { mac: g.mac } : {}) },
    evidence: {
      location: g.location,
      server: g.server,
      friendlyName: g.friendlyName,
      controlUrl: g.controlUrl,
      serviceType: g.serviceType,
      externalIp: evidence.externalIp,
      mappings: evidence.mappingCount,
      natPmp: evidence.natPmp,
      pcp: evidence.pcp,
    },
    advice:
      'Turn UPnP off in the router unless a device really needs it (see "what breaks if I disable UPnP"); malware on any device can use it to expose itself or its neighbours.',
  };
}

export function upnpMappingFinding(g: GatewayRef, m: PortMapping, risk: MappingRisk, device: AttributedDevice | undefined): Finding {
  const arrow = `${m.protocol} ${m.externalPort} → ${m.internalClient}:${m.internalPort}`;
  const advice =
    risk.impact === 'dangerous'
      ? `Remove this mapping (iotguard upnp --remove ${m.protocol.toLowerCase()}/${m.externalPort}) and turn UPnP off or deny it for ${m.internalClient}; ${risk.service} must not be reachable from the internet.`
      : risk.impact === 'needed' || risk.impact === 'optional'
        ? `Expected for ${risk.service}; if you turn UPnP off, ${risk.instead}.`
        : `Check what ${m.internalClient} serves on ${m.protocol} ${m.internalPort}; if you do not use it from outside, remove the mapping.`;
  return {
    id: 'upnp-mapping',
    severity: risk.severity,
    title: `The internet reaches ${risk.service === 'unknown' ? `port ${m.internalPort}` : risk.service} on ${device?.hostname ?? device?.vendor ?? m.internalClient} (${arrow})`,
    device: { ip: m.internalClient, ...(device?.mac ? { mac: device.mac } : {}) },
    evidence: {
      gateway: g.host,
      protocol: m.protocol,
      externalPort: m.externalPort,
      internalClient: m.internalClient,
      internalPort: m.internalPort,
      description: m.description,
      leaseSeconds: m.leaseSeconds,
      enabled: m.enabled,
      remoteHost: m.remoteHost,
      service: risk.service,
      why: risk.why,
      vendor: device?.vendor,
    },
    advice,
  };
}

export interface WanExposure {
  target: string;
  /** SSDP answers to an M-SEARCH sent to the WAN address. */
  ssdp: Array<{ from: string; st?: string; location?: string; server?: string }>;
  /** Description URLs that answered over HTTP from the WAN side. */
  descriptions: string[];
  /** Control URLs that executed a harmless SOAP action (GetExternalIPAddress) from the WAN side. */
  soap: Array<{ controlUrl: string; action: string; result: string }>;
  natPmp: boolean;
}

export function upnpWanExposedFinding(e: WanExposure): Finding | undefined {
  const exposed = e.ssdp.length > 0 || e.descriptions.length > 0 || e.soap.length > 0 || e.natPmp;
  if (!exposed) return undefined;
  const control = e.soap.length > 0 || e.natPmp;
  const severity: Severity = control ? 'critical' : 'high';
  const what = [
    e.ssdp.length > 0 ? 'SSDP' : '',
    e.descriptions.length > 0 ? 'its UPnP description' : '',
    e.soap.length > 0 ? 'UPnP control (SOAP)' : '',
    e.natPmp ? 'NAT-PMP' : '',
  ].filter(Boolean);
  return {
    id: 'upnp-wan-exposed',
    severity,
    title: `The router answers ${what.join(', ')} on its internet side (${e.target})`,
    device: { ip: e.target },
    evidence: { target: e.target, ssdp: e.ssdp, descriptions: e.descriptions, soap: e.soap, natPmp: e.natPmp },
    advice: control
      ? 'Anyone on the internet can open ports into your network: update the router firmware and turn UPnP off until the vendor fixes it.'
      : 'Your router helps DDoS attackers (SSDP amplification) and shows its model to scanners: update its firmware or turn UPnP off.',
  };
}

export interface PermissiveEvidence {
  gateway: string;
  /** Our own address, the one the mapping request came from. */
  requester: string;
  /** The other LAN address we asked the gateway to forward to. */
  otherClient: string;
  protocol: 'TCP' | 'UDP';
  externalPort: number;
  leaseSeconds: number;
  accepted: boolean;
  /** Whether the test mapping was deleted again (always attempted at once). */
  removed: boolean;
  fault?: string;
  /** Mapping to our own address, as a control: if even this fails the test says nothing. */
  selfMapping?: { accepted: boolean; removed: boolean; fault?: string };
}

export function upnpPermissiveFinding(g: GatewayRef, e: PermissiveEvidence): Finding | undefined {
  if (!e.accepted) return undefined;
  return {
    id: 'upnp-permissive',
    severity: 'high',
    title: `The router at ${g.host} let ${e.requester} open a port for another device (${e.otherClient})`,
    device: { ip: g.host, ...(g.mac ? { mac: g.mac } : {}) },
    evidence: { ...e, location: g.location, controlUrl: g.controlUrl },
    advice:
      'Enable secure mode in the router\'s UPnP settings (miniupnpd: secure_mode=yes) so a device can only map ports to itself, or turn UPnP off: today one infected device can expose all the others.',
  };
}
