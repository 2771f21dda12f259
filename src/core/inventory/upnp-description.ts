// The UPnP device description (UPnP Device Architecture 2.0 §2.3): what a
// device says it is (manufacturer, model, firmware). Pure: text in. Apart from
// ssdp.ts so the XML parser loads only once a description is fetched.
import { XMLParser } from '../upnp/fxp.js';

export interface UpnpDeviceDescription {
  deviceType?: string;
  friendlyName?: string;
  manufacturer?: string;
  modelName?: string;
  modelNumber?: string;
  modelDescription?: string;
  firmwareVersion?: string;
  serialNumber?: string;
  udn?: string;
  /** Device types of embedded devices (deviceList), e.g. WANDevice. */
  embedded: string[];
}

const parser = new XMLParser({ ignoreAttributes: true, removeNSPrefix: true, parseTagValue: false, trimValues: true, processEntities: true });

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() ? v.trim().slice(0, 256) : typeof v === 'number' ? String(v) : undefined);

/** Parses a UPnP device description; undefined when it is not one. Never throws. */
export function parseDeviceDescription(xml: string): UpnpDeviceDescription | undefined {
  let doc: Record<string, unknown>;
  try {
    doc = parser.parse(xml.slice(0, 256 * 1024)) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const root = doc?.root as Record<string, unknown> | undefined;
  const dev = root?.device as Record<string, unknown> | undefined;
  if (!dev || typeof dev !== 'object') return undefined;
  const out: UpnpDeviceDescription = { embedded: [] };
  const set = (k: keyof UpnpDeviceDescription, v: unknown) => {
    const s = str(v);
    if (s !== undefined) (out as unknown as Record<string, unknown>)[k] = s;
  };
  set('deviceType', dev.deviceType);
  set('friendlyName', dev.friendlyName);
  set('manufacturer', dev.manufacturer);
  set('modelName', dev.modelName);
  set('modelNumber', dev.modelNumber);
  set('modelDescription', dev.modelDescription);
  set('serialNumber', dev.serialNumber);
  set('udn', dev.UDN);
  // No standard field for firmware: vendors use these.
  set('firmwareVersion', dev.firmwareVersion ?? dev.softwareVersion ?? dev.swVersion ?? dev.firmware ?? dev.fwVersion);
  const walk = (d: Record<string, unknown>, depth: number) => {
    if (depth > 4) return;
    const list = (d.deviceList as Record<string, unknown> | undefined)?.device;
    for (const sub of Array.isArray(list) ? list : list ? [list] : []) {
      if (!sub || typeof sub !== 'object') continue;
      const t = str((sub as Record<string, unknown>).deviceType);
      if (t && out.embedded.length < 32) out.embedded.push(t);
      walk(sub as Record<string, unknown>, depth + 1);
    }
  };
  walk(dev, 0);
  return out;
}
