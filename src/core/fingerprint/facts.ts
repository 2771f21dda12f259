// The facts the classifier reads, gathered from what discovery (or a
// capture) learnt about one device. Every field is a list of observed values.
import type { Device } from '../model/device.js';
import type { FactField } from './rules.js';

export type DeviceFacts = Partial<Record<Exclude<FactField, 'port'>, string[]>> & { port?: number[] };

function push(f: DeviceFacts, field: Exclude<FactField, 'port'>, v: unknown): void {
  if (typeof v !== 'string') return;
  const s = v.trim();
  if (!s) return;
  const list = (f[field] ??= []);
  if (!list.includes(s)) list.push(s);
}

/** Facts from an active discovery result (ports, banners, mDNS, SSDP, DHCP, names). */
export function factsFromDevice(d: Device): DeviceFacts {
  const f: DeviceFacts = {};
  push(f, 'vendor', d.vendor);
  push(f, 'hostname', d.hostname);
  for (const n of Object.values(d.names ?? {})) push(f, 'hostname', n);
  const ports = d.openPorts.filter((p) => p.proto === 'tcp').map((p) => p.port);
  if (ports.length) f.port = [...new Set(ports)];
  for (const p of d.openPorts) {
    push(f, 'banner', p.banner);
    const det = p.details ?? {};
    push(f, 'httpServer', det.server);
    push(f, 'httpTitle', det.title);
  }
  for (const s of d.services) {
    switch (s.via) {
      case 'mdns':
        push(f, 'mdnsService', s.type);
        push(f, 'mdnsName', s.name);
        if (s.txt) for (const [k, v] of Object.entries(s.txt)) if (/^(md|model|ty|manufacturer|product)$/i.test(k)) push(f, 'mdnsName', v);
        break;
      case 'ssdp':
        push(f, 'ssdpDeviceType', s.type);
        push(f, 'ssdpManufacturer', s.manufacturer);
        push(f, 'ssdpModel', s.model);
        push(f, 'ssdpModel', s.modelNumber);
        push(f, 'ssdpModel', s.friendlyName);
        push(f, 'ssdpServer', s.server);
        break;
      case 'dhcp':
        push(f, 'dhcpVendorClass', s.vendorClass);
        push(f, 'hostname', s.name);
        break;
      case 'http':
        push(f, 'userAgent', s.userAgent);
        break;
      case 'dns':
        push(f, 'dnsQuery', s.name);
        break;
      default:
        push(f, 'hostname', s.name);
    }
  }
  return f;
}
