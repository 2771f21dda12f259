// The Debian packages the lab and the reference tools need, with one binary each
// to check for. Shared by scripts/ensure.mjs and `iotguard lab up`.
import { existsSync } from 'node:fs';

export const LAB_PACKAGES = [
  ['iproute2', '/usr/sbin/ip'],
  ['nftables', '/usr/sbin/nft'],
  ['tcpdump', '/usr/bin/tcpdump'],
  ['tshark', '/usr/bin/tshark'],
  ['wireshark-common', '/usr/bin/capinfos'],
  ['nmap', '/usr/bin/nmap'],
  ['hydra', '/usr/bin/hydra'],
  ['miniupnpd-nftables', '/usr/sbin/miniupnpd'],
  ['miniupnpc', '/usr/bin/upnpc'],
  ['natpmpc', '/usr/bin/natpmpc'],
  ['telnetd', '/usr/sbin/telnetd'],
  ['login', '/bin/login'],
  ['dnsmasq-base', '/usr/sbin/dnsmasq'],
  ['mosquitto', '/usr/sbin/mosquitto'],
  ['mosquitto-clients', '/usr/bin/mosquitto_pub'],
  ['iodine', '/usr/sbin/iodined'],
  ['socat', '/usr/bin/socat'],
  ['ethtool', '/usr/sbin/ethtool'],
  ['openssh-server', '/usr/sbin/sshd'],
  ['openssh-client', '/usr/bin/ssh'],
  ['minidlna', '/usr/sbin/minidlnad'],
  ['avahi-daemon', '/usr/sbin/avahi-daemon'],
  ['busybox-static', '/bin/busybox'],
  ['openssl', '/usr/bin/openssl'],
  ['curl', '/usr/bin/curl'],
  ['wget', '/usr/bin/wget'],
  ['tcpreplay', '/usr/bin/tcpreplay'],
  ['procps', '/usr/bin/pgrep'],
  ['python3', '/usr/bin/python3'],
  // the report and dashboard browser tests
  ['chromium', '/usr/bin/chromium'],
  ['fonts-dejavu-core', '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf'],
];

export function missingLabPackages() {
  return LAB_PACKAGES.filter(([, bin]) => !existsSync(bin)).map(([pkg]) => pkg);
}
