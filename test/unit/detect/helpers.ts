// Builders for hand-made engine events, so each detector can be driven
// directly (no pcap) with exactly the situation a test wants.
import type { Detector, DetectorContext, DeviceRef, Endpoint, EngineEvent, FlowInfo, Finding } from '../../../src/core/engine/events.js';
import { receives } from '../../../src/core/engine/events.js';
import { isLocalAddress } from '../../../src/core/flows/local.js';

export function ep(ip: string, port?: number, mac?: string): Endpoint {
  return { ip, ...(port !== undefined ? { port } : {}), ...(mac ? { mac } : {}), local: isLocalAddress(ip) };
}

export function ctx(names: Record<string, string> = {}): DetectorContext {
  let now = 0;
  return {
    nameFor: (_d, ip) => names[ip],
    deviceFor: () => undefined,
    devices: () => [],
    isLocal: isLocalAddress,
    now: () => now,
    // tests may move the clock
    ...({ setNow: (t: number) => (now = t) } as object),
  } as DetectorContext;
}

let frameNo = 0;
export function base(ts: number, device?: DeviceRef): { ts: number; frame: number; file: string; device?: DeviceRef } {
  return { ts, frame: ++frameNo, file: 'test.pcap', ...(device ? { device } : {}) };
}

let flowNo = 0;
export function flow(client: Endpoint, server: Endpoint, o: Partial<FlowInfo> = {}): FlowInfo {
  return {
    id: ++flowNo,
    proto: 'tcp',
    ipVersion: 4,
    client,
    server,
    firstTs: 0,
    lastTs: 0,
    firstFrame: ++frameNo,
    lastFrame: frameNo,
    packetsToServer: 3,
    packetsToClient: 3,
    bytesToServer: 300,
    bytesToClient: 300,
    payloadToServer: 100,
    payloadToClient: 100,
    tcpState: 'closed',
    ...o,
  };
}

/** Run one detector over events (in order) and return its findings. */
export function run(d: Detector, events: EngineEvent[], c: DetectorContext = ctx()): Finding[] {
  for (const e of events) {
    if (!receives(d.wants, e)) continue;
    d.onEvent(e, c);
  }
  return d.finish(c);
}

export const dev = (ip: string, mac?: string): DeviceRef => ({ ip, ...(mac ? { mac } : {}) });

export function dnsQuery(ts: number, client: Endpoint, server: Endpoint, name: string, type = 1, typeName = 'A', response = false): EngineEvent {
  return {
    kind: 'dns',
    ...base(ts, client.local ? dev(client.ip, client.mac) : undefined),
    id: 1,
    response,
    opcode: 0,
    rcode: 0,
    questions: [{ name, type, typeName, class: 1 }],
    answers: [],
    additional: [],
    size: 30 + name.length,
    transport: 'udp',
    client,
    server,
    partial: false,
  };
}
