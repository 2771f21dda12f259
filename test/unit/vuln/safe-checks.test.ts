// Opt-in safe checks against a fake device on 127.0.0.1: they only send plain
// GETs (recorded by the server), read the pages that identify the product,
// and the matcher turns the answers into the right CVE.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSafeChecks } from '../../../src/adapters/probe/safe-checks.js';
import { vulnFindings } from '../../../src/core/vuln/index.js';
import { catalog, dev } from './helpers.js';

const seen: { method: string; url: string }[] = [];
let server: http.Server;
let port: number;

// A D-Link DIR-645 (firmware 1.03) that also serves a UPnP description.
const HNAP = `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><GetDeviceSettingsResponse xmlns="http://purenetworks.com/HNAP1/"><GetDeviceSettingsResult>OK</GetDeviceSettingsResult><Type>GatewayWithWiFi</Type><DeviceName>D-Link Router</DeviceName><VendorName>D-Link</VendorName><ModelDescription>Wireless Router</ModelDescription><ModelName>DIR-645</ModelName><FirmwareVersion>1.03</FirmwareVersion></GetDeviceSettingsResponse></soap:Body></soap:Envelope>`;
const DESC = `<?xml version="1.0"?><root xmlns="urn:schemas-upnp-org:device-1-0"><device><deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:1</deviceType><friendlyName>D-Link Router</friendlyName><manufacturer>D-Link</manufacturer><modelName>DIR-645</modelName><modelNumber>DIR-645</modelNumber></device></root>`;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '' });
    if (req.url === '/HNAP1/') {
      res.writeHead(200, { 'Content-Type': 'text/xml', Server: 'Linux, HTTP/1.1, DIR-645 Ver 1.03' });
      res.end(HNAP);
    } else if (req.url === '/rootDesc.xml') {
      res.writeHead(200, { 'Content-Type': 'text/xml', Server: 'Linux, UPnP/1.0, DIR-645 Ver 1.03' });
      res.end(DESC);
    } else if (req.url === '/') {
      res.writeHead(200, { 'Content-Type': 'text/html', Server: 'Linux, HTTP/1.1, DIR-645 Ver 1.03' });
      res.end('<html><head><title>D-LINK SYSTEMS, INC. | WIRELESS ROUTER | LOGIN</title></head></html>');
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('safe checks', () => {
  it('read the identifying pages with plain GETs and the device is reported with the right CVE', async () => {
    const ev = dev({ ip: '127.0.0.1', openPorts: [{ port, proto: 'tcp', service: 'http' }] });
    const { evidence, report } = await runSafeChecks(ev, catalog, { upnpLocations: [`http://127.0.0.1:${port}/rootDesc.xml`] });
    // Nothing but GETs, and only of "/", catalogued safe-check paths and the description.
    expect(seen.every((r) => r.method === 'GET')).toBe(true);
    const allowed = new Set(['/', '/rootDesc.xml', ...catalog.entries.flatMap((e) => (e.safeCheck ? [e.safeCheck.path] : []))]);
    expect(seen.every((r) => allowed.has(r.url))).toBe(true);
    expect(seen.map((r) => r.url)).toContain('/HNAP1/');
    expect(report.requests.every((r) => r.status !== undefined)).toBe(true);
    expect(evidence.openPorts[0].http).toMatchObject({ server: 'Linux, HTTP/1.1, DIR-645 Ver 1.03', title: 'D-LINK SYSTEMS, INC. | WIRELESS ROUTER | LOGIN' });
    expect(evidence.upnp?.[0]).toMatchObject({ manufacturer: 'D-Link', modelName: 'DIR-645' });

    const findings = vulnFindings(evidence, catalog);
    expect(findings.map((f) => [f.evidence.cve, f.evidence.confidence, f.evidence.version])).toEqual([['CVE-2015-2051', 'exact-version', '1.03']]);
    expect(findings[0].severity).toBe('critical');
  });

  it('refuse a public address before sending anything', async () => {
    let calls = 0;
    const get = async () => {
      calls++;
      throw new Error('must not be called');
    };
    await expect(runSafeChecks(dev({ ip: '8.8.8.8', openPorts: [{ port: 80, proto: 'tcp' }] }), catalog, { get })).rejects.toMatchObject({ code: 'IOTGUARD_ERR_NET_PUBLIC_RANGE' });
    expect(calls).toBe(0);
  });

  it('never fetch a description that lives on another host', async () => {
    const before = seen.length;
    const { report } = await runSafeChecks(dev({ ip: '127.0.0.1', openPorts: [] }), catalog, {
      httpPorts: [port],
      upnpLocations: [`http://127.0.0.2:${port}/rootDesc.xml`, 'not a url'],
    });
    expect(report.requests.filter((r) => r.error).map((r) => r.error)).toEqual(['description URL is not on the device; not fetched', 'not a URL']);
    expect(seen.slice(before).some((r) => r.url === '/rootDesc.xml')).toBe(false);
  });

  it('record an unreachable port instead of throwing', async () => {
    const closed = await new Promise<number>((r) => {
      const s = http.createServer();
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => r(p));
      });
    });
    const { evidence, report } = await runSafeChecks(dev({ ip: '127.0.0.1', openPorts: [{ port: closed, proto: 'tcp', service: 'http' }] }), catalog, { timeoutMs: 1000 });
    // One failed request on the closed port, then the port is given up.
    expect(report.requests).toHaveLength(1);
    expect(report.requests[0].error).toMatch(/ECONNREFUSED/);
    expect(vulnFindings(evidence, catalog)).toEqual([]);
  });
});
