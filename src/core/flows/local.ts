// Which addresses are "the LAN" for attribution: private (RFC 1918), CGNAT
// (RFC 6598), link-local, loopback, IPv6 ULA and link-local. Multicast and
// broadcast are local too but never a device's own address.

/** IPv4 as a 32-bit number, signed or unsigned (the bits are what count). */
export function isLocalUnicast4(n: number): boolean {
  const a = n >>> 24;
  if (a === 10 || a === 127) return true;
  const b = (n >>> 16) & 255;
  if (a === 192 && b === 168) return true;
  if (a === 172 && b >= 16 && b <= 31) return true;
  if (a === 169 && b === 254) return true;
  if (a === 100 && b >= 64 && b <= 127) return true;
  return false;
}

export function isMulticastOrBroadcast4(n: number): boolean {
  const a = n >>> 24;
  return (a >= 224 && a <= 239) || (n | 0) === -1;
}

/** IPv6 at b[o..o+16): ULA fc00::/7, link-local fe80::/10, loopback ::1. */
export function isLocalUnicast6(b: Uint8Array, o: number): boolean {
  const x = b[o];
  if ((x & 0xfe) === 0xfc) return true;
  if (x === 0xfe && (b[o + 1] & 0xc0) === 0x80) return true;
  if (x === 0) {
    for (let i = 1; i < 15; i++) if (b[o + i] !== 0) return false;
    return b[o + 15] === 1;
  }
  return false;
}

export const isMulticast6 = (b: Uint8Array, o: number): boolean => b[o] === 0xff;

/**
 * Text form: a group or broadcast address, never one device's own: IPv4
 * 224.0.0.0/4, 255.x.x.x, a `.255` (subnet broadcast), or IPv6 multicast
 * ff00::/8 (any case). Read from the characters: detectors ask it for every
 * event, and it stood as three regular-expression tests before.
 */
export function isGroupAddress(ip: string): boolean {
  if ((ip.charCodeAt(0) | 0x20) === 0x66 && (ip.charCodeAt(1) | 0x20) === 0x66) return true;
  if (ip.charCodeAt(0) === 0x32 && ip.charCodeAt(3) === 0x2e) {
    const c1 = ip.charCodeAt(1);
    const c2 = ip.charCodeAt(2);
    if ((c1 === 0x32 && c2 >= 0x34 && c2 <= 0x39) || (c1 === 0x33 && c2 >= 0x30 && c2 <= 0x39) || (c1 === 0x35 && c2 === 0x35)) return true;
  }
  return ip.endsWith('.255');
}

/** Text form: local unicast, multicast or broadcast (i.e. not an internet host). */
export function isLocalAddress(ip: string): boolean {
  if (ip.includes(':')) {
    const l = ip.toLowerCase();
    return l.startsWith('fc') || l.startsWith('fd') || /^fe[89ab]/.test(l) || l.startsWith('ff') || l === '::1' || l.startsWith('::ffff:') && isLocalAddress(l.slice(7));
  }
  let n = 0;
  let part = 0;
  let dots = 0;
  for (let i = 0; i < ip.length; i++) {
    const c = ip.charCodeAt(i);
    if (c === 46) {
      n = n * 256 + part;
      part = 0;
      dots++;
    } else if (c >= 48 && c <= 57) part = part * 10 + (c - 48);
    else return false;
  }
  if (dots !== 3) return false;
  n = (n * 256 + part) >>> 0;
  return isLocalUnicast4(n) || isMulticastOrBroadcast4(n);
}
