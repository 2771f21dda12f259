// OpenWrt (fw4, 22.03+) packaging of the same ruleset: an nftables include
// that fw4 loads at `ruleset-post` (our own tables, so fw4's `inet fw4` is not
// touched), the UCI commands that register it, and dnsmasq name sets as UCI
// `ipset` sections (dnsmasq-full with nftset support, OpenWrt 23.05+).
import { renderNftables, type DeviceBinding, type RenderOptions, type RenderResult } from './render-nft.js';

export interface OpenWrtFile {
  path: string;
  content: string;
}

export interface OpenWrtResult extends RenderResult {
  files: OpenWrtFile[];
  /** One text with every file, each behind a `# ==> path <==` line. */
  bundle: string;
}

export const OPENWRT_NFT_PATH = '/etc/iotguard/iotguard.nft';
export const OPENWRT_SETUP_PATH = '/etc/iotguard/setup.sh';

function uciQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export function renderOpenWrt(bindings: DeviceBinding[], options: RenderOptions): OpenWrtResult {
  const r = renderNftables(bindings, options);
  // fw4 includes run inside its own script; the shebang line is not needed there
  const nft = r.nft.replace(/^#!.*\n/, '');
  const sh: string[] = [
    '#!/bin/sh',
    '# iotguard: register the policy with fw4 and the name sets with dnsmasq, then reload.',
    '# Run on the OpenWrt router after copying iotguard.nft to /etc/iotguard/.',
    'set -e',
    'uci -q delete firewall.iotguard || true',
    'uci set firewall.iotguard=include',
    "uci set firewall.iotguard.type='nftables'",
    `uci set firewall.iotguard.path=${uciQuote(OPENWRT_NFT_PATH)}`,
    "uci set firewall.iotguard.position='ruleset-post'",
    'uci commit firewall',
    "for s in $(uci -q show dhcp | sed -n 's/^dhcp\\.\\(iotguard_[A-Za-z0-9_]*\\)=ipset$/\\1/p'); do uci delete dhcp.$s; done",
  ];
  for (const s of r.sets) {
    const sec = `dhcp.iotguard_${s.name}`;
    sh.push(`uci set ${sec}=ipset`);
    sh.push(`uci add_list ${sec}.name=${uciQuote(s.name)}`);
    for (const n of s.names) sh.push(`uci add_list ${sec}.domain=${uciQuote(n)}`);
    sh.push(`uci set ${sec}.table=${uciQuote(r.table)}`);
    sh.push(`uci set ${sec}.table_family='inet'`);
  }
  sh.push('uci commit dhcp', '/etc/init.d/dnsmasq restart', 'fw4 reload', '');
  const files: OpenWrtFile[] = [
    { path: OPENWRT_NFT_PATH, content: nft },
    { path: OPENWRT_SETUP_PATH, content: sh.join('\n') },
  ];
  const bundle = files.map((f) => `# ==> ${f.path} <==\n${f.content}`).join('\n');
  return { ...r, files, bundle };
}
