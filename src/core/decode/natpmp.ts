// NAT-PMP (RFC 6886 §3) and PCP (RFC 6887 §7, §11) on UDP 5351: a device
// asking the gateway to open a port, and the gateway's answers.
import { ipv4At, ipv6At, u16, u32, type Decoded, fail } from './bytes.js';

export interface PortMap {
  protocol: 'nat-pmp' | 'pcp';
  response: boolean;
  /** NAT-PMP: 0 external address, 1 map UDP, 2 map TCP. PCP: 0 ANNOUNCE, 1 MAP, 2 PEER. */
  opcode: number;
  /** Mapped transport ('tcp'/'udp') when the opcode maps a port. */
  mapProto?: 'tcp' | 'udp' | 'any';
  internalPort?: number;
  /** Suggested (request) or assigned (response) external port. */
  externalPort?: number;
  lifetime?: number;
  /** Response result code. */
  resultCode?: number;
  /** PCP: the internal address the mapping is for (may differ from the sender: a third-party request). */
  internalIp?: string;
  /** Response to opcode 0: the gateway's external address. */
  externalIp?: string;
}

function pcpAddr(b: Uint8Array, o: number): string {
  // RFC 6887 §5: IPv4 addresses are carried as IPv4-mapped IPv6
  let mapped = true;
  for (let i = 0; i < 10; i++) if (b[o + i] !== 0) mapped = false;
  if (mapped && b[o + 10] === 0xff && b[o + 11] === 0xff) return ipv4At(b, o + 12);
  return ipv6At(b, o);
}

const protoName = (p: number): 'tcp' | 'udp' | 'any' | undefined => (p === 6 ? 'tcp' : p === 17 ? 'udp' : p === 0 ? 'any' : undefined);

export function decodePortMap(b: Uint8Array, o: number, end: number): Decoded<PortMap> {
  const n = end - o;
  if (n < 2) return fail('truncated');
  const ver = b[o];
  if (ver === 0) {
    const op = b[o + 1];
    const response = op >= 128;
    const opcode = op & 0x7f;
    const pm: PortMap = { protocol: 'nat-pmp', response, opcode };
    if (opcode === 1 || opcode === 2) pm.mapProto = opcode === 1 ? 'udp' : 'tcp';
    if (!response) {
      if (opcode === 0) return { ok: true, value: pm };
      if (opcode > 2) return fail('bad-opcode');
      if (n < 12) return fail('truncated');
      pm.internalPort = u16(b, o + 4);
      pm.externalPort = u16(b, o + 6);
      pm.lifetime = u32(b, o + 8);
      return { ok: true, value: pm };
    }
    if (n < 8) return fail('truncated');
    pm.resultCode = u16(b, o + 2);
    if (opcode === 0) {
      if (n >= 12) pm.externalIp = ipv4At(b, o + 8);
    } else if (opcode === 1 || opcode === 2) {
      if (n < 16) return fail('truncated');
      pm.internalPort = u16(b, o + 8);
      pm.externalPort = u16(b, o + 10);
      pm.lifetime = u32(b, o + 12);
    } else return fail('bad-opcode');
    return { ok: true, value: pm };
  }
  if (ver === 2) {
    if (n < 24) return fail('truncated');
    const response = (b[o + 1] & 0x80) !== 0;
    const opcode = b[o + 1] & 0x7f;
    const pm: PortMap = { protocol: 'pcp', response, opcode, lifetime: u32(b, o + 4) };
    if (response) pm.resultCode = b[o + 3];
    else pm.internalIp = pcpAddr(b, o + 8);
    // MAP and PEER opcode data: nonce(12) proto(1) rsvd(3) internal port(2) external port(2) external address(16)
    if ((opcode === 1 || opcode === 2) && n >= 24 + 36) {
      const d = o + 24;
      pm.mapProto = protoName(b[d + 12]);
      pm.internalPort = u16(b, d + 16);
      pm.externalPort = u16(b, d + 18);
      pm.externalIp = pcpAddr(b, d + 20);
    }
    return { ok: true, value: pm };
  }
  return fail('bad-version');
}
