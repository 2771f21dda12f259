// For the traffic engine: a device seen asking the gateway to open a port.
// Detectors call these pure functions with an HTTP request they decoded
// (AddPortMapping / AddAnyPortMapping SOAP to the IGD control URL) or a
// datagram sent to UDP 5351 (NAT-PMP or PCP MAP), and get back a
// `upnp-port-mapping-request` finding, or undefined when it is not one.
import type { Finding, Severity } from '../model/finding.js';
import { severityRank } from '../model/finding.js';
import { decodePortRequest } from './natpmp.js';
import { rateMapping, type PortRiskTable } from './risk.js';
import { child, parseXml, text } from './xml.js';

export interface ObservedContext {
  srcIp: string;
  srcMac?: string;
  dstIp: string;
  dstPort: number;
  /** Packet/frame numbers that carry the request (evidence). */
  frames?: number[];
  /** Capture timestamp, seconds. */
  ts?: number;
}

export interface ObservedOptions {
  /** The port risk table (adapters/probe/upnp-risk-table.ts loads data/port-risk.json); without it the finding is 'medium'. */
  riskTable?: PortRiskTable;
}

export interface RequestedMapping {
  via: 'upnp-soap' | 'nat-pmp' | 'pcp';
  action: string;
  protocol: 'TCP' | 'UDP' | string;
  externalPort: number;
  internalPort: number;
  internalClient?: string;
  description?: string;
  leaseSeconds?: number;
}

const MAX_BODY = 64 * 1024;
const ACTIONS = ['AddPortMapping', 'AddAnyPortMapping'] as const;

function num(v: string | undefined): number | undefined {
  return v !== undefined && /^\s*\d{1,10}\s*$/.test(v) ? Number(v) : undefined;
}

/** Pull the AddPortMapping arguments out of a SOAP body (XML first, a tolerant scan when the body is cut short). */
export function parseAddPortMappingSoap(body: string | Uint8Array, soapAction?: string): RequestedMapping | undefined {
  const raw = typeof body === 'string' ? body.slice(0, MAX_BODY) : new TextDecoder('utf-8', { fatal: false }).decode(body.subarray(0, MAX_BODY));
  const headerAction = soapAction ? /#\s*(\w+)"?\s*$/.exec(soapAction)?.[1] : undefined;
  let action = ACTIONS.find((a) => a === headerAction);
  let args: Record<string, string> = {};
  const doc = parseXml(raw);
  if (doc.ok) {
    const bodyNode = child(child(doc.value, 'Envelope'), 'Body');
    for (const a of ACTIONS) {
      const node = child(bodyNode, a);
      if (node !== undefined) {
        action = a;
        for (const k of ['NewRemoteHost', 'NewExternalPort', 'NewProtocol', 'NewInternalPort', 'NewInternalClient', 'NewEnabled', 'NewPortMappingDescription', 'NewLeaseDuration']) {
          const t = text(node, k, 256);
          if (t !== undefined) args[k] = t;
        }
        break;
      }
    }
  }
  if (!doc.ok || Object.keys(args).length === 0) {
    // A truncated capture still names the action and most arguments.
    const m = /<(?:\w+:)?(AddPortMapping|AddAnyPortMapping)\b/.exec(raw);
    if (m) action = m[1] as (typeof ACTIONS)[number];
    if (!action) return undefined;
    args = {};
    for (const k of ['NewExternalPort', 'NewProtocol', 'NewInternalPort', 'NewInternalClient', 'NewPortMappingDescription', 'NewLeaseDuration']) {
      const v = new RegExp(`<(?:\\w+:)?${k}>([^<]{0,256})</`).exec(raw)?.[1];
      if (v !== undefined) args[k] = v.trim();
    }
  }
  if (!action) return undefined;
  const externalPort = num(args.NewExternalPort);
  const internalPort = num(args.NewInternalPort);
  if (externalPort === undefined || internalPort === undefined || externalPort > 65535 || internalPort > 65535) return undefined;
  const protocol = (args.NewProtocol ?? '').toUpperCase() || 'TCP';
  const r: RequestedMapping = { via: 'upnp-soap', action, protocol, externalPort, internalPort };
  if (args.NewInternalClient) r.internalClient = args.NewInternalClient;
  if (args.NewPortMappingDescription !== undefined) r.description = args.NewPortMappingDescription.replace(/[\u0000-\u001f]/g, ' ');
  const lease = num(args.NewLeaseDuration);
  if (lease !== undefined) r.leaseSeconds = lease;
  return r;
}

/**
 * For a detector that already decoded the request (src/core/decode/soap.ts,
 * natpmp.ts): the same finding from the decoded fields.
 */
export function findingFromRequestedMapping(req: RequestedMapping, ctx: ObservedContext, opts: ObservedOptions = {}): Finding {
  return toFinding(req, ctx, opts);
}

function toFinding(req: RequestedMapping, ctx: ObservedContext, opts: ObservedOptions): Finding {
  let severity: Severity = 'medium';
  let service = 'unknown';
  if (opts.riskTable && (req.protocol === 'TCP' || req.protocol === 'UDP') && req.internalPort > 0) {
    const risk = rateMapping(opts.riskTable, req.protocol, req.externalPort, req.internalPort);
    service = risk.service;
    severity = risk.matchedOn === 'default' ? 'medium' : risk.severity;
  }
  const forOther = req.internalClient !== undefined && req.internalClient !== '' && req.internalClient !== ctx.srcIp;
  // Asking for a hole to someone else's address is what malware does to expose a neighbour.
  if (forOther && severityRank(severity) < severityRank('high')) severity = 'high';
  const label = service === 'unknown' ? `port ${req.internalPort}` : service;
  return {
    id: 'upnp-port-mapping-request',
    severity,
    title: forOther
      ? `${ctx.srcIp} asked the gateway to open ${req.protocol} ${req.externalPort} to another device (${req.internalClient}:${req.internalPort}, ${label})`
      : `${ctx.srcIp} asked the gateway to open ${req.protocol} ${req.externalPort} to itself (${label}) via ${req.via === 'upnp-soap' ? 'UPnP' : req.via === 'nat-pmp' ? 'NAT-PMP' : 'PCP'}`,
    device: { ip: ctx.srcIp, ...(ctx.srcMac ? { mac: ctx.srcMac } : {}) },
    evidence: {
      ...req,
      service,
      gateway: `${ctx.dstIp}:${ctx.dstPort}`,
      ...(ctx.frames ? { frames: ctx.frames } : {}),
      ...(ctx.ts !== undefined ? { ts: ctx.ts } : {}),
    },
    advice: forOther
      ? 'A device opening ports for another one is a sign of compromise: check it, and enable UPnP secure mode or turn UPnP off.'
      : `Check whether ${ctx.srcIp} needs to be reachable from the internet on this port; if not, deny it UPnP or turn UPnP off.`,
  };
}

/** An HTTP request to an IGD control URL. Returns undefined for anything that is not AddPortMapping/AddAnyPortMapping. */
export function findingFromSoapRequest(
  req: { body: string | Uint8Array; soapAction?: string; method?: string },
  ctx: ObservedContext,
  opts: ObservedOptions = {},
): Finding | undefined {
  if (req.method !== undefined && req.method.toUpperCase() !== 'POST') return undefined;
  const parsed = parseAddPortMappingSoap(req.body, req.soapAction);
  return parsed ? toFinding(parsed, ctx, opts) : undefined;
}

/** A UDP payload sent to port 5351. NAT-PMP map (opcodes 1/2) or PCP MAP; lifetime 0 (a delete) is not a request to open. */
export function findingFromNatPmpRequest(payload: Uint8Array, ctx: ObservedContext, opts: ObservedOptions = {}): Finding | undefined {
  const d = decodePortRequest(payload);
  if (!d.ok) return undefined;
  const v = d.value;
  if (v.kind === 'natpmp-map' && v.lifetime > 0) {
    return toFinding({ via: 'nat-pmp', action: `map-${v.protocol.toLowerCase()}`, protocol: v.protocol, externalPort: v.suggestedExternalPort, internalPort: v.internalPort, internalClient: ctx.srcIp, leaseSeconds: v.lifetime }, ctx, opts);
  }
  if (v.kind === 'pcp-map' && v.lifetime > 0) {
    return toFinding(
      { via: 'pcp', action: 'MAP', protocol: typeof v.protocol === 'number' ? `proto-${v.protocol}` : v.protocol, externalPort: v.suggestedExternalPort, internalPort: v.internalPort, internalClient: v.clientIp, leaseSeconds: v.lifetime },
      ctx,
      opts,
    );
  }
  return undefined;
}
