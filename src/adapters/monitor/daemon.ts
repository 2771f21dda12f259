// The monitor daemon: live capture through the traffic engine in epochs (each
// epoch's devices, destinations, traffic and findings go to the store), periodic
// discovery and UPnP checks, policy checks against MUD profiles, alerts
// (deduplicated, rate-limited, committed before delivery) to the dashboard,
// a webhook and MQTT; retention and a bounded store; clean shutdown.
// Collaborators come in as components so tests run it without a network.
import { EventEmitter } from 'node:events';
import type { AnalyzeResult, Detector } from '../../core/engine/events.js';
import { isLocalAddress } from '../../core/flows/local.js';
import { AlertGate, deviceKey, findingKey, diffDevices, diffMappings, findingAlerts, newDestinations, type Alert, type AlertDraft, type DeviceSighting, type MappingSnap } from '../../core/monitor/alerts.js';
import type { HaDeviceInfo } from '../../core/monitor/present.js';
import type { Finding } from '../../core/model/finding.js';
import { scoreDevice } from '../../core/risk/risk.js';
import { checkTraffic, violationFindings } from '../../core/policy/check.js';
import type { MudProfile } from '../../core/policy/profile.js';
import { toDeviceTraffic } from '../policy/engine.js';
import { CaptureSupervisor, type SupervisorOptions } from './capture.js';
import { DecoderThread, type DecoderThreadOptions } from './decoder-thread.js';
import type { Channel } from './delivery.js';
import { epochSink, type EpochSink } from './epoch.js';
import { isStoreFull, MonitorStore } from './store.js';

export interface DiscoveredDevice extends DeviceSighting {
  openPorts?: Array<{ port: number; service: string }>;
}

export interface MonitorComponents {
  store: MonitorStore;
  /** One discovery run (active scan); omitted = traffic only. */
  discover?: () => Promise<DiscoveredDevice[]>;
  /** The gateway's UPnP mappings now; undefined when no IGD answered. */
  upnp?: () => Promise<MappingSnap[] | undefined>;
  detectors?: () => Detector[];
  channels?: Channel[];
  now?: () => number;
  log?: (msg: string) => void;
}

export interface MonitorInit {
  /** Live capture; omitted = no capture. */
  capture?: SupervisorOptions;
  /**
   * Decode the capture in a worker thread (the daemon's default, see decoder-thread.ts); its detectors
   * come from `worker.detectors` (default: the standard set), not from the `detectors` component.
   * Omitted: decoding runs in this thread with the `detectors` component (tests).
   */
  worker?: Omit<DecoderThreadOptions, 'label' | 'log' | 'onCrash'>;
  discoverIntervalMs?: number;
  upnpIntervalMs?: number;
  /** Engine epoch: how often the live traffic is summarised into the store. */
  epochMs?: number;
  retentionDays?: number;
  maxStoreBytes?: number;
  /** A device unseen this long is gone (default 3 discovery intervals, at least 5 minutes). */
  goneAfterMs?: number;
  /** Destinations seen in a device's first period are learnt silently. */
  learnMs?: number;
  /** Addresses and MACs of the monitor itself (never "new devices"). */
  self?: string[];
  /** Only devices whose IPv4 is in scope count. */
  inScope?: (ip: string) => boolean;
  /** MUD profiles by device MAC, for policy checks. */
  profiles?: Map<string, MudProfile>;
  network?: { lan: string; router: string };
  dedupWindowMs?: number;
  alertsPerMinute?: number;
  alertBurst?: number;
}

export interface MonitorStatus {
  startedAt: string;
  capture: { packets: number; dropped: number; restarts: number; up: boolean } | null;
  lastDiscovery: string | null;
  lastUpnp: string | null;
  suppressedAlerts: number;
  storeFull: boolean;
}

export class Monitor extends EventEmitter {
  readonly store: MonitorStore;
  private readonly gate: AlertGate;
  private readonly now: () => number;
  private readonly log: (m: string) => void;
  private readonly timers: NodeJS.Timeout[] = [];
  private capture: CaptureSupervisor | undefined;
  private epoch: EpochSink | undefined;
  private decoder: DecoderThread | undefined;
  private busy = Promise.resolve();
  private stopping = false;
  private firstMappings = true;
  private baselineDevices: boolean;
  readonly status: MonitorStatus;
  private readonly self: Set<string>;

  constructor(
    private readonly c: MonitorComponents,
    private readonly init: MonitorInit = {},
  ) {
    super();
    this.store = c.store;
    this.now = c.now ?? Date.now;
    this.log = c.log ?? (() => {});
    this.gate = new AlertGate({ dedupWindowMs: init.dedupWindowMs ?? 24 * 3600_000, perMinute: init.alertsPerMinute ?? 30, burst: init.alertBurst ?? 60 });
    const since = new Date(this.now() - (init.dedupWindowMs ?? 24 * 3600_000)).toISOString();
    for (const r of this.store.recentKeys(since)) this.gate.seed(r.key, Date.parse(r.ts));
    // An empty store learns the network first: the first discovery records without alerting.
    this.baselineDevices = this.store.knownDevices().size === 0;
    this.firstMappings = this.store.getSetting('mappings_seen') !== '1';
    this.self = new Set((init.self ?? []).map((s) => s.toLowerCase()));
    this.status = { startedAt: new Date(this.now()).toISOString(), capture: null, lastDiscovery: null, lastUpnp: null, suppressedAlerts: 0, storeFull: false };
    if (init.maxStoreBytes) this.store.setMaxBytes(init.maxStoreBytes);
  }

  /** Serialises the work that writes to the store (epochs, discovery, UPnP, retention). */
  private serial(name: string, fn: () => Promise<void> | void): Promise<void> {
    const p = this.busy.then(async () => {
      if (this.stopping && name !== 'final-epoch') return;
      try {
        await fn();
      } catch (e) {
        if (isStoreFull(e)) await this.onStoreFull(e);
        else this.log(`${name} failed: ${(e as Error).message}`);
      }
    });
    this.busy = p;
    return p;
  }

  start(): void {
    const detectors = this.c.detectors ?? (() => []);
    if (this.init.capture) {
      const iface = this.init.capture.iface;
      if (this.init.worker) {
        this.decoder = new DecoderThread({
          ...this.init.worker,
          label: `live:${iface}`,
          log: this.log,
          onCrash: (info) => {
            void this.serial('decoder-down', async () => {
              await this.raise([
                {
                  kind: 'capture-down',
                  severity: 'high',
                  key: `capture-down:decoder:${this.now()}`,
                  title: `Capture decoding on ${iface} crashed (${info.reason.slice(0, 200)}); this epoch's traffic is lost; restarting in ${Math.round(info.restartInMs / 1000)} s`,
                  device: null,
                  details: { component: 'decoder', ...info },
                },
              ]);
            });
          },
        });
        this.decoder.start();
      } else {
        this.epoch = epochSink(`live:${iface}`, detectors, (m) => this.log(m));
      }
      this.capture = new CaptureSupervisor(
        {
          ...this.init.capture,
          log: this.log,
          onDown: (info) => {
            void this.serial('capture-down', async () => {
              await this.raise([
                {
                  kind: 'capture-down',
                  severity: 'high',
                  key: `capture-down:${this.now()}`,
                  title: `Live capture on ${this.init.capture!.iface} stopped (${info.signal ?? `exit ${info.code}`}); restarting in ${Math.round(info.restartInMs / 1000)} s`,
                  device: null,
                  details: { ...info },
                },
              ]);
            });
          },
        },
        this.decoder ?? this.epoch!,
      );
      this.capture.start();
      this.every(this.init.epochMs ?? 30_000, () => this.serial('epoch', () => this.endEpoch()));
    }
    if (this.c.discover) {
      void this.serial('discovery', () => this.discoverOnce());
      this.every(this.init.discoverIntervalMs ?? 300_000, () => this.serial('discovery', () => this.discoverOnce()));
    }
    if (this.c.upnp) {
      void this.serial('upnp', () => this.upnpOnce());
      this.every(this.init.upnpIntervalMs ?? 300_000, () => this.serial('upnp', () => this.upnpOnce()));
    }
    this.every(60_000, () => this.serial('retention', () => this.retention()));
    this.every(10_000, () => this.serial('redeliver', () => this.redeliver()));
    void this.serial('redeliver', () => this.redeliver());
  }

  private every(ms: number, fn: () => unknown): void {
    const t = setInterval(fn, ms);
    this.timers.push(t);
  }

  captureCounters() {
    return this.capture?.counters;
  }

  /** The decoding worker, when capture is decoded off the main thread. */
  decoderThread(): DecoderThread | undefined {
    return this.decoder;
  }

  /** Waits until the queued work is done (tests). */
  idle(): Promise<void> {
    return this.busy;
  }

  // -------------------------------------------------------------------------
  // alerts

  /** Gate, commit, then deliver. Returns the committed alerts. */
  async raise(drafts: AlertDraft[]): Promise<Alert[]> {
    const now = this.now();
    const pass = drafts.filter((d) => this.gate.admit(d, now) === 'pass');
    this.status.suppressedAlerts = this.gate.suppressed;
    if (pass.length === 0) return [];
    const committed = this.store.insertAlerts(pass, new Date(now));
    for (const a of committed) {
      this.log(`alert ${a.id} [${a.severity}] ${a.kind}: ${a.title}`);
      this.emit('alert', a);
    }
    await this.deliver(committed);
    return committed;
  }

  private haInfo(dev: { mac: string | null; ip: string | null } | null): HaDeviceInfo | undefined {
    if (!dev) return undefined;
    const d = this.store.device(deviceKey(dev));
    if (!d) return undefined;
    return { key: d.key, mac: d.mac, ip: d.ip, hostname: d.hostname, vendor: d.vendor, riskLevel: d.riskLevel, riskScore: d.riskScore, alerts: d.alerts };
  }

  private async deliver(list: Alert[]): Promise<void> {
    for (const ch of this.c.channels ?? []) {
      for (const a of list) {
        try {
          await ch.deliver(a, this.haInfo(a.device));
          this.store.markDelivered(a.id, ch.name, new Date(this.now()));
        } catch (e) {
          this.log(`${ch.name}: alert ${a.id} not delivered yet (${(e as Error).message}); will retry`);
          break; // keep order: the rest waits for the next retry
        }
      }
    }
  }

  /** Sends again what a crash or an unreachable endpoint left undelivered. */
  async redeliver(): Promise<void> {
    for (const ch of this.c.channels ?? []) {
      const pending = this.store.undelivered(ch.name, 100);
      for (const a of pending) {
        try {
          await ch.deliver(a, this.haInfo(a.device));
          this.store.markDelivered(a.id, ch.name, new Date(this.now()));
        } catch {
          break;
        }
      }
    }
  }

  // -------------------------------------------------------------------------
  // devices: discovery and traffic sightings

  private sightingFilter = (s: DeviceSighting): boolean => {
    if (!s.ip && !s.mac) return false;
    if (s.ip && this.self.has(s.ip)) return false;
    if (s.mac && this.self.has(s.mac.toLowerCase())) return false;
    if (s.ip && this.init.inScope && !this.init.inScope(s.ip)) return false;
    return true;
  };

  private async sightings(list: DiscoveredDevice[], opts: { allowGone: boolean }): Promise<void> {
    const now = this.now();
    const seen = list.filter(this.sightingFilter);
    const known = this.store.knownDevices();
    const goneAfterMs = this.init.goneAfterMs ?? Math.max(300_000, 3 * (this.init.discoverIntervalMs ?? 300_000));
    const diff = diffDevices(known, seen, now, { goneAfterMs: opts.allowGone ? goneAfterMs : Number.POSITIVE_INFINITY, baseline: this.baselineDevices, self: this.self });
    const ports = new Map(seen.filter((s) => s.openPorts).map((s) => [deviceKey(s), { openPorts: s.openPorts }]));
    this.store.upsertDevices(diff.changed, ports);
    this.emit('devices');
    await this.raise(diff.alerts);
  }

  async discoverOnce(): Promise<void> {
    if (!this.c.discover) return;
    const t0 = Date.now();
    const list = await this.c.discover();
    this.log(`discovery: ${list.length} devices in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    await this.sightings(list.map((d) => ({ ...d, via: 'discovery' as const })), { allowGone: true });
    this.baselineDevices = false;
    this.status.lastDiscovery = new Date(this.now()).toISOString();
  }

  async upnpOnce(): Promise<void> {
    if (!this.c.upnp) return;
    const cur = await this.c.upnp();
    if (cur === undefined) {
      this.log('upnp: no gateway answered');
      return;
    }
    this.log(`upnp: ${cur.length} mappings`);
    const prev = this.store.mappings();
    const alerts = diffMappings(prev, cur, { baseline: this.firstMappings });
    this.store.replaceMappings(cur, this.now());
    if (this.firstMappings) {
      this.store.setSetting('mappings_seen', '1');
      this.firstMappings = false;
    }
    this.status.lastUpnp = new Date(this.now()).toISOString();
    this.emit('mappings');
    await this.raise(alerts);
  }

  // -------------------------------------------------------------------------
  // traffic epochs

  /** Summarises the traffic since the last epoch into the store and raises what it shows. */
  async endEpoch(): Promise<void> {
    const t0 = performance.now();
    let r: AnalyzeResult | undefined;
    if (this.decoder) r = await this.decoder.rotate();
    else if (this.epoch) r = this.epoch.rotate();
    else return;
    const t1 = performance.now();
    if (r) await this.ingest(r);
    const c = this.capture?.counters;
    if (c) this.status.capture = { ...c };
    // one line per epoch: what it held, what it cost, and the drops so far (bench/monitor-load.mjs reads it)
    if (r && c) this.log(`epoch: ${r.summary.packets} packets, ${r.devices.length} devices, ${r.findings.length} findings; engine ${Math.round(t1 - t0)} ms, store ${Math.round(performance.now() - t1)} ms; captured ${c.packets}, kernel drops ${c.dropped}`);
  }

  /** One engine result (an epoch of live traffic, or a capture file in tests) into the store and alerts. */
  async ingest(r: AnalyzeResult): Promise<void> {
    const now = this.now();
    const local = r.devices.filter((d) => d.mac && d.ip && isLocalAddress(d.ip));
    await this.sightings(
      local.map((d) => ({ mac: d.mac, ip: d.ip, hostname: d.hostname, via: 'traffic' as const })),
      { allowGone: false },
    );
    const known = this.store.knownDevices();
    const minute = Math.floor(now / 60_000);
    const traffic: Array<{ deviceKey: string; minute: number; bytes: number; packets: number }> = [];
    const drafts: AlertDraft[] = [];
    const policy: Finding[] = [];
    for (const d of local) {
      const k = deviceKey(d);
      const kd = known.get(k);
      if (!kd) continue; // filtered out (self, out of scope)
      traffic.push({ deviceKey: k, minute, bytes: d.bytes, packets: d.packets });
      const res = newDestinations({ mac: kd.mac, ip: kd.ip, firstSeen: kd.firstSeen }, this.store.destinationKeys(k), d.destinations, now, {
        learnMs: this.init.learnMs ?? 3600_000,
        isLocal: isLocalAddress,
      });
      drafts.push(...res.alerts);
      this.store.recordDestinations(
        k,
        d.destinations.filter((x) => x.direction === 'out' && !isLocalAddress(x.ip)),
        now,
      );
      const profile = d.mac ? this.init.profiles?.get(d.mac.toLowerCase()) : undefined;
      if (profile && this.init.network) {
        const vs = checkTraffic(profile, toDeviceTraffic(d, r.findings, undefined), this.init.network);
        policy.push(...violationFindings(vs, profile.url));
      }
    }
    this.store.addTraffic(traffic);
    // the monitor's own probes (discovery sweeps, UPnP checks) look like scans from its address: not a finding
    const findings = [...r.findings, ...policy].filter((f) => !(f.device.ip && this.self.has(f.device.ip)) && !(f.device.mac && this.self.has(f.device.mac.toLowerCase())));
    // findings onto their devices, with the risk they make
    const byDev = new Map<string, Finding[]>();
    for (const f of findings) {
      const k = deviceKey(f.device);
      byDev.set(k, [...(byDev.get(k) ?? []), f]);
    }
    const views = new Map(this.store.devices().map((v) => [v.key, v]));
    for (const [k, fs] of byDev) {
      const v = views.get(k);
      if (!v) continue;
      const merged = new Map<string, Finding>();
      for (const f of [...fs, ...v.findings]) {
        const id = findingKey(f);
        if (!merged.has(id)) merged.set(id, f);
      }
      const all = [...merged.values()];
      const risk = scoreDevice({ ip: v.ip ?? '', mac: v.mac, type: v.type ?? 'unknown', findings: all, openPorts: v.openPorts, mappings: [] });
      this.store.setDeviceRisk(k, all, risk);
      for (const ch of this.c.channels ?? []) {
        if (ch.publishDevice) await ch.publishDevice({ key: k, mac: v.mac, ip: v.ip, hostname: v.hostname, vendor: v.vendor, riskLevel: risk.level, riskScore: risk.score, alerts: v.alerts }).catch(() => undefined);
      }
    }
    drafts.push(...findingAlerts(findings));
    this.emit('devices');
    await this.raise(drafts);
  }

  // -------------------------------------------------------------------------
  // retention and a full store

  async retention(): Promise<void> {
    const days = this.init.retentionDays ?? 30;
    const r = this.store.prune(this.now() - days * 86_400_000);
    if (r.alerts + r.traffic + r.destinations + r.devices > 0) this.log(`retention: removed ${JSON.stringify(r)}`);
    this.store.db.pragma('wal_checkpoint(PASSIVE)');
  }

  private async onStoreFull(e: unknown): Promise<void> {
    this.log(`store full: ${(e as Error).message}; pruning the oldest half`);
    const oldest = this.store.oldestMs();
    const cut = oldest === undefined ? this.now() : oldest + (this.now() - oldest) / 2;
    try {
      this.store.prune(cut, { force: false });
      this.store.db.exec('VACUUM');
    } catch {
      /* still full: the next pass tries again */
    }
    if (!this.status.storeFull) {
      this.status.storeFull = true;
      try {
        await this.raise([{ kind: 'store-full', severity: 'high', key: `store-full:${Math.floor(this.now() / 3600_000)}`, title: 'The monitor store is full; old traffic and acknowledged alerts were pruned', device: null, details: {} }]);
      } catch {
        /* a full store cannot even take the alert: it is logged above */
      }
    }
  }

  // -------------------------------------------------------------------------
  // shutdown

  /** Clean shutdown: stop timers and capture, summarise the last epoch, close channels. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    for (const t of this.timers) clearInterval(t);
    await this.capture?.stop();
    if (this.epoch || this.decoder) await this.serial('final-epoch', () => this.endEpoch());
    await this.busy;
    await this.decoder?.close();
    for (const ch of this.c.channels ?? []) await ch.close().catch(() => undefined);
  }
}
