// The IGD client: fetch and parse the device description, then SOAP actions
// on its WANIPConnection / WANPPPConnection control URL — external address,
// status, every port mapping (IGDv1 index walk and IGDv2 listing), add and
// delete. Each call is bounded in time and size; enumeration is bounded in
// count and total time, so a hostile gateway yields a partial, flagged result.
import { ErrorCodes, IotguardError } from '../../core/model/errors.js';
import { parseDescription, type IgdDescription, type UpnpService } from '../../core/upnp/description.js';
import { buildSoapRequest, mappingKey, parsePortListing, parseSoapResponse, toPortMapping, UPNP_ERRORS, type PortMapping } from '../../core/upnp/soap.js';
import { httpRequest } from './upnp-http.js';

export interface IgdInit {
  localAddress?: string;
  /** Per request deadline, ms. */
  timeoutMs?: number;
  maxDescriptionBytes?: number;
  maxSoapBytes?: number;
}

const DEFAULTS = { timeoutMs: 5000, maxDescriptionBytes: 256 * 1024, maxSoapBytes: 2 * 1024 * 1024 };

export async function fetchDescription(location: string, init: IgdInit = {}): Promise<IgdDescription> {
  const res = await httpRequest(location, {
    localAddress: init.localAddress,
    timeoutMs: init.timeoutMs ?? DEFAULTS.timeoutMs,
    maxBytes: init.maxDescriptionBytes ?? DEFAULTS.maxDescriptionBytes,
  });
  if (res.status !== 200) throw new IotguardError(ErrorCodes.UPNP_BAD_RESPONSE, `description ${location} answered HTTP ${res.status}`);
  const d = parseDescription(res.body, location);
  if (!d.ok) throw new IotguardError(ErrorCodes.UPNP_BAD_RESPONSE, `description ${location}: ${d.reason}`);
  return d.value;
}

export class SoapFaultError extends IotguardError {
  readonly upnpCode: number | undefined;
  constructor(action: string, code: number | undefined, description: string) {
    super(ErrorCodes.UPNP_SOAP_FAULT, `${action} failed: UPnP error ${code ?? '?'} ${description}`, { details: { upnpCode: code, action } });
    this.upnpCode = code;
  }
}

export interface EnumerationResult {
  mappings: PortMapping[];
  /** Why the walk stopped: the IGD said no more entries, we hit the count or time cap, or it misbehaved. */
  stoppedBy: 'end' | 'cap' | 'deadline' | 'fault' | 'error' | 'unsupported';
  detail?: string;
  invalidEntries: number;
  /** Entries the IGD returned twice under different indexes (dropped). */
  duplicates: number;
}

export interface IgdClient {
  readonly service: UpnpService;
  call(action: string, args?: Array<[string, string | number]>): Promise<Record<string, string>>;
  getExternalIp(): Promise<string>;
  getStatusInfo(): Promise<{ connectionStatus: string; lastConnectionError?: string; uptime?: number }>;
  listMappingsGeneric(opts: { max: number; deadlineMs: number }): Promise<EnumerationResult>;
  listMappingsV2(opts: { max: number; deadlineMs: number }): Promise<EnumerationResult>;
  addPortMapping(m: { protocol: 'TCP' | 'UDP'; externalPort: number; internalClient: string; internalPort: number; description: string; leaseSeconds: number }): Promise<void>;
  deletePortMapping(protocol: 'TCP' | 'UDP', externalPort: number, remoteHost?: string): Promise<void>;
}

export function createIgdClient(service: UpnpService, init: IgdInit = {}): IgdClient {
  const timeoutMs = init.timeoutMs ?? DEFAULTS.timeoutMs;
  const maxBytes = init.maxSoapBytes ?? DEFAULTS.maxSoapBytes;

  async function call(action: string, args: Array<[string, string | number]> = []): Promise<Record<string, string>> {
    const req = buildSoapRequest(service.serviceType, action, args);
    const res = await httpRequest(service.controlUrl, {
      method: 'POST',
      body: req.body,
      headers: { 'content-type': 'text/xml; charset="utf-8"', soapaction: req.soapAction },
      localAddress: init.localAddress,
      timeoutMs,
      maxBytes,
    });
    const parsed = parseSoapResponse(res.body, action);
    if (parsed.ok) return parsed.values;
    if (parsed.fault) throw new SoapFaultError(action, parsed.fault.code, parsed.fault.description);
    throw new IotguardError(ErrorCodes.UPNP_BAD_RESPONSE, `${action}: HTTP ${res.status}, ${parsed.reason}`);
  }

  const endOfList = (e: unknown) =>
    e instanceof SoapFaultError && (e.upnpCode === UPNP_ERRORS.ARRAY_INDEX_INVALID || e.upnpCode === UPNP_ERRORS.NO_SUCH_ENTRY || e.upnpCode === UPNP_ERRORS.INVALID_ARGS);

  return {
    service,
    call,
    async getExternalIp() {
      const v = await call('GetExternalIPAddress');
      return (v.NewExternalIPAddress ?? '').slice(0, 64);
    },
    async getStatusInfo() {
      const v = await call('GetStatusInfo');
      const out: { connectionStatus: string; lastConnectionError?: string; uptime?: number } = { connectionStatus: (v.NewConnectionStatus ?? '').slice(0, 64) };
      if (v.NewLastConnectionError) out.lastConnectionError = v.NewLastConnectionError.slice(0, 64);
      if (v.NewUptime && /^\d{1,10}$/.test(v.NewUptime)) out.uptime = Number(v.NewUptime);
      return out;
    },
    async listMappingsGeneric({ max, deadlineMs }) {
      const started = Date.now();
      const seen = new Set<string>();
      const mappings: PortMapping[] = [];
      let invalidEntries = 0;
      let duplicates = 0;
      // IGD v1 §2.4.14: walk NewPortMappingIndex from 0 until SpecifiedArrayIndexInvalid (713).
      for (let i = 0; ; i++) {
        if (i >= max) return { mappings, stoppedBy: 'cap', detail: `stopped after ${max} entries`, invalidEntries, duplicates };
        if (Date.now() - started > deadlineMs) return { mappings, stoppedBy: 'deadline', detail: `stopped after ${deadlineMs} ms at index ${i}`, invalidEntries, duplicates };
        let v: Record<string, string>;
        try {
          v = await call('GetGenericPortMappingEntry', [['NewPortMappingIndex', i]]);
        } catch (e) {
          if (endOfList(e)) return { mappings, stoppedBy: 'end', invalidEntries, duplicates };
          const detail = e instanceof Error ? e.message : String(e);
          return { mappings, stoppedBy: e instanceof SoapFaultError ? 'fault' : 'error', detail, invalidEntries, duplicates };
        }
        const m = toPortMapping(v);
        if (!m.ok) {
          invalidEntries++;
          continue;
        }
        const k = mappingKey(m.value);
        if (seen.has(k)) {
          duplicates++;
          continue;
        }
        seen.add(k);
        mappings.push(m.value);
      }
    },
    async listMappingsV2({ max, deadlineMs }) {
      const started = Date.now();
      const mappings: PortMapping[] = [];
      let invalidEntries = 0;
      let truncated = false;
      for (const protocol of ['TCP', 'UDP'] as const) {
        if (Date.now() - started > deadlineMs) return { mappings, stoppedBy: 'deadline', invalidEntries, duplicates: 0 };
        let v: Record<string, string>;
        try {
          v = await call('GetListOfPortMappings', [
            ['NewStartPort', 0],
            ['NewEndPort', 65535],
            ['NewProtocol', protocol],
            ['NewManage', 1],
            // One more than we keep, so a listing cut at exactly `max` shows as truncated.
            ['NewNumberOfPorts', Math.max(1, Math.min(max + 1, 65535))],
          ]);
        } catch (e) {
          if (e instanceof SoapFaultError && e.upnpCode === UPNP_ERRORS.PORT_MAPPING_NOT_FOUND) continue;
          if (e instanceof SoapFaultError && (e.upnpCode === 401 || e.upnpCode === 602)) return { mappings, stoppedBy: 'unsupported', detail: e.message, invalidEntries, duplicates: 0 };
          return { mappings, stoppedBy: e instanceof SoapFaultError ? 'fault' : 'error', detail: e instanceof Error ? e.message : String(e), invalidEntries, duplicates: 0 };
        }
        const listing = parsePortListing(v.NewPortListing ?? '', max - mappings.length);
        if (!listing.ok) return { mappings, stoppedBy: 'error', detail: `GetListOfPortMappings: ${listing.reason}`, invalidEntries, duplicates: 0 };
        invalidEntries += listing.invalid;
        truncated ||= listing.truncated;
        mappings.push(...listing.mappings);
      }
      return { mappings, stoppedBy: truncated ? 'cap' : 'end', invalidEntries, duplicates: 0 };
    },
    async addPortMapping(m) {
      await call('AddPortMapping', [
        ['NewRemoteHost', ''],
        ['NewExternalPort', m.externalPort],
        ['NewProtocol', m.protocol],
        ['NewInternalPort', m.internalPort],
        ['NewInternalClient', m.internalClient],
        ['NewEnabled', 1],
        ['NewPortMappingDescription', m.description],
        ['NewLeaseDuration', m.leaseSeconds],
      ]);
    },
    async deletePortMapping(protocol, externalPort, remoteHost = '') {
      await call('DeletePortMapping', [
        ['NewRemoteHost', remoteHost],
        ['NewExternalPort', externalPort],
        ['NewProtocol', protocol],
      ]);
    },
  };
}
