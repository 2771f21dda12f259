// Real banners, server strings and descriptions of affected products, as
// public advisories, exploit modules and write-ups print them, must match the
// right CVE; products that merely look alike must not.
import { describe, expect, it } from 'vitest';
import { vulnFindings } from '../../../src/core/vuln/index.js';
import { catalog, dev, ids, matchOf } from './helpers.js';

describe('real evidence of affected products matches the right CVE', () => {
  it('Realtek SDK miniigd: SSDP SERVER "OS 1.0 UPnP/1.0 Realtek/V1.3"', () => {
    // HP Security Research, "Software Development KITchen sink" (2015), cited by the
    // Metasploit module realtek_miniigd_upnp_exec_noauth: miniigd "advertises itself as
    // "OS 1.0 UPnP/1.0 Realtek/V1.3" on UDP:1900"; the same string is MINIIGD_SERVER_STRING
    // in the Realtek SDK source.
    const ev = dev({ ssdpServer: ['OS 1.0 UPnP/1.0 Realtek/V1.3'] });
    expect(ids(ev)).toEqual(['CVE-2014-8361', 'CVE-2021-35394']);
    expect(matchOf(ev, 'CVE-2014-8361')!.confidence).toBe('product-family');
  });

  it('Realtek SDK miniigd: "Server: miniupnpd/1.0 UPnP/1.0" on TCP 52869 (/picsdesc.xml)', () => {
    // Same write-up: "its service description offers a "Server: miniupnpd/1.0 UPnP/1.0"
    // banner on TCP:52869"; the Metasploit check tests exactly that header.
    const ev = dev({ openPorts: [{ port: 52869, proto: 'tcp', http: { server: 'miniupnpd/1.0 UPnP/1.0' } }] });
    expect(ids(ev)).toEqual(['CVE-2014-8361']);
    const m = matchOf(ev, 'CVE-2014-8361')!;
    expect(m.facts).toEqual([
      { field: 'openPort', value: '52869/tcp', port: 52869 },
      { field: 'httpServer', value: 'miniupnpd/1.0 UPnP/1.0', port: 52869 },
    ]);
  });

  it('Hikvision: "Server: DNVRS-Webs" and "App-webs/"', () => {
    // nmap http-server-header output of a Hikvision recorder ("DNVRS-Webs"), and the
    // intrigue-core fingerprint "HikVision DNVRS - Server Header" /^server: DNVRS-Webs$/.
    for (const server of ['DNVRS-Webs', 'App-webs/', 'DVRDVS-Webs']) {
      const ev = dev({ openPorts: [{ port: 80, proto: 'tcp', http: { server } }] });
      expect(ids(ev), server).toEqual(['CVE-2017-7921', 'CVE-2021-36260']);
    }
  });

  it('Hikvision DS-2CD2132F-I: exact version inside / outside the advisory range', () => {
    // NVD / ICSA-17-124-01: DS-2CD2xx2F-I Series V5.2.0 build 140721 to V5.4.0 build 160530.
    const camera = (firmware: string) =>
      dev({ upnp: [{ manufacturer: 'Hikvision', modelName: 'DS-2CD2132F-I', firmware }], openPorts: [{ port: 80, proto: 'tcp', http: { server: 'DNVRS-Webs' } }] });
    const vulnerable = matchOf(camera('V5.3.0 build 150513'), 'CVE-2017-7921')!;
    expect([vulnerable.confidence, vulnerable.version]).toEqual(['exact-version', 'V5.3.0 build 150513']);
    // A later firmware clears CVE-2017-7921 but says nothing of CVE-2021-36260.
    expect(ids(camera('V5.4.5 build 170123'))).toEqual(['CVE-2021-36260']);
  });

  it('AVTECH: "Server: Linux/2.x UPnP/1.0 Avtech/1.0"', () => {
    // Raw reply of an AVTECH DVR posted publicly ("Server: Linux/2.x UPnP/1.0 Avtech/1.0"),
    // also the AVTECH entry of public IoT fingerprint lists.
    const ev = dev({ openPorts: [{ port: 80, proto: 'tcp', http: { server: 'Linux/2.x UPnP/1.0 Avtech/1.0', title: '::: Login :::' } }] });
    expect(ids(ev)).toEqual(['CVE-2024-7029']);
  });

  it('MVPower DVR: "Server: JAWS/1.0" (but not the ACE "JAWS/1.0prebeta")', () => {
    // Public MVPower scanners search Shodan for "Server: JAWS/1.0"; routersploit's
    // dvr_jaws_rce targets MVPower TV-7104HE 1.8.4 115215B9.
    expect(ids(dev({ openPorts: [{ port: 80, proto: 'tcp', http: { server: 'JAWS/1.0' } }] }))).toEqual(['CVE-2016-20016']);
    expect(ids(dev({ openPorts: [{ port: 80, proto: 'tcp', http: { server: 'JAWS/1.0prebeta' } }] }))).toEqual([]);
  });

  it('Dasan GPON: title "GPON Home Gateway"', () => {
    // vpnMentor's GPON advisory (2018) and the nuclei template's shodan query.
    expect(ids(dev({ openPorts: [{ port: 80, proto: 'tcp', http: { title: 'GPON Home Gateway' } }] }))).toEqual(['CVE-2018-10561', 'CVE-2018-10562']);
  });

  it('Huawei HG532: TR-064 port 37215 with an HG532 UPnP description; the port alone is not enough', () => {
    // Huawei notice huawei-sn-20171130-01-hg532: "send malicious packets to port 37215".
    const hg = dev({ openPorts: [{ port: 37215, proto: 'tcp' }], upnp: [{ manufacturer: 'Huawei Technologies Co., Ltd.', modelName: 'HG532e' }] });
    expect(ids(hg)).toEqual(['CVE-2017-17215']);
    expect(ids(dev({ openPorts: [{ port: 37215, proto: 'tcp' }] }))).toEqual([]);
    expect(ids(dev({ vendor: 'Huawei Technologies Co.,Ltd', openPorts: [{ port: 37215, proto: 'tcp' }] }))).toEqual(['CVE-2017-17215']);
  });

  it('NETGEAR R7000: login realm, then exact version from the UPnP description', () => {
    // NVD CVE-2016-6277: "R7000 before 1.0.7.6.Beta"; NETGEAR routers name the model in the Basic realm.
    const realm = dev({ openPorts: [{ port: 80, proto: 'tcp', http: { realm: 'NETGEAR R7000' } }] });
    expect(matchOf(realm, 'CVE-2016-6277')!.confidence).toBe('product-family');
    const old = dev({ upnp: [{ manufacturer: 'NETGEAR, Inc.', modelName: 'R7000', firmware: 'V1.0.7.2_1.1.93' }] });
    expect([matchOf(old, 'CVE-2016-6277')!.confidence, matchOf(old, 'CVE-2016-6277')!.version]).toEqual(["exact-version", "1.0.7.2_1.1.93"]);
    const patched = dev({ upnp: [{ manufacturer: 'NETGEAR, Inc.', modelName: 'R7000', firmware: 'V1.0.9.88_10.2.88' }] });
    expect(ids(patched)).toEqual([]);
  });

  it('D-Link DIR-645: HNAP device settings (opt-in safe check) give model and firmware', () => {
    // NVD CVE-2015-2051: DIR-645 Rev. Ax with firmware 1.04b12 and earlier.
    const hnap = (fw: string) =>
      dev({
        httpProbes: [
          { port: 80, path: '/HNAP1/', status: 200, body: `<GetDeviceSettingsResponse><Type>GatewayWithWiFi</Type><ModelName>DIR-645</ModelName><FirmwareVersion>${fw}</FirmwareVersion></GetDeviceSettingsResponse>` },
        ],
      });
    expect(matchOf(hnap('1.03'), 'CVE-2015-2051')!.confidence).toBe('exact-version');
    expect(ids(hnap('1.05B01'))).toEqual([]);
  });

  it('MikroTik: Winbox port with an FTP banner that carries the RouterOS version', () => {
    // NVD CVE-2018-14847: RouterOS through 6.42. RouterOS FTP greets "MikroTik FTP server (MikroTik x.y.z) ready".
    const mt = (v: string) =>
      dev({ openPorts: [{ port: 8291, proto: 'tcp' }, { port: 21, proto: 'tcp', banner: `220 MikroTik FTP server (MikroTik ${v}) ready` }] });
    expect(matchOf(mt('6.40.5'), 'CVE-2018-14847')!.confidence).toBe('exact-version');
    expect(ids(mt('6.45.9'))).toEqual([]);
    // 6.40.8 is the fixed long-term release, below 6.42 but not affected.
    expect(ids(mt('6.40.8'))).toEqual([]);
  });

  it('GoAhead "Wireless IP Camera (P2P)": GoAhead-Webs on a camera, not on a router', () => {
    const cam = dev({ type: 'camera', openPorts: [{ port: 81, proto: 'tcp', http: { server: 'GoAhead-Webs' } }] });
    expect(ids(cam)).toEqual(['CVE-2017-8224', 'CVE-2017-8225']);
    // gopacket test_ethernet.pcap: a router's GoAhead-Webs answering "302 Redirect" to /login.asp.
    expect(ids(dev({ type: 'router', openPorts: [{ port: 80, proto: 'tcp', http: { server: 'GoAhead-Webs' } }] }))).toEqual([]);
  });
});

describe('look-alikes and the lab\'s made-up products do not match', () => {
  it('genuine MiniUPnPd (Debian in the lab, Tomato in a public capture) is not the Realtek miniigd', () => {
    const lab = dev({
      ip: '192.168.77.1',
      vendor: 'TP-LINK TECHNOLOGIES CO.,LTD.',
      type: 'router',
      ssdpServer: ['Debian/12 UPnP/1.1 MiniUPnPd/2.3.1'],
      openPorts: [{ port: 5000, proto: 'tcp', http: { server: 'Debian/6.18.44-fc-v782 UPnP/1.1 MiniUPnPd/2.3.1', title: '404 Not Found' } }],
      upnp: [{ manufacturer: 'iotguard lab', modelName: 'Lab IGD', modelNumber: '1', friendlyName: 'Lab Home Router' }],
    });
    expect(ids(lab)).toEqual([]);
    // suricata-verify sip-ssdp-pm.pcap NOTIFY from a Tomato router.
    expect(ids(dev({ ssdpServer: ['UPnP/Tomato 1.28.7500 MIPSR2Toastman-RT K26 USB Ext UPnP/1.0 MiniUPnPd/1.6'] }))).toEqual([]);
    // Even a MiniUPnPd 1.0 on the IGD's usual port is not miniigd: the Realtek signature wants 52869.
    expect(ids(dev({ openPorts: [{ port: 5000, proto: 'tcp', http: { server: 'miniupnpd/1.0 UPnP/1.0' } }] }))).toEqual([]);
  });

  it("the lab's devices as `discover --json` reported them (2026-11-25) match nothing", () => {
    const lab = [
      // cam: Hikvision MAC, busybox telnetd, HTTP Basic realm "IPCAM" (a made-up camera).
      dev({ ip: '192.168.77.20', vendor: 'Hangzhou Hikvision Digital Technology Co.,Ltd.', type: 'camera', openPorts: [
        { port: 23, proto: 'tcp', banner: 'Debian GNU/Linux 12 | ipcam-hall login:' },
        { port: 80, proto: 'tcp', http: { title: '401 Unauthorized', realm: 'IPCAM' } },
      ] }),
      // dvr: Dahua MAC, OpenSSH only.
      dev({ ip: '192.168.77.21', vendor: 'Zhejiang Dahua Technology Co., Ltd.', type: 'dvr', openPorts: [{ port: 22, proto: 'tcp', banner: 'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10' }] }),
      // nas: minidlna.
      dev({ ip: '192.168.77.30', vendor: 'Synology Incorporated', type: 'nas',
        ssdpServer: ['Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0'],
        upnp: [{ manufacturer: 'Justin Maggard', modelName: 'DiskStation Media Server', modelNumber: 'DS218', friendlyName: 'NAS Media', server: 'Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0' }],
        openPorts: [
          { port: 80, proto: 'tcp', http: { title: '401 Unauthorized', realm: 'NAS' } },
          { port: 8200, proto: 'tcp', http: { server: 'Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0', title: 'MiniDLNA 1.3.0' } },
        ] }),
      dev({ ip: '192.168.77.40', vendor: 'Sonos, Inc.', type: 'speaker', openPorts: [{ port: 1400, proto: 'tcp', http: { title: 'Speaker' } }] }),
      dev({ ip: '192.168.77.60', vendor: 'Tuya Smart Inc.', type: 'plug', openPorts: [{ port: 80, proto: 'tcp', http: { title: 'Smart Plug' } }] }),
      dev({ ip: '192.168.77.70', vendor: 'Espressif Inc.', type: 'camera', openPorts: [{ port: 23, proto: 'tcp', banner: 'Debian GNU/Linux 12 | cheapcam login:' }] }),
    ];
    for (const d of lab) expect(ids(d), d.ip).toEqual([]);
  });

  it('server strings seen in the public IoT captures match nothing', () => {
    // Every SSDP SERVER / HTTP Server value tshark finds in ../shared/data/pcap (IoT Sentinel
    // D-Link, Edimax, WeMo, Hue captures; nDPI; Zeek): none of these products is in the catalog.
    for (const s of [
      'Linux,    UPnP/1.0 DCS-935L/1.0',
      'Linux/2.6.21, UPnP/1.0, Portable SDK for UPnP devices/1.6.18',
      'Linux/3.14.0 UPnP/1.0 IpBridge/1.9.0',
      'Embedded UPnP/1.0',
      'Cellvision UPnP/1.0',
      'Unspecified, UPnP/1.0, Unspecified',
      'lighttpd/1.4.34',
      'Apache-Coyote/1.1',
      'openresty/1.9.7.4',
    ]) {
      expect(ids(dev({ ssdpServer: [s], openPorts: [{ port: 80, proto: 'tcp', http: { server: s } }] })), s).toEqual([]);
    }
  });
});

describe('known-vulnerability findings', () => {
  it('carry the CVE, confidence, evidence, botnets and advice; a family match is one severity lower', () => {
    const jaws = vulnFindings(dev({ openPorts: [{ port: 80, proto: 'tcp', http: { server: 'JAWS/1.0' } }] }), catalog);
    expect(jaws).toHaveLength(1);
    const f = jaws[0];
    expect(f.id).toBe('known-vulnerability');
    expect(f.device).toEqual({ ip: '192.168.1.50', mac: '00:11:22:33:44:55' });
    // The JAWS server names the MVPower family; which firmware is unknown -> product family, one severity lower.
    expect(f.severity).toBe('high');
    expect(f.evidence).toMatchObject({ cve: 'CVE-2016-20016', confidence: 'product-family', botnets: ['IoT_reaper (IoTroop)', 'Mozi'], fixAvailable: null });
    // The sources do not say whether a fixed firmware exists: the advice says to look, else replace or isolate.
    expect(f.advice).toMatch(/look on MVPower's support site for firmware that fixes CVE-2016-20016 and install it; if there is none, replace the device or isolate it/);

    // Every version of the named models affected (allVersions) and the model named -> exact, full severity.
    const zy = vulnFindings(dev({ upnp: [{ manufacturer: 'Zyxel', modelName: 'VMG8924-B10A' }] }), catalog);
    expect(zy.map((x) => [x.evidence.cve, x.evidence.confidence, x.severity]).sort()).toEqual([
      ['CVE-2024-40890', 'exact-version', 'high'],
      ['CVE-2024-40891', 'exact-version', 'high'],
    ]);
    expect(zy[0].advice).toMatch(/^No fixed firmware exists \(the vendor ended support\): replace the device, or isolate it/);

    const realm = vulnFindings(dev({ openPorts: [{ port: 80, proto: 'tcp', http: { realm: 'NETGEAR R7000' } }] }), catalog)[0];
    expect(realm.severity).toBe('high');
    expect(realm.title).toMatch(/^CVE-2016-6277: .*\(product family match\)$/);
    expect(realm.advice).toMatch(/^This device looks like a NETGEAR .*check its exact model and firmware version, and update the firmware to/);
    expect(realm.evidence.matched).toEqual([{ field: 'httpRealm', value: 'NETGEAR R7000', port: 80 }]);
    expect(realm.evidence.cisaKev).toBe(true);
  });

  it('end-of-life products get "replace" advice', () => {
    const f = vulnFindings(dev({ upnp: [{ modelName: 'DIR-820L' }] }), catalog).find((x) => x.evidence.cve === 'CVE-2021-45382')!;
    expect(f.advice).toMatch(/vendor ended support/);
    expect(f.evidence.endOfLife).toBe(true);
  });
});
