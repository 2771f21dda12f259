// Classic libpcap files (https://www.tcpdump.org/manpages/pcap-savefile.5.html,
// draft-ietf-opsawg-pcap): both byte orders, microsecond and nanosecond magics.
import { StreamingReader, MAX_RECORD, type PacketRecordSink } from './capture-format.js';
import { u32, u32le } from './bytes.js';

export const PCAP_MAGICS = [0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1];

export class PcapReader extends StreamingReader {
  private header = false;
  private le = true;
  private nano = false;
  linktype = 1;
  snaplen = 0;

  constructor(sink: PacketRecordSink) {
    super(sink);
  }

  protected sawHeader(): boolean {
    return this.header;
  }

  protected need(d: Uint8Array): number {
    if (!this.header) return 24;
    if (d.length < 16) return 16;
    const incl = this.le ? u32le(d, 8) : u32(d, 8);
    return 16 + Math.min(incl, MAX_RECORD);
  }

  protected parse(d: Uint8Array): number {
    let p = 0;
    const n = d.length;
    if (!this.header) {
      if (n < 24) return 0;
      const m = u32(d, 0);
      if (m === 0xd4c3b2a1 || m === 0x4d3cb2a1) this.le = true;
      else if (m === 0xa1b2c3d4 || m === 0xa1b23c4d) this.le = false;
      else return this.fail('format', `not a pcap file (magic 0x${m.toString(16).padStart(8, '0')})`, 0);
      this.nano = m === 0x4d3cb2a1 || m === 0xa1b23c4d;
      const rd = this.le ? u32le : u32;
      this.snaplen = rd(d, 16);
      // the upper bits of the link-type field carry FCS information (pcap-savefile(5))
      this.linktype = rd(d, 20) & 0x0fffffff;
      this.header = true;
      p = 24;
    }
    const le = this.le;
    const div = this.nano ? 1e9 : 1e6;
    const lt = this.linktype;
    while (p + 16 <= n) {
      const sec = le ? u32le(d, p) : u32(d, p);
      const frac = le ? u32le(d, p + 4) : u32(d, p + 4);
      const incl = le ? u32le(d, p + 8) : u32(d, p + 8);
      const orig = le ? u32le(d, p + 12) : u32(d, p + 12);
      if (incl > MAX_RECORD) return this.fail('format', `pcap record claims ${incl} captured bytes (corrupt record header)`, p);
      if (p + 16 + incl > n) break;
      this.packets++;
      this.sink.onPacket(lt, sec + frac / div, d, p + 16, incl, orig);
      p += 16 + incl;
    }
    return p;
  }
}
