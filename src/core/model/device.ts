// The Device: what every layer knows about one host on the LAN, in the shape
// CONTRACT.md promises for `discover --json` (ip, mac, vendor, hostname, type,
// openPorts, services). Other commands (audit, upnp, analyze) reuse it and may
// add fields; the contract fields never change meaning.

export const DEVICE_TYPES = [
  'camera',
  'dvr',
  'plug',
  'hub',
  'speaker',
  'tv',
  'printer',
  'console',
  'router',
  'computer',
  'phone',
  'nas',
  'sensor',
  'appliance',
  'unknown',
] as const;
export type DeviceType = (typeof DEVICE_TYPES)[number];

export function isDeviceType(s: string): s is DeviceType {
  return (DEVICE_TYPES as readonly string[]).includes(s);
}

export interface OpenPort {
  port: number;
  proto: 'tcp' | 'udp';
  /** Service name: from the banner when it said what it is, else from the port table. */
  service: string;
  /** First line(s) the service volunteered or answered to a harmless probe; '' when silent. */
  banner: string;
  /** Structured facts the banner probe read (e.g. { server, title } for HTTP, { returnCode } for MQTT). */
  details?: Record<string, unknown>;
}

/** Where a service / name was learnt. */
export type ServiceVia = 'mdns' | 'ssdp' | 'dhcp' | 'rdns' | 'http' | 'dns' | 'capture';

/** One announced or observed service; `via` says where, the rest depends on it. */
export interface DeviceService {
  via: ServiceVia;
  /** mDNS service type (_http._tcp), SSDP device type (urn:...:MediaServer:1), DHCP option... */
  type?: string;
  name?: string;
  port?: number;
  manufacturer?: string;
  model?: string;
  modelNumber?: string;
  firmwareVersion?: string;
  friendlyName?: string;
  location?: string;
  server?: string;
  txt?: Record<string, string>;
  [key: string]: unknown;
}

/** One piece of evidence behind a type guess: which fact matched which fingerprint rule. */
export interface TypeEvidence {
  /** Fingerprint rule id from data/fingerprints.json. */
  rule: string;
  /** The fact's kind: oui, hostname, dhcpVendorClass, mdnsService, ssdpDeviceType, banner, port... */
  field: string;
  /** The observed value that matched. */
  value: string;
  type: DeviceType;
  weight: number;
}

export interface Device {
  ip: string;
  mac: string | null;
  /** Organisation from the IEEE OUI registry, or null; see `macLocallyAdministered`. */
  vendor: string | null;
  hostname: string | null;
  type: DeviceType;
  openPorts: OpenPort[];
  services: DeviceService[];
  /** Extra: the evidence that decided `type`, strongest first. */
  typeEvidence?: TypeEvidence[];
  /** Extra: confidence of the type guess in [0, 1]. */
  typeConfidence?: number;
  /** Extra: a randomised / locally administered MAC carries no vendor. */
  macLocallyAdministered?: boolean;
  /** Extra: IPv6 neighbour addresses seen for the same MAC. */
  ipv6?: string[];
  /** Extra: every name source that gave a hostname, e.g. { dhcp: 'cam', rdns: 'cam.lan', mdns: 'cam.local' }. */
  names?: Record<string, string>;
  /** Extra: true for the host iotguard itself runs on. */
  self?: boolean;
  /** Extra: inventory timestamps (ISO 8601) when the store was used. */
  firstSeen?: string;
  lastSeen?: string;
  /** Extra: earlier addresses of the same MAC, from the store. */
  previousIps?: string[];
}

/** Sort by IPv4 address numerically (then by MAC) so output is stable. */
export function compareDevices(a: Pick<Device, 'ip' | 'mac'>, b: Pick<Device, 'ip' | 'mac'>): number {
  const n = (ip: string) => {
    const p = ip.split('.').map(Number);
    return p.length === 4 && p.every((x) => Number.isInteger(x)) ? ((p[0] * 256 + p[1]) * 256 + p[2]) * 256 + p[3] : Number.MAX_SAFE_INTEGER;
  };
  return n(a.ip) - n(b.ip) || a.ip.localeCompare(b.ip) || (a.mac ?? '').localeCompare(b.mac ?? '');
}
