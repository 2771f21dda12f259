// plaintext-firmware: a device fetches a firmware or update image (or asks its
// vendor's update service) over plain HTTP, or pulls a file over TFTP. Anyone
// on the path can swap the image. Judged from the request path and extension,
// the response's content type and size, and the first body bytes (uImage,
// TRX, squashfs, ELF, ZIP, gzip, SEAMA, UBI magics).
import type { DetectorConfig } from './config.js';
import type { Detector, DeviceRef, EngineEvent, EventKind, FlowInfo, HttpRequestEvent, HttpResponseEvent } from '../engine/events.js';
import type { Finding, Severity } from '../model/finding.js';
import { Capped, deviceKey, deviceOf, endpointText, printable } from './util.js';

const WANTS: readonly EventKind[] = ['http-request', 'http-response', 'flow-close'];

/** Magic numbers of firmware containers and executables at body offset 0. */
const MAGICS: Array<[string, number[]]> = [
  ['uImage', [0x27, 0x05, 0x19, 0x56]],
  ['TRX', [0x48, 0x44, 0x52, 0x30]], // "HDR0" (Broadcom)
  ['squashfs', [0x68, 0x73, 0x71, 0x73]], // "hsqs" little-endian
  ['squashfs', [0x73, 0x71, 0x73, 0x68]], // "sqsh" big-endian
  ['ELF', [0x7f, 0x45, 0x4c, 0x46]],
  ['ZIP', [0x50, 0x4b, 0x03, 0x04]],
  ['gzip', [0x1f, 0x8b]],
  ['SEAMA', [0x5e, 0xa3, 0xa4, 0x17]], // D-Link
  ['UBI', [0x55, 0x42, 0x49, 0x23]], // "UBI#"
  ['JFFS2', [0x85, 0x19]],
  ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ['PE/EXE', [0x4d, 0x5a]], // "MZ"
  ['CramFS', [0x45, 0x3d, 0xcd, 0x28]],
  ['Android boot', [0x41, 0x4e, 0x44, 0x52, 0x4f, 0x49, 0x44, 0x21]],
];

/** First bytes of the magics above (a one-lookup gate before the full comparison). */
const MAGIC_FIRST = new Set(MAGICS.map(([, m]) => m[0]));

export function firmwareMagic(b: Uint8Array): string | undefined {
  for (const [name, m] of MAGICS) {
    if (b.length < m.length) continue;
    let ok = true;
    for (let i = 0; i < m.length; i++) {
      if (b[i] !== m[i]) {
        ok = false;
        break;
      }
    }
    if (ok) return name;
  }
  return undefined;
}

const IMAGE_EXT = /\.(bin|img|trx|chk|fw|fwu|pkg|bix|ubi|squashfs|rom|hex|dlf|uimage|itb|ipk|deb|apk|exe|elf|iso|tar|tgz|gz|zip|xz|lzma|7z)(?:$|[?#])/i;
const FW_PATH = /(?:^|[/_\-.=?&])(?:firmware|firmwares|fw|fwupdate|fw_update|fota|ota|upgrade|update|updates|autoupdate|flash)(?:$|[/_\-.=?&])/i;
const BINARY_TYPE = /^(?:application\/(?:octet-stream|x-binary|x-firmware|x-msdownload|x-executable|x-elf|x-sharedlib|zip|x-zip-compressed|gzip|x-gzip|x-tar|x-iso9660-image|vnd\.android\.package-archive)|binary\/octet-stream)/i;

export type FirmwareKind = 'image' | 'update-check';

interface Seen {
  kind: FirmwareKind;
  url: string;
  method: string;
  frame: number;
  file: string;
  server: string;
  why: string[];
  status?: number;
  contentType?: string;
  contentLength?: number;
  magic?: string;
}

interface PerDevice {
  device: DeviceRef;
  items: Capped<Seen>;
  image: boolean;
}

const urlOf = (host: string | undefined, server: string, path: string): string => (/^https?:\/\//i.test(path) ? path : `http://${host ?? server}${path.startsWith('/') ? '' : '/'}${path}`);

/** Judge a request alone: an image by extension+path, an update check by path words. */
export function classifyFirmwarePath(path: string): { kind: FirmwareKind; why: string } | undefined {
  if (!FW_PATH.test(path)) return undefined;
  const q = path.search(/[?#]/);
  if (IMAGE_EXT.test(q < 0 ? path : path.slice(0, q))) return { kind: 'image', why: 'firmware path and image extension' };
  return { kind: 'update-check', why: 'firmware/update path' };
}

/** TFTP read requests remembered at once (each waits for its data flow). */
const MAX_TFTP = 10_000;

export function plaintextFirmwareDetector(cfg: DetectorConfig): Detector {
  const byDevice = new Map<string, PerDevice>();
  /** Requests judged firmware-like by their path, by request frame (numbers: no key string per response), so their response can add to them. */
  const judged = new Map<number, { flowId: number; seen: Seen }>();
  /** TFTP read requests per (client,server) pair. */
  const tftp = new Map<string, { device: DeviceRef; flow: FlowInfo; file: string; frame: number }>();
  /** The hosts of those pairs: most UDP flows that close involve none, and are passed over without making a key. */
  const tftpHosts = new Set<string>();

  const add = (device: DeviceRef, s: Seen) => {
    const k = deviceKey(device);
    let d = byDevice.get(k);
    if (!d) {
      d = { device, items: new Capped(cfg.maxEvidence), image: false };
      byDevice.set(k, d);
    }
    // the same URL asked twice is one fact
    if (!d.items.items.some((x) => x.url === s.url && x.kind === s.kind)) d.items.push(s);
    if (s.kind === 'image') d.image = true;
  };

  const onRequest = (e: HttpRequestEvent) => {
    const c = classifyFirmwarePath(e.path);
    if (!c) return;
    const seen: Seen = { kind: c.kind, url: printable(urlOf(e.host, e.server.ip, e.path), 300), method: e.method, frame: e.frame, file: e.file, server: endpointText(e.server), why: [c.why] };
    // the request alone shows the update channel is plain HTTP; its response may upgrade it to an image
    add(deviceOf(e, e.client, e.server), seen);
    if (judged.size > 10_000) judged.clear();
    judged.set(e.frame, { flowId: e.flowId, seen });
  };

  const onResponse = (e: HttpResponseEvent) => {
    if (e.status < 200 || e.status >= 300) return;
    const b = e.bodyPrefix;
    // cheap gates first: most responses are HTML/JSON/images with none of the magic first bytes
    const magic = b.length >= 2 && MAGIC_FIRST.has(b[0]) ? firmwareMagic(b) : undefined;
    const binaryType = e.contentType !== undefined && BINARY_TYPE.test(e.contentType);
    const j = e.request !== undefined && judged.size > 0 ? judged.get(e.request.frame) : undefined;
    // frame numbers restart with each input: the flow tells the request apart
    const prior = j !== undefined && j.flowId === e.flowId ? j.seen : undefined;
    if (magic === undefined && !binaryType && prior === undefined) return;
    const big = (e.contentLength ?? 0) >= cfg.plaintextFirmware.minImageBytes;
    const reqPath = e.request?.path;
    const pathSaysFw = reqPath !== undefined && FW_PATH.test(reqPath);
    const why: string[] = prior ? [...prior.why] : [];
    let kind: FirmwareKind | undefined = prior?.kind;
    if (magic !== undefined && magic !== 'gzip' && magic !== 'PE/EXE') {
      why.push(`${magic} magic in the body`);
      kind = 'image';
    } else if ((binaryType || magic !== undefined) && (pathSaysFw || big)) {
      why.push(binaryType ? `binary content type ${e.contentType}` : `${magic} body`);
      if (big) why.push(`${e.contentLength} bytes`);
      kind = 'image';
    } else if ((binaryType || magic !== undefined) && prior?.kind === 'image') {
      why.push('binary body');
    }
    if (kind === undefined) return;
    const seen: Seen = prior ?? {
      kind,
      url: printable(urlOf(e.request?.host, e.server.ip, reqPath ?? '(unknown path)'), 300),
      method: e.request?.method ?? 'GET',
      frame: e.request?.frame ?? e.frame,
      file: e.file,
      server: endpointText(e.server),
      why,
    };
    seen.kind = kind;
    seen.why = why;
    seen.status = e.status;
    if (e.contentType) seen.contentType = printable(e.contentType, 80);
    if (e.contentLength !== undefined) seen.contentLength = e.contentLength;
    if (magic) seen.magic = magic;
    const device = deviceOf(e, e.client, e.server);
    if (prior) {
      // already listed: the upgrade to an image must show on the device
      const d = byDevice.get(deviceKey(device));
      if (d && kind === 'image') d.image = true;
    } else add(device, seen);
  };

  return {
    name: 'plaintext-firmware',
    wants: WANTS,
    onEvent(e: EngineEvent): void {
      if (e.kind === 'http-request') onRequest(e);
      else if (e.kind === 'http-response') onResponse(e);
      else if (e.kind === 'flow-close') {
        const f = e.flow;
        if (f.proto !== 'udp') return;
        if (f.server.port === 69) {
          if (tftp.size >= MAX_TFTP) {
            // a flood of read requests: start over (the pairs are only the link to the data flow that follows)
            tftp.clear();
            tftpHosts.clear();
          }
          tftp.set(`${f.client.ip}|${f.server.ip}`, { device: deviceOf(e, f.client, f.server), flow: f, file: e.file, frame: f.firstFrame });
          tftpHosts.add(f.client.ip);
          tftpHosts.add(f.server.ip);
          return;
        }
        if (!tftpHosts.has(f.client.ip) || !tftpHosts.has(f.server.ip)) return;
        // TFTP data comes back from another port of the server (RFC 1350 §4): same two hosts, a fresh flow
        const t = tftp.get(`${f.client.ip}|${f.server.ip}`) ?? tftp.get(`${f.server.ip}|${f.client.ip}`);
        const bytes = f.payloadToClient + f.payloadToServer;
        if (t && bytes >= cfg.plaintextFirmware.minTftpBytes) {
          add(t.device, {
            kind: 'image',
            url: `tftp://${t.flow.server.ip}/`,
            method: 'RRQ',
            frame: t.frame,
            file: t.file,
            server: endpointText(t.flow.server),
            why: [`${bytes} bytes over TFTP`],
            contentLength: bytes,
          });
        }
      }
    },
    finish(): Finding[] {
      const out: Finding[] = [];
      for (const d of byDevice.values()) {
        const items = d.items.items;
        const images = items.filter((x) => x.kind === 'image');
        const severity: Severity = d.image ? 'high' : 'medium';
        const first = images[0] ?? items[0];
        const who = d.device.ip ?? d.device.mac ?? 'a device';
        // a binary from a path that does not say firmware (an .exe, an .iso, a dropper) is named for what it is
        const fw = first.kind === 'image' && !FW_PATH.test(first.url.replace(/^[a-z]+:\/\/[^/]+/i, '')) ? `a binary image${first.magic ? ` (${first.magic})` : ''}` : 'firmware';
        const via = first.method === 'RRQ' ? 'TFTP' : 'plain HTTP';
        const title = d.image ? `${who} downloads ${fw} over ${via} (${first.url})` : `${who} checks for firmware updates over plain HTTP (${first.url})`;
        out.push({
          id: 'plaintext-firmware',
          severity,
          title,
          device: d.device,
          evidence: {
            file: first.file,
            frames: items.map((x) => x.frame),
            requests: items.map((x) => ({
              kind: x.kind,
              method: x.method,
              url: x.url,
              server: x.server,
              frame: x.frame,
              ...(x.status !== undefined ? { status: x.status } : {}),
              ...(x.contentType ? { contentType: x.contentType } : {}),
              ...(x.contentLength !== undefined ? { contentLength: x.contentLength } : {}),
              ...(x.magic ? { magic: x.magic } : {}),
              why: x.why,
            })),
            ...(d.items.total > items.length ? { moreRequests: d.items.total - items.length } : {}),
          },
          advice: d.image
            ? 'Anyone on the path can swap this update for a malicious one: keep the device on an isolated network and ask the vendor for signed updates over HTTPS.'
            : 'The device asks for updates over plain HTTP, so an attacker on the path can feed it a fake answer: isolate it and ask the vendor for signed updates over HTTPS.',
        });
      }
      return out;
    },
  };
}
