// NAT-PMP (RFC 6886) and PCP (RFC 6887) on UDP 5351: the packets we send to
// learn whether the gateway speaks them, and decoders for answers and for
// mapping requests seen on the wire. Every read is length-checked first.

export const NATPMP_PORT = 5351;

/** RFC 6886 §3.2: version 0, opcode 0 = external address request. */
export function natPmpExternalAddressRequest(): Uint8Array {
  return Uint8Array.of(0, 0);
}

/**
 * RFC 6887 §7.1 + §14.1: a PCP ANNOUNCE request (opcode 0) — harmless, creates
 * nothing, and a PCP server answers it. The client address is IPv4-mapped.
 */
export function pcpAnnounceRequest(clientIp: string): Uint8Array {
  const b = new Uint8Array(24);
  b[0] = 2; // version
  b[1] = 0; // R=0 request, opcode ANNOUNCE
  // lifetime 0 (bytes 4-7); client address at 8..23
  b[18] = 0xff;
  b[19] = 0xff;
  const parts = clientIp.split('.').map(Number);
  for (let i = 0; i < 4; i++) b[20 + i] = (parts[i] ?? 0) & 255;
  return b;
}

export type NatPmpAnswer =
  | { kind: 'natpmp-external-address'; resultCode: number; epoch: number; externalIp: string }
  | { kind: 'natpmp-mapping'; protocol: 'TCP' | 'UDP'; resultCode: number; epoch: number; internalPort: number; externalPort: number; lifetime: number }
  | { kind: 'natpmp-other'; version: number; opcode: number; resultCode: number }
  | { kind: 'pcp'; version: number; opcode: number; resultCode: number; lifetime: number; epoch: number };

const u16 = (b: Uint8Array, o: number) => (b[o] << 8) | b[o + 1];
const u32 = (b: Uint8Array, o: number) => ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;

/** Decode a datagram that came back from UDP 5351. */
export function decodeGatewayAnswer(b: Uint8Array): { ok: true; value: NatPmpAnswer } | { ok: false; reason: string } {
  if (b.byteLength < 4) return { ok: false, reason: 'truncated' };
  const version = b[0];
  const opcode = b[1];
  if (version === 0) {
    if ((opcode & 0x80) === 0) return { ok: false, reason: 'a request, not an answer' };
    const resultCode = u16(b, 2);
    if (opcode === 128) {
      if (b.byteLength < 12) return resultCode !== 0 ? { ok: true, value: { kind: 'natpmp-other', version, opcode, resultCode } } : { ok: false, reason: 'truncated' };
      return { ok: true, value: { kind: 'natpmp-external-address', resultCode, epoch: u32(b, 4), externalIp: `${b[8]}.${b[9]}.${b[10]}.${b[11]}` } };
    }
    if (opcode === 129 || opcode === 130) {
      if (b.byteLength < 16) return { ok: true, value: { kind: 'natpmp-other', version, opcode, resultCode } };
      return {
        ok: true,
        value: { kind: 'natpmp-mapping', protocol: opcode === 129 ? 'UDP' : 'TCP', resultCode, epoch: u32(b, 4), internalPort: u16(b, 8), externalPort: u16(b, 10), lifetime: u32(b, 12) },
      };
    }
    return { ok: true, value: { kind: 'natpmp-other', version, opcode, resultCode } };
  }
  if (version === 2) {
    // RFC 6887 §7.2: response header is 24 bytes, R bit set, result code in byte 3.
    if (b.byteLength < 24) return { ok: false, reason: 'truncated' };
    if ((opcode & 0x80) === 0) return { ok: false, reason: 'a request, not an answer' };
    return { ok: true, value: { kind: 'pcp', version, opcode: opcode & 0x7f, resultCode: b[3], lifetime: u32(b, 4), epoch: u32(b, 8) } };
  }
  return { ok: false, reason: `unknown version ${version}` };
}

export type PortRequest =
  | { kind: 'natpmp-map'; protocol: 'TCP' | 'UDP'; internalPort: number; suggestedExternalPort: number; lifetime: number }
  | { kind: 'natpmp-external-address' }
  | { kind: 'pcp-map'; protocol: 'TCP' | 'UDP' | number; internalPort: number; suggestedExternalPort: number; lifetime: number; clientIp: string; suggestedExternalIp: string }
  | { kind: 'pcp-other'; opcode: number };

function ipFrom16(b: Uint8Array, o: number): string {
  const mapped = b.subarray(o, o + 10).every((x) => x === 0) && b[o + 10] === 0xff && b[o + 11] === 0xff;
  if (mapped) return `${b[o + 12]}.${b[o + 13]}.${b[o + 14]}.${b[o + 15]}`;
  const parts: string[] = [];
  for (let i = 0; i < 16; i += 2) parts.push(u16(b, o + i).toString(16));
  return parts.join(':');
}

/** Decode a datagram sent TO UDP 5351 (what a device asks the gateway for). */
export function decodePortRequest(b: Uint8Array): { ok: true; value: PortRequest } | { ok: false; reason: string } {
  if (b.byteLength < 2) return { ok: false, reason: 'truncated' };
  const version = b[0];
  const opcode = b[1];
  if (version === 0) {
    if (opcode === 0) return { ok: true, value: { kind: 'natpmp-external-address' } };
    if (opcode === 1 || opcode === 2) {
      // RFC 6886 §3.3: 12-byte mapping request.
      if (b.byteLength < 12) return { ok: false, reason: 'truncated' };
      return { ok: true, value: { kind: 'natpmp-map', protocol: opcode === 1 ? 'UDP' : 'TCP', internalPort: u16(b, 4), suggestedExternalPort: u16(b, 6), lifetime: u32(b, 8) } };
    }
    return { ok: false, reason: `unknown NAT-PMP opcode ${opcode}` };
  }
  if (version === 2) {
    if (b.byteLength < 24) return { ok: false, reason: 'truncated' };
    if ((opcode & 0x80) !== 0) return { ok: false, reason: 'a response, not a request' };
    const op = opcode & 0x7f;
    const lifetime = u32(b, 4);
    const clientIp = ipFrom16(b, 8);
    if (op === 1) {
      // RFC 6887 §11.1: MAP opcode body is 36 bytes after the 24-byte header.
      if (b.byteLength < 60) return { ok: false, reason: 'truncated' };
      const proto = b[36];
      return {
        ok: true,
        value: {
          kind: 'pcp-map',
          protocol: proto === 6 ? 'TCP' : proto === 17 ? 'UDP' : proto,
          internalPort: u16(b, 40),
          suggestedExternalPort: u16(b, 42),
          lifetime,
          clientIp,
          suggestedExternalIp: ipFrom16(b, 44),
        },
      };
    }
    return { ok: true, value: { kind: 'pcp-other', opcode: op } };
  }
  return { ok: false, reason: `unknown version ${version}` };
}

/** A NAT-PMP mapping request, for tests and for the traffic engine's fixtures. */
export function natPmpMapRequest(protocol: 'TCP' | 'UDP', internalPort: number, externalPort: number, lifetime: number): Uint8Array {
  const b = new Uint8Array(12);
  b[1] = protocol === 'UDP' ? 1 : 2;
  b[4] = internalPort >> 8;
  b[5] = internalPort & 255;
  b[6] = externalPort >> 8;
  b[7] = externalPort & 255;
  new DataView(b.buffer).setUint32(8, lifetime >>> 0);
  return b;
}
