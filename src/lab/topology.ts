// The lab's home network as data: every node, its address, MAC, role and what
// runs on it. Everything else in src/lab (bring-up, status, traffic, tests)
// reads this table, so a new device is one entry here plus its daemons.

export const LAB_LAN = '192.168.77.0/24';
export const LAB_ROUTER_LAN_IP = '192.168.77.1';
export const LAB_WAN_NET = '5.45.0.0/24';
/** The router's "public" address. Routable only inside the lab's namespaces. */
export const LAB_WAN_IP = '5.45.0.2';
export const LAB_ISP_IP = '5.45.0.1';

/** Vendor clouds in the internet namespace. Names resolve only through the lab's DNS. */
export const LAB_INTERNET = {
  dns: '5.45.1.10',
  firmware: '5.45.1.20',
  cloud: '5.45.1.30',
  mqtt: '5.45.1.40',
  tunnelNs: '5.45.1.53',
} as const;

export const LAB_NAMES = {
  firmwareHost: 'fw.plugco.example',
  firmwarePath: '/firmware/plug-v1.2.3.bin',
  cloudHost: 'cloud.plugco.example',
  mqttHost: 'mqtt.plugco.example',
  relayHost: 'relay.camco.example',
  tunnelDomain: 't.c2tunnel.example',
} as const;

/** Public defaults set on purpose (they are in Mirai's list); shown freely. */
export const LAB_SECRETS = {
  camTelnet: { username: 'root', password: 'xc3511' },
  camHttp: { username: 'admin', password: '12345' },
  dvrSsh: { username: 'admin', password: 'admin' },
  /** Strong, random-looking, in no public list. */
  strong: 'Vq7#mT2!pL9x-nas',
  mqttPlug: { username: 'plug', password: 'plugpass123' },
  iodine: 'labtunnel42',
} as const;

export type LabRole =
  | 'internet'
  | 'router'
  | 'pi'
  | 'camera'
  | 'dvr'
  | 'nas'
  | 'speaker'
  | 'console'
  | 'plug'
  | 'infected'
  | 'access-point';

export interface LabNode {
  /** Short name used on the CLI: `iotguard lab run cam -- ...`. */
  name: string;
  role: LabRole;
  /** LAN address (router: its LAN side; internet: its link to the router). */
  ip: string;
  mac: string;
  hostname: string;
  /** DHCP vendor class (option 60) the device sends, if any. */
  vendorClass?: string;
  description: string;
}

export const LAB_NODES: LabNode[] = [
  { name: 'inet', role: 'internet', ip: LAB_ISP_IP, mac: '02:00:5e:00:00:01', hostname: 'internet', description: 'the internet: vendor clouds (DNS, plain-HTTP firmware, HTTPS with the lab CA, MQTT broker) and iodined for the tunnel domain' },
  { name: 'router', role: 'router', ip: LAB_ROUTER_LAN_IP, mac: '14:75:90:00:77:01', hostname: 'router', description: 'home router: LAN bridge, nftables NAT, dnsmasq DHCP/DNS, miniupnpd UPnP IGD + NAT-PMP' },
  { name: 'pi', role: 'pi', ip: '192.168.77.10', mac: '2c:cf:67:00:77:10', hostname: 'raspberrypi', description: 'empty LAN host where iotguard runs, as on a Raspberry Pi' },
  { name: 'cam', role: 'camera', ip: '192.168.77.20', mac: '18:80:25:00:77:20', hostname: 'ipcam-hall', vendorClass: 'udhcp 1.21.1', description: 'IP camera: telnetd + PAM login with a Mirai default root password, HTTP admin page with Basic auth, maps telnet to the internet by UPnP, holds an MQTT relay connection' },
  { name: 'dvr', role: 'dvr', ip: '192.168.77.21', mac: '08:ed:ed:00:77:21', hostname: 'dvr-garage', vendorClass: 'udhcp 1.24.2', description: 'DVR: OpenSSH with a default admin password' },
  { name: 'nas', role: 'nas', ip: '192.168.77.30', mac: '00:11:32:00:77:30', hostname: 'nas', description: 'NAS with only strong passwords (telnet, SSH, HTTP admin) and a DLNA media server announced by SSDP (minidlna)' },
  { name: 'speaker', role: 'speaker', ip: '192.168.77.40', mac: '00:0e:58:00:77:40', hostname: 'living-room-speaker', description: 'smart speaker announced by mDNS/DNS-SD (avahi-daemon)' },
  { name: 'console', role: 'console', ip: '192.168.77.50', mac: '00:04:1f:00:77:50', hostname: 'playstation', description: 'game console with ordinary UPnP mappings (3074, 3478-3479)' },
  { name: 'plug', role: 'plug', ip: '192.168.77.60', mac: '70:89:76:00:77:60', hostname: 'smartplug-1', vendorClass: 'dhcpcd-6.8.2:Linux-3.10.14:mips', description: 'smart plug: firmware over plain HTTP, MQTT with a password in clear, TLS without certificate checks' },
  { name: 'infected', role: 'infected', ip: '192.168.77.70', mac: '14:08:08:00:77:70', hostname: 'cheapcam', description: 'infected device: iodine DNS tunnel to a C2 domain, scans its neighbours on 23/2323' },
  { name: 'ap', role: 'access-point', ip: '192.168.77.80', mac: '14:75:90:00:77:80', hostname: 'ap-upstairs', description: 'access point whose telnet drops clients after a few failed attempts (lock-out), strong password' },
];

export const DEFAULT_LAB_NAME = 'ig';

export function netnsName(lab: string, node: string): string {
  return `${lab}-${node}`;
}

export function findNode(name: string): LabNode | undefined {
  return LAB_NODES.find((n) => n.name === name || n.hostname === name);
}
