// pcapng (draft-ietf-opsawg-pcapng): several sections (each with its own byte
// order), several interfaces per section with their own link type and
// timestamp resolution, enhanced/simple/obsolete packet blocks. Unknown block
// types are skipped, as the format intends.
import { StreamingReader, MAX_RECORD, type PacketRecordSink } from './capture-format.js';
import { u16, u16le, u32, u32le } from './bytes.js';

export const PCAPNG_SHB = 0x0a0d0d0a;

interface Iface {
  linktype: number;
  snaplen: number;
  /** Timestamp units per second. */
  units: number;
  offset: number;
}

export class PcapngReader extends StreamingReader {
  private le = true;
  private inSection = false;
  private ifaces: Iface[] = [];
  /** Sections seen (for messages). */
  sections = 0;

  constructor(sink: PacketRecordSink) {
    super(sink);
  }

  protected sawHeader(): boolean {
    return this.sections > 0;
  }

  /** Link types of the interfaces of the current section. */
  get linktypes(): number[] {
    return this.ifaces.map((i) => i.linktype);
  }

  protected need(d: Uint8Array): number {
    if (d.length < 12) return 12;
    let le = this.le;
    if (u32(d, 0) === PCAPNG_SHB) le = u32(d, 8) === 0x4d3c2b1a;
    const len = le ? u32le(d, 4) : u32(d, 4);
    return len < 12 || len > MAX_RECORD ? 12 : len;
  }

  protected parse(d: Uint8Array): number {
    let p = 0;
    const n = d.length;
    while (p + 12 <= n) {
      const rawType = u32(d, p);
      if (rawType === PCAPNG_SHB) {
        const bom = u32(d, p + 8);
        if (bom === 0x1a2b3c4d) this.le = false;
        else if (bom === 0x4d3c2b1a) this.le = true;
        else return this.fail('format', `pcapng section header with bad byte-order magic 0x${bom.toString(16)}`, p);
      } else if (!this.inSection) {
        return this.fail('format', 'not a pcapng file (first block is not a section header)', p);
      }
      const le = this.le;
      const type = le ? u32le(d, p) : rawType;
      const len = le ? u32le(d, p + 4) : u32(d, p + 4);
      if (len < 12 || len % 4 !== 0 || len > MAX_RECORD) {
        return this.fail('format', `pcapng block of type 0x${type.toString(16)} has invalid length ${len}`, p);
      }
      if (p + len > n) break;
      const trailer = le ? u32le(d, p + len - 4) : u32(d, p + len - 4);
      if (trailer !== len) {
        return this.fail('format', `pcapng block of type 0x${type.toString(16)}: trailing length ${trailer} differs from ${len}`, p);
      }
      const body = p + 8;
      const bodyEnd = p + len - 4;
      switch (type) {
        case PCAPNG_SHB: {
          if (len < 28) return this.fail('format', 'pcapng section header too short', p);
          const major = le ? u16le(d, body + 4) : u16(d, body + 4);
          const minor = le ? u16le(d, body + 6) : u16(d, body + 6);
          if (major !== 1) {
            return this.fail('format', `unsupported pcapng section header version ${major}.${minor}`, p);
          }
          this.inSection = true;
          this.sections++;
          this.ifaces = [];
          break;
        }
        case 1: {
          // Interface Description Block
          if (bodyEnd - body < 8) return this.fail('format', 'pcapng interface description block too short', p);
          const iface: Iface = {
            linktype: le ? u16le(d, body) : u16(d, body),
            snaplen: le ? u32le(d, body + 4) : u32(d, body + 4),
            units: 1e6,
            offset: 0,
          };
          this.readIfaceOptions(d, body + 8, bodyEnd, iface);
          this.ifaces.push(iface);
          break;
        }
        case 6: {
          // Enhanced Packet Block
          if (bodyEnd - body < 20) return this.fail('format', 'pcapng enhanced packet block too short', p);
          const id = le ? u32le(d, body) : u32(d, body);
          const iface = this.ifaces[id];
          if (!iface) return this.fail('format', `pcapng packet refers to interface ${id} but the section has ${this.ifaces.length}`, p);
          const hi = le ? u32le(d, body + 4) : u32(d, body + 4);
          const lo = le ? u32le(d, body + 8) : u32(d, body + 8);
          const cap = le ? u32le(d, body + 12) : u32(d, body + 12);
          const orig = le ? u32le(d, body + 16) : u32(d, body + 16);
          if (body + 20 + cap > bodyEnd) return this.fail('format', `pcapng packet of ${cap} bytes overflows its block`, p);
          this.packets++;
          this.sink.onPacket(iface.linktype, (hi * 4294967296 + lo) / iface.units + iface.offset, d, body + 20, cap, orig);
          break;
        }
        case 3: {
          // Simple Packet Block: interface 0, no timestamp
          const iface = this.ifaces[0];
          if (!iface) return this.fail('format', 'pcapng simple packet block without an interface', p);
          if (bodyEnd - body < 4) return this.fail('format', 'pcapng simple packet block too short', p);
          const orig = le ? u32le(d, body) : u32(d, body);
          let cap = Math.min(orig, bodyEnd - body - 4);
          if (iface.snaplen > 0) cap = Math.min(cap, iface.snaplen);
          this.packets++;
          this.sink.onPacket(iface.linktype, 0, d, body + 4, cap, orig);
          break;
        }
        case 2: {
          // obsolete Packet Block
          if (bodyEnd - body < 20) return this.fail('format', 'pcapng packet block too short', p);
          const id = le ? u16le(d, body) : u16(d, body);
          const iface = this.ifaces[id];
          if (!iface) return this.fail('format', `pcapng packet refers to interface ${id} but the section has ${this.ifaces.length}`, p);
          const hi = le ? u32le(d, body + 4) : u32(d, body + 4);
          const lo = le ? u32le(d, body + 8) : u32(d, body + 8);
          const cap = le ? u32le(d, body + 12) : u32(d, body + 12);
          const orig = le ? u32le(d, body + 16) : u32(d, body + 16);
          if (body + 20 + cap > bodyEnd) return this.fail('format', `pcapng packet of ${cap} bytes overflows its block`, p);
          this.packets++;
          this.sink.onPacket(iface.linktype, (hi * 4294967296 + lo) / iface.units + iface.offset, d, body + 20, cap, orig);
          break;
        }
        default:
          // name resolution, statistics, decryption secrets, custom blocks: not needed
          break;
      }
      p += len;
    }
    return p;
  }

  private readIfaceOptions(d: Uint8Array, p: number, end: number, iface: Iface): void {
    const le = this.le;
    while (p + 4 <= end) {
      const code = le ? u16le(d, p) : u16(d, p);
      const olen = le ? u16le(d, p + 2) : u16(d, p + 2);
      const v = p + 4;
      if (code === 0 || v + olen > end) return;
      if (code === 9 && olen >= 1) {
        // if_tsresol: MSB clear = negative power of 10, set = negative power of 2
        const r = d[v];
        const units = r & 0x80 ? 2 ** (r & 0x7f) : 10 ** r;
        if (Number.isFinite(units) && units > 0) iface.units = units;
      } else if (code === 14 && olen >= 8) {
        const hi = le ? u32le(d, v + 4) : u32(d, v);
        const lo = le ? u32le(d, v) : u32(d, v + 4);
        iface.offset = (hi | 0) * 4294967296 + lo;
      }
      p = v + ((olen + 3) & ~3);
    }
  }
}
