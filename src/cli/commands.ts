// The command table: names and one-line summaries for top-level help. Each
// command lives in its own module under ./commands/ and is imported only when
// it runs, so `iotguard lab status` never loads the packet engine.

export interface CommandInfo {
  name: string;
  summary: string;
}

export const COMMANDS: CommandInfo[] = [
  { name: 'lab', summary: 'bring the simulated home network up or down, run commands in it' },
  { name: 'discover', summary: 'find the devices on the LAN and say what they are' },
  { name: 'upnp', summary: 'audit the router\'s UPnP IGD: every port mapping, who made it, what breaks without it' },
  { name: 'creds', summary: 'try public default passwords (Mirai\'s and vendors\') on telnet, SSH, HTTP, FTP, MQTT, RTSP' },
  { name: 'analyze', summary: 'read pcap/pcapng captures: per-device destinations and findings' },
  { name: 'capture', summary: 'watch live traffic on an interface through the same engine' },
  { name: 'tls-check', summary: 'prove whether a device checks TLS certificates (on the router)' },
  { name: 'policy', summary: 'learn, check, render and apply RFC 8520 MUD allowlists' },
  { name: 'audit', summary: 'everything safe by default, per device, with a report' },
  { name: 'monitor', summary: 'keep watching, with alerts and a local dashboard' },
];
