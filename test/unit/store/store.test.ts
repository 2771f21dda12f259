import { mkdtempSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultStorePath, openStore } from '../../../src/adapters/store/db.js';
import { listInventory, saveDiscovery } from '../../../src/adapters/store/inventory.js';
import { migrate } from '../../../src/adapters/store/migrate.js';
import type { Device } from '../../../src/core/model/device.js';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'iotguard-store-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const dev = (over: Partial<Device>): Device => ({
  ip: '192.168.1.20',
  mac: '18:80:25:00:00:20',
  vendor: 'Hikvision',
  hostname: null,
  type: 'camera',
  openPorts: [],
  services: [],
  ...over,
});
const scan = (t: string) => ({ kind: 'discover', startedAt: t, finishedAt: t, params: {} });

describe('store', () => {
  it('opens in WAL mode with the migrations applied once', () => {
    const path = join(tmp(), 'sub', 'iotguard.db');
    const s = openStore(path);
    expect(s.db.pragma('journal_mode', { simple: true })).toBe('wal');
    const ids = (s.db.prepare('SELECT id FROM schema_migrations').all() as Array<{ id: number }>).map((r) => r.id);
    expect(ids).toContain(1);
    expect(migrate(s.db, [{ id: 1, name: 'inventory', up: 'SELECT 1' }])).toEqual([]);
    s.close();
    const again = openStore(path);
    expect((again.db.prepare('SELECT count(*) n FROM schema_migrations').get() as { n: number }).n).toBe(ids.length);
    again.close();
  });

  it('applies a later migration added by another area, and refuses duplicate ids', () => {
    const s = openStore(':memory:');
    const applied = migrate(s.db, [{ id: 101, name: 'findings', up: 'CREATE TABLE findings (id INTEGER PRIMARY KEY, device_id INTEGER REFERENCES devices(id))' }]);
    expect(applied).toEqual([101]);
    expect(() => migrate(s.db, [{ id: 5, name: 'a', up: '' }, { id: 5, name: 'b', up: '' }])).toThrow(/share id 5/);
    s.close();
  });

  it('rolls back a failing migration', () => {
    const s = openStore(':memory:');
    expect(() => migrate(s.db, [{ id: 400, name: 'bad', up: 'CREATE TABLE x (a); CREATE TABLE x (a);' }])).toThrow(/migration 400/);
    expect(s.db.prepare("SELECT name FROM sqlite_master WHERE name = 'x'").get()).toBeUndefined();
    s.close();
  });

  it('keeps a device identity across an IP change, with first/last seen', () => {
    const s = openStore(':memory:');
    const [a] = saveDiscovery(s, [dev({ openPorts: [{ port: 23, proto: 'tcp', service: 'telnet', banner: 'login:' }] })], scan('2026-01-01T00:00:00.000Z'));
    expect(a.firstSeen).toBe('2026-01-01T00:00:00.000Z');
    const [b] = saveDiscovery(s, [dev({ ip: '192.168.1.99', type: 'unknown' })], scan('2026-01-02T00:00:00.000Z'));
    expect(b.firstSeen).toBe('2026-01-01T00:00:00.000Z');
    expect(b.lastSeen).toBe('2026-01-02T00:00:00.000Z');
    expect(b.previousIps).toEqual(['192.168.1.20']);
    // an unknown guess does not erase an earlier known type
    expect(b.type).toBe('camera');
    const inv = listInventory(s);
    expect(inv).toHaveLength(1);
    expect(inv[0].ip).toBe('192.168.1.99');
    expect(inv[0].openPorts.map((p) => p.port)).toEqual([23]);
    s.close();
  });

  it('adopts a MAC-less row once the MAC is learnt', () => {
    const s = openStore(':memory:');
    saveDiscovery(s, [dev({ mac: null, vendor: null })], scan('2026-01-01T00:00:00.000Z'));
    saveDiscovery(s, [dev({})], scan('2026-01-02T00:00:00.000Z'));
    const inv = listInventory(s);
    expect(inv).toHaveLength(1);
    expect(inv[0].mac).toBe('18:80:25:00:00:20');
    expect(inv[0].firstSeen).toBe('2026-01-01T00:00:00.000Z');
    expect((s.db.prepare('SELECT count(*) n FROM scans').get() as { n: number }).n).toBe(2);
    s.close();
  });

  it('says which path it could not open', () => {
    if (process.getuid?.() === 0) {
      // root ignores file modes; a path under a regular file fails for everyone
      const d = tmp();
      const f = join(d, 'file');
      openStore(f).close();
      expect(() => openStore(join(f, 'x.db'))).toThrow(/cannot open the store/);
      return;
    }
    const d = tmp();
    chmodSync(d, 0o500);
    expect(() => openStore(join(d, 'no', 'x.db'))).toThrow(/permission denied/);
  });

  it('defaults under IOTGUARD_HOME or ~/.local/share', () => {
    expect(defaultStorePath({ IOTGUARD_HOME: '/x' })).toBe('/x/iotguard.db');
    expect(defaultStorePath({ HOME: '/h' })).toMatch(/\.local\/share\/iotguard\/iotguard\.db$/);
  });
});
