// Build stamps of the shipped data files: a shipped file is used without
// loading zod only while its bytes are the ones the build validated; any
// other file goes through the schema.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT, checkedAtBuild, sha256, stampKey } from '../../../src/adapters/probe/data-stamps.js';
import { loadPortRiskTable } from '../../../src/adapters/probe/upnp-risk-table.js';
import { loadKevCatalog } from '../../../src/adapters/probe/kev-catalog.js';

const tmp = mkdtempSync(join(tmpdir(), 'ig-stamps-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const root = PACKAGE_ROOT;
const riskPath = join(root, 'data', 'port-risk.json');
const riskBytes = readFileSync(riskPath);

function stamps(files: Record<string, string>, name = `s${Math.random().toString(36).slice(2)}.json`): string {
  const p = join(tmp, name);
  writeFileSync(p, JSON.stringify({ version: 1, files }));
  return p;
}

describe('stampKey', () => {
  it('names a file by its package-relative path, and nothing outside the package', () => {
    expect(stampKey(riskPath)).toBe('data/port-risk.json');
    expect(stampKey(join(root, 'data', 'kev', 'iot-kev.json'))).toBe('data/kev/iot-kev.json');
    expect(stampKey(join(tmp, 'port-risk.json'))).toBeUndefined();
    expect(stampKey(root)).toBeUndefined();
  });
});

describe('checkedAtBuild', () => {
  it('is true only for the exact bytes stamped under that path', () => {
    const s = stamps({ 'data/port-risk.json': sha256(riskBytes) });
    expect(checkedAtBuild(riskPath, riskBytes, { stampsPath: s })).toBe(true);
    const edited = Buffer.from(riskBytes);
    edited[edited.length - 2] ^= 1;
    expect(checkedAtBuild(riskPath, edited, { stampsPath: s })).toBe(false);
    // the same bytes under another name are not the stamped file
    expect(checkedAtBuild(join(root, 'data', 'other.json'), riskBytes, { stampsPath: s })).toBe(false);
    expect(checkedAtBuild(join(tmp, 'port-risk.json'), riskBytes, { stampsPath: s })).toBe(false);
  });

  it('trusts nothing without good stamps: missing, not JSON, wrong version, malformed hashes', () => {
    expect(checkedAtBuild(riskPath, riskBytes, { stampsPath: join(tmp, 'absent.json') })).toBe(false);
    const bad = join(tmp, 'bad.json');
    writeFileSync(bad, '{"version":1,"files":');
    expect(checkedAtBuild(riskPath, riskBytes, { stampsPath: bad })).toBe(false);
    const v2 = join(tmp, 'v2.json');
    writeFileSync(v2, JSON.stringify({ version: 2, files: { 'data/port-risk.json': sha256(riskBytes) } }));
    expect(checkedAtBuild(riskPath, riskBytes, { stampsPath: v2 })).toBe(false);
    expect(checkedAtBuild(riskPath, riskBytes, { stampsPath: stamps({ 'data/port-risk.json': 'yes' }) })).toBe(false);
  });
});

describe('loaders', () => {
  it('validate a file that carries no stamp: a broken copy of the shipped table or catalog is refused', async () => {
    const risk = JSON.parse(riskBytes.toString('utf8'));
    risk.entries[0].severity = 'apocalyptic';
    const riskCopy = join(tmp, 'port-risk.json');
    writeFileSync(riskCopy, JSON.stringify(risk));
    await expect(loadPortRiskTable(riskCopy)).rejects.toMatchObject({ code: 'IOTGUARD_ERR_DATA_INVALID', message: expect.stringMatching(/entries\.0\.severity/) });

    const kev = JSON.parse(readFileSync(join(root, 'data', 'kev', 'iot-kev.json'), 'utf8'));
    delete kev.entries[3].sources;
    const kevCopy = join(tmp, 'iot-kev.json');
    writeFileSync(kevCopy, JSON.stringify(kev));
    await expect(loadKevCatalog(kevCopy)).rejects.toMatchObject({ code: 'IOTGUARD_ERR_DATA_INVALID', message: expect.stringMatching(/entries\.3\.sources/) });
  });
});

// The point of the stamps: the built CLI's detectors start without zod.
// A module-resolution hook records every URL the process resolves.
const dist = join(root, 'dist', 'adapters', 'capture', 'detectors.js');
describe.skipIf(!existsSync(dist) || !existsSync(join(root, 'dist', 'data-stamps.json')))('the built package (dist/, after npm run build)', () => {
  const resolved = (script: string): string[] => {
    const log = join(tmp, `resolved-${Math.random().toString(36).slice(2)}.txt`);
    const hooks = join(tmp, 'hooks.mjs');
    writeFileSync(
      hooks,
      `import { appendFileSync } from 'node:fs';
let file;
export function initialize(data) { file = data.file; }
export async function resolve(spec, ctx, next) { const r = await next(spec, ctx); appendFileSync(file, r.url + '\\n'); return r; }
`,
    );
    const register = `import { register } from 'node:module'; register(${JSON.stringify(pathToFileURL(hooks).href)}, { data: { file: ${JSON.stringify(log)} } });`;
    const pre = join(tmp, `register-${Math.random().toString(36).slice(2)}.mjs`);
    writeFileSync(pre, register);
    execFileSync(process.execPath, ['--import', pathToFileURL(pre).href, '--input-type=module', '-e', script], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    return existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : [];
  };

  it('makes the standard detectors from the stamped data without loading zod', () => {
    const urls = resolved(`const { standardDetectorFactory } = await import(${JSON.stringify(pathToFileURL(dist).href)}); const make = await standardDetectorFactory(); if (make().length < 12) throw new Error('detectors missing');`);
    expect(urls.some((u) => u.endsWith('/dist/core/detect/index.js'))).toBe(true);
    expect(urls.filter((u) => u.includes('/node_modules/zod/'))).toEqual([]);
  });

  it('loads zod to validate a data file the build did not stamp (the hook does see zod when it loads)', () => {
    const copy = join(tmp, 'risk-unstamped.json');
    writeFileSync(copy, riskBytes);
    const loader = pathToFileURL(join(root, 'dist', 'adapters', 'probe', 'upnp-risk-table.js')).href;
    const urls = resolved(`const { loadPortRiskTable } = await import(${JSON.stringify(loader)}); await loadPortRiskTable(${JSON.stringify(copy)});`);
    expect(urls.some((u) => u.includes('/node_modules/zod/'))).toBe(true);
  });
});
