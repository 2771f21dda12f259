// NAT-PMP / PCP presence on UDP 5351 (RFC 6886 §3.2, RFC 6887 §8.1): ask the
// gateway for its external address (NAT-PMP) and send a PCP ANNOUNCE; neither
// creates anything. Retries per RFC 6886 (250 ms, doubling), bounded.
import dgram from 'node:dgram';
import { decodeGatewayAnswer, natPmpExternalAddressRequest, NATPMP_PORT, pcpAnnounceRequest } from '../../core/upnp/natpmp.js';

export interface NatPmpPresence {
  gateway: string;
  natPmp: boolean;
  externalIp?: string;
  natPmpResult?: number;
  pcp: boolean;
  pcpResult?: number;
}

export async function probeNatPmp(gateway: string, opts: { bindAddress?: string; port?: number; tries?: number } = {}): Promise<NatPmpPresence> {
  const port = opts.port ?? NATPMP_PORT;
  const tries = Math.max(1, Math.min(opts.tries ?? 3, 6));
  const out: NatPmpPresence = { gateway, natPmp: false, pcp: false };
  const sock = dgram.createSocket('udp4');
  sock.on('error', () => {});
  let done: () => void = () => {};
  let gotNatPmp = false;
  let gotPcp = false;
  sock.on('message', (msg, rinfo) => {
    if (rinfo.address !== gateway) return;
    const a = decodeGatewayAnswer(msg);
    if (!a.ok) return;
    const v = a.value;
    if (v.kind === 'natpmp-external-address' || (v.kind === 'natpmp-other' && v.opcode === 128)) {
      // Any version-0 answer proves a NAT-PMP speaker. Result 1 (unsupported version) is
      // also how a NAT-PMP-only server refuses our PCP packet (RFC 6887 §9): it ends the PCP wait.
      if (v.resultCode === 1) gotPcp = true;
      else gotNatPmp = true;
      out.natPmp = true;
      if (v.kind === 'natpmp-external-address' && v.resultCode === 0) {
        out.natPmpResult = 0;
        out.externalIp = v.externalIp;
      } else if (out.natPmpResult === undefined) out.natPmpResult = v.resultCode;
    } else if (v.kind === 'pcp') {
      gotPcp = true;
      out.pcp = true;
      out.pcpResult = v.resultCode;
    }
    // A NAT-PMP-only server answers our PCP packet with version 0 "unsupported version" (RFC 6887 §9).
    if (gotNatPmp && gotPcp) done();
  });
  try {
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind({ address: opts.bindAddress, port: 0 }, () => resolve());
    });
    const local = sock.address().address;
    const natpmp = Buffer.from(natPmpExternalAddressRequest());
    const pcp = Buffer.from(pcpAnnounceRequest(local === '0.0.0.0' ? (opts.bindAddress ?? '0.0.0.0') : local));
    let wait = 250;
    for (let i = 0; i < tries && !(gotNatPmp && gotPcp); i++) {
      if (!gotNatPmp) sock.send(natpmp, port, gateway);
      if (!gotPcp) sock.send(pcp, port, gateway);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, wait);
        done = () => {
          clearTimeout(t);
          resolve();
        };
      });
      wait *= 2;
    }
  } catch {
    // unreachable gateway or no permission to bind: report absence
  } finally {
    sock.close();
  }
  return out;
}
