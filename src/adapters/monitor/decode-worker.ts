// The monitor's decoding thread (a node:worker_threads worker started by
// DecoderThread in decoder-thread.ts). It owns the pcap stream parsing and the
// epoch traffic engine with its detectors, so the main thread only moves
// tcpdump's bytes and writes the store. Messages are handled in order: a
// rotate sees every chunk posted before it. Counts go back with every
// answer, every `ackBytes` of input (the main thread's flow control) and at
// least every `ackMs` while input arrives.
import { parentPort, workerData } from 'node:worker_threads';
import type { PacketRecordSink } from '../../core/decode/capture-format.js';
import { CaptureReader } from '../../core/decode/capture-reader.js';
import type { Detector } from '../../core/engine/events.js';
import { epochSink } from './epoch.js';
import type { FromDecoder, ToDecoder, DecoderInit } from './decoder-thread.js';

const port = parentPort;
if (!port) throw new Error('decode-worker.ts runs only as a worker thread');
const init = workerData as DecoderInit;

const mod = (await import(init.detectors.module)) as Record<string, unknown>;
const factory = mod[init.detectors.name];
if (typeof factory !== 'function') throw new Error(`${init.detectors.module} has no function ${init.detectors.name}`);
// loads and validates the data files now: a bad table fails the start, not the first epoch
const detectors = await (factory as () => Promise<() => Detector[]>)();
if (typeof detectors !== 'function') throw new Error(`${init.detectors.module}: ${init.detectors.name}() does not resolve to a detector factory`);
detectors();

const post = (m: FromDecoder): void => port.postMessage(m);
const epoch = epochSink(init.label, detectors, (message) => post({ t: 'warning', message }));
let packets = 0;
let bytes = 0;
let sinceAck = 0;
let ackTimer: NodeJS.Timeout | undefined;
const ack = (): void => {
  if (ackTimer) clearTimeout(ackTimer);
  ackTimer = undefined;
  sinceAck = 0;
  post({ t: 'ack', bytes, packets });
};
let reader: CaptureReader | undefined;
let failed: string | undefined;
const counting: PacketRecordSink = {
  onPacket(lt, ts, b, off, cap, wire) {
    packets++;
    epoch.onPacket(lt, ts, b, off, cap, wire);
  },
};

port.on('message', (m: ToDecoder) => {
  switch (m.t) {
    case 'begin':
      // a new tcpdump run: a new pcap stream with its own global header
      reader = new CaptureReader(counting);
      failed = undefined;
      break;
    case 'chunk': {
      const u = new Uint8Array(m.buf, 0, m.len);
      bytes += u.length;
      sinceAck += u.length;
      if (reader && failed === undefined) {
        const err = reader.feed(u);
        if (err) {
          failed = `${err.message} (after ${reader.packets} packets)`;
          post({ t: 'stream-error', message: failed, bytes, packets });
        }
      }
      // by volume at high rates (flow control), by time at low ones (the packet counter on /metrics)
      if (sinceAck >= init.ackBytes) ack();
      else ackTimer ??= setTimeout(ack, init.ackMs);
      break;
    }
    case 'end': {
      let error = failed;
      if (reader && error === undefined) {
        const err = reader.end();
        if (err) error = err.message;
      }
      reader = undefined;
      if (ackTimer) clearTimeout(ackTimer);
      ackTimer = undefined;
      sinceAck = 0;
      post({ t: 'ended', error, bytes, packets });
      break;
    }
    case 'rotate': {
      const result = epoch.rotate();
      sinceAck = 0;
      post({ t: 'epoch', id: m.id, result, bytes, packets });
      break;
    }
  }
});
post({ t: 'ready', bytes, packets });
