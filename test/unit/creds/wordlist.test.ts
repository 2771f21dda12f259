import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadShippedLists } from '../../../src/adapters/probe/creds/data.js';
import { listFor, parseMiraiCsv, parseServicesJson, parseUserWordlist, parseVendorCsv, splitCsvLine } from '../../../src/core/creds/wordlist.js';
import { CRED_SERVICES } from '../../../src/core/creds/types.js';

const reference = fileURLToPath(new URL('../../../../shared/data/credentials/mirai-scanner-c-62-credentials.csv', import.meta.url));

describe('shipped wordlists', () => {
  const lists = loadShippedLists();
  it('ships the 62 Mirai pairs (61 distinct: guest/12345 is listed twice in scanner.c)', () => {
    expect(lists.mirai).toHaveLength(62);
    expect(new Set(lists.mirai.map((c) => `${c.username}:${c.password}`)).size).toBe(61);
    expect(lists.mirai[0]).toMatchObject({ username: 'root', password: 'xc3511', public: true, source: 'mirai' });
    expect(lists.mirai.every((c) => c.public)).toBe(true);
  });
  it.skipIf(!existsSync(reference))('matches the decoded scanner.c reference pair for pair', () => {
    const ref = readFileSync(reference, 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').slice(0, 2).join(':'));
    expect(lists.mirai.map((c) => `${c.username}:${c.password}`)).toEqual(ref);
  });
  it.runIf(!existsSync(reference))('(reference list ../shared/data absent: comparison skipped)', () => {
    console.warn(`skipping Mirai reference comparison: ${reference} not found`);
  });
  it('has vendor defaults for every service and a valid services table', () => {
    for (const s of CRED_SERVICES) expect(lists.vendor.filter((v) => v.service === s).length).toBeGreaterThan(3);
    expect(lists.services.telnet.ports).toEqual([23, 2323]);
  });
  it('orders per service: Mirai first on telnet, vendor first elsewhere, no Mirai on MQTT, no duplicates', () => {
    const telnet = listFor('telnet', 'defaults', lists);
    expect(telnet[0]).toMatchObject({ username: 'root', password: 'xc3511' });
    const keys = telnet.map((c) => `${c.username}:${c.password}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(listFor('http', 'defaults', lists)[0].source).toMatch(/^vendor/);
    expect(listFor('http', 'defaults', lists).some((c) => c.username === 'admin' && c.password === '12345')).toBe(true);
    const mqtt = listFor('mqtt', 'defaults', lists);
    expect(mqtt[0]).toMatchObject({ username: '', password: '' });
    expect(mqtt.some((c) => c.source === 'mirai')).toBe(false);
    expect(listFor('ssh', 'mirai', lists)).toHaveLength(61);
  });
});

describe('wordlist parsing', () => {
  it('splits CSV with quotes', () => {
    expect(splitCsvLine('a,"b,c","d""e",')).toEqual(['a', 'b,c', 'd"e', '']);
    expect(splitCsvLine('"open')).toBeUndefined();
  });
  it('rejects bad shipped data with the line number', () => {
    expect(() => parseMiraiCsv('username,password,weight\nroot,x\n')).toThrow(/line 2/);
    expect(() => parseVendorCsv('service,vendor,username,password\ngopher,-,a,b\n')).toThrow(/line 2/);
    expect(() => parseServicesJson('{"services":{"telnet":{"ports":[0],"mirai":"first"}}}')).toThrow(/services.json/);
  });
  it('reads a user list (login:password or CSV) as private pairs', () => {
    const l = parseUserWordlist('# mine\nadmin:s3cr:et\nroot:\n');
    expect(l).toEqual([
      { username: 'admin', password: 's3cr:et', public: false, source: 'user' },
      { username: 'root', password: '', public: false, source: 'user' },
    ]);
    expect(parseUserWordlist('username,password\n"a,b",c\n')[0]).toMatchObject({ username: 'a,b', password: 'c' });
  });
  it('never echoes a user line in its errors', () => {
    let msg = '';
    try {
      parseUserWordlist('good:pair\nHunter2SecretNoColon\n', 'wordlist /x');
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toMatch(/line 2/);
    expect(msg).not.toContain('Hunter2');
    expect(() => parseUserWordlist('a:b\u0007c')).toThrow(/control character/);
  });
});
