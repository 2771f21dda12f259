// Configuration files for the lab's daemons, as text. Kept apart from the
// bring-up so each file can be read (and tested) on its own.
import {
  LAB_INTERNET,
  LAB_ISP_IP,
  LAB_NAMES,
  LAB_NODES,
  LAB_ROUTER_LAN_IP,
  LAB_SECRETS,
  LAB_WAN_IP,
} from './topology.js';

export interface UpnpOptions {
  secureMode: boolean;
  /** Misconfiguration: also listen (SSDP + SOAP) on the WAN side. */
  wanExposed: boolean;
}

export const DEFAULT_UPNP: UpnpOptions = { secureMode: true, wanExposed: false };

/** The router's baseline nftables: NAT, a default-drop forward chain, and miniupnpd's chains. */
export function routerRuleset(upnp: UpnpOptions): string {
  const wanOpen = upnp.wanExposed ? ['    iifname "wan0" udp dport 1900 accept', '    iifname "wan0" tcp dport 5000 accept'] : [];
  return [
    'table inet filter {',
    '  chain input {',
    '    type filter hook input priority 0; policy accept;',
    '    ct state established,related accept',
    ...wanOpen,
    '    iifname "wan0" drop',
    '  }',
    '  chain forward {',
    '    type filter hook forward priority 0; policy drop;',
    '    ct state established,related accept',
    '    iifname "br-lan" oifname "wan0" accept',
    '    iifname "br-lan" oifname "br-lan" accept',
    '    jump miniupnpd',
    '  }',
    '  chain miniupnpd {',
    '  }',
    '  chain prerouting {',
    '    type nat hook prerouting priority -100; policy accept;',
    '    jump prerouting_miniupnpd',
    '  }',
    '  chain postrouting {',
    '    type nat hook postrouting priority 100; policy accept;',
    '    jump postrouting_miniupnpd',
    '    oifname "wan0" masquerade',
    '  }',
    '  chain prerouting_miniupnpd {',
    '  }',
    '  chain postrouting_miniupnpd {',
    '  }',
    '}',
    '',
  ].join('\n');
}

export function miniupnpdConf(upnp: UpnpOptions, stateDir: string): string {
  return [
    'ext_ifname=wan0',
    `ext_ip=${LAB_WAN_IP}`,
    'listening_ip=br-lan',
    'http_port=5000',
    'enable_natpmp=yes',
    'enable_upnp=yes',
    `secure_mode=${upnp.secureMode ? 'yes' : 'no'}`,
    'system_uptime=yes',
    'notify_interval=30',
    'clean_ruleset_interval=600',
    'uuid=3d3cec3a-8cf0-11e0-98ee-001a6bd2d07b',
    'serial=LAB0001',
    'model_number=1',
    'friendly_name=Lab Home Router',
    'manufacturer_name=iotguard lab',
    'model_name=Lab IGD',
    `lease_file=${stateDir}/upnp.leases`,
    'upnp_table_name=filter',
    'upnp_nat_table_name=filter',
    'upnp_forward_chain=miniupnpd',
    'upnp_nat_chain=prerouting_miniupnpd',
    'upnp_nat_postrouting_chain=postrouting_miniupnpd',
    'allow 1-65535 192.168.77.0/24 1-65535',
    'deny 0-65535 0.0.0.0/0 0-65535',
    '',
  ].join('\n');
}

export function routerDnsmasqConf(stateDir: string): string {
  const hosts = LAB_NODES.filter((n) => n.role !== 'internet' && n.role !== 'router').map(
    (n) => `dhcp-host=${n.mac},${n.ip},${n.hostname},12h`,
  );
  return [
    'interface=br-lan',
    'bind-interfaces',
    `listen-address=${LAB_ROUTER_LAN_IP}`,
    'no-resolv',
    'no-hosts',
    'no-poll',
    `server=${LAB_INTERNET.dns}`,
    'domain=lan',
    'local=/lan/',
    'expand-hosts',
    `address=/router.lan/${LAB_ROUTER_LAN_IP}`,
    'dhcp-range=192.168.77.100,192.168.77.199,12h',
    `dhcp-option=option:router,${LAB_ROUTER_LAN_IP}`,
    `dhcp-option=option:dns-server,${LAB_ROUTER_LAN_IP}`,
    'dhcp-authoritative',
    `dhcp-leasefile=${stateDir}/router-dnsmasq.leases`,
    `pid-file=${stateDir}/router-dnsmasq.pid`,
    'log-facility=-',
    'log-queries',
    'log-dhcp',
    ...hosts,
    '',
  ].join('\n');
}

export function internetDnsmasqConf(stateDir: string): string {
  return [
    `listen-address=${LAB_INTERNET.dns}`,
    'bind-interfaces',
    'no-resolv',
    'no-hosts',
    'no-poll',
    'port=53',
    `address=/${LAB_NAMES.firmwareHost}/${LAB_INTERNET.firmware}`,
    `address=/${LAB_NAMES.cloudHost}/${LAB_INTERNET.cloud}`,
    `address=/${LAB_NAMES.mqttHost}/${LAB_INTERNET.mqtt}`,
    `address=/${LAB_NAMES.relayHost}/${LAB_INTERNET.mqtt}`,
    `address=/ntp.plugco.example/${LAB_INTERNET.cloud}`,
    `address=/api.camco.example/${LAB_INTERNET.cloud}`,
    `address=/time.consoleco.example/${LAB_INTERNET.cloud}`,
    // authoritative for the vendor zones: other names and types get NODATA/NXDOMAIN, not REFUSED
    'local=/plugco.example/',
    'local=/camco.example/',
    'local=/consoleco.example/',
    // the tunnel domain is delegated to iodined
    `server=/${LAB_NAMES.tunnelDomain}/${LAB_INTERNET.tunnelNs}`,
    `pid-file=${stateDir}/inet-dnsmasq.pid`,
    'log-facility=-',
    'log-queries',
    '',
  ].join('\n');
}

export function mosquittoConf(stateDir: string): string {
  return [
    'per_listener_settings false',
    'allow_anonymous false',
    `password_file ${stateDir}/mosquitto.passwd`,
    'persistence false',
    'log_dest stdout',
    'log_type error',
    'log_type warning',
    'log_type notice',
    'log_type information',
    'connection_messages true',
    'user root',
    `listener 1883 ${LAB_INTERNET.mqtt}`,
    `listener 8883 ${LAB_INTERNET.mqtt}`,
    `certfile ${stateDir}/ca/server.crt`,
    `keyfile ${stateDir}/ca/server.key`,
    '',
  ].join('\n');
}

/**
 * A harmless stand-in for a device's root shell: prints a BusyBox banner and a
 * prompt, and answers every line with "not found". It executes nothing, so a
 * credential test can prove a login without anything running.
 */
export const FAKE_SHELL = `#!/bin/sh
# iotguard lab: harmless fake BusyBox shell. It runs nothing it is given.
if [ "$1" = "-c" ]; then echo "-sh: \${2%% *}: not found"; exit 127; fi
echo ""
echo ""
echo "BusyBox v1.19.4 (2015-07-03 10:21:43 CST) built-in shell (ash)"
echo "Enter 'help' for a list of built-in commands."
echo ""
while printf '# ' && IFS= read -r line; do
  case "$line" in
    exit|logout) exit 0 ;;
    "") ;;
    *) echo "-sh: \${line%% *}: not found" ;;
  esac
done
`;

export function avahiConf(hostname: string): string {
  return [
    '[server]',
    `host-name=${hostname}`,
    'domain-name=local',
    'use-ipv4=yes',
    'use-ipv6=no',
    'allow-interfaces=eth0',
    'enable-dbus=no',
    'ratelimit-interval-usec=1000000',
    'ratelimit-burst=1000',
    '',
    '[wide-area]',
    'enable-wide-area=no',
    '',
    '[publish]',
    'publish-addresses=yes',
    'publish-hinfo=no',
    'publish-workstation=no',
    'publish-domain=yes',
    '',
    '[reflector]',
    '[rlimits]',
    '',
  ].join('\n');
}

export function avahiService(name: string, type: string, port: number, txt: string[]): string {
  return [
    '<?xml version="1.0" standalone="no"?>',
    '<!DOCTYPE service-group SYSTEM "avahi-service.dtd">',
    '<service-group>',
    `  <name>${name}</name>`,
    '  <service>',
    `    <type>${type}</type>`,
    `    <port>${port}</port>`,
    ...txt.map((t) => `    <txt-record>${t}</txt-record>`),
    '  </service>',
    '</service-group>',
    '',
  ].join('\n');
}

export function minidlnaConf(stateDir: string): string {
  return [
    `media_dir=A,${stateDir}/nas/media`,
    `db_dir=${stateDir}/nas/minidlna-db`,
    `log_dir=${stateDir}/nas`,
    'network_interface=eth0',
    'port=8200',
    'friendly_name=NAS Media',
    'model_name=DiskStation Media Server',
    'model_number=DS218',
    'serial=NAS0001',
    'inotify=no',
    'notify_interval=30',
    '',
  ].join('\n');
}

export function sshdConf(stateDir: string, node: string, opts: { permitRoot: boolean }): string {
  return [
    'Port 22',
    'ListenAddress 0.0.0.0',
    `HostKey ${stateDir}/${node}/ssh_host_ed25519_key`,
    'PasswordAuthentication yes',
    'KbdInteractiveAuthentication yes',
    'UsePAM yes',
    `PermitRootLogin ${opts.permitRoot ? 'yes' : 'no'}`,
    `PidFile ${stateDir}/${node}/sshd.pid`,
    'PrintMotd no',
    'UseDNS no',
    'MaxAuthTries 6',
    'MaxStartups 30:50:60',
    'LoginGraceTime 30',
    '',
  ].join('\n');
}

export const LAB_SUMMARY = {
  wanIp: LAB_WAN_IP,
  ispIp: LAB_ISP_IP,
  secrets: LAB_SECRETS,
};
