// Zod models of an RFC 8520 MUD file as JSON (RFC 7951 encoding): the
// `ietf-mud:mud` container, the RFC 8519 `ietf-access-control-list` ACLs it
// names, the `ietf-acldns` name matches and the `ietf-mud` match augments.
// Objects are strict wherever ignoring an unknown node would widen an allow
// rule (an unknown match condition ignored = a broader accept); the `mud`
// container tolerates module-prefixed extension nodes (RFC 8520 s3.5 lets a
// file carry extensions a controller does not understand).
import { z } from 'zod';

// --- leaf types --------------------------------------------------------------

const uint8 = z.number().int().min(0).max(255);
const uint16 = z.number().int().min(0).max(65535);
const uint32 = z.number().int().min(0).max(0xffffffff);

/** YANG `empty` in JSON is `[null]` (RFC 7951 s6.9). */
export const yangEmpty = z.tuple([z.null()], { error: 'a YANG "empty" leaf must be [null] (RFC 7951 s6.9)' });

const LABEL = /^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$/;
export function isDomainName(s: string): boolean {
  const name = s.endsWith('.') ? s.slice(0, -1) : s;
  if (name.length === 0 || name.length > 253) return false;
  return name.split('.').every((l) => LABEL.test(l));
}
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
export function isIpv4(s: string): boolean {
  return IPV4.test(s);
}
export function isIpv6(s: string): boolean {
  if (!/^[0-9A-Fa-f:.]+$/.test(s) || !s.includes(':')) return false;
  const dbl = s.split('::');
  if (dbl.length > 2) return false;
  const groups = (part: string) => (part === '' ? [] : part.split(':'));
  const all = [...groups(dbl[0]), ...(dbl.length === 2 ? groups(dbl[1]) : [])];
  let count = 0;
  for (const [i, g] of all.entries()) {
    if (i === all.length - 1 && g.includes('.')) {
      if (!isIpv4(g)) return false;
      count += 2;
    } else if (/^[0-9A-Fa-f]{1,4}$/.test(g)) count += 1;
    else return false;
  }
  return dbl.length === 2 ? count < 8 : count === 8;
}

/** inet:host: an IP address or a domain name (RFC 6991). */
const host = z.string().refine((s) => isIpv4(s) || isIpv6(s) || isDomainName(s), { error: 'not a host name or IP address' });
const uri = z.string().refine((s) => /^[A-Za-z][A-Za-z0-9+.-]*:\S+$/.test(s), { error: 'not a URI' });
const ipv4Prefix = z.string().refine((s) => {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(s);
  return !!m && isIpv4(m[1]) && Number(m[2]) <= 32;
}, { error: 'not an IPv4 prefix (e.g. 192.0.2.0/24)' });
// Some generators (MUDgee) write a bare IPv6 address; treat it as a /128.
const ipv6Prefix = z.string().refine((s) => {
  const m = /^([^/]+)(?:\/(\d{1,3}))?$/.exec(s);
  return !!m && isIpv6(m[1]) && (m[2] === undefined || Number(m[2]) <= 128);
}, { error: 'not an IPv6 prefix (e.g. 2001:db8::/32)' });
// yang:date-and-time (RFC 6991): 2019-01-28T11:20:51+01:00, fraction optional, Z allowed.
const dateAndTime = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/, { error: 'not a yang:date-and-time (e.g. 2019-01-28T11:20:51+01:00)' });
const macAddress = z.string().regex(/^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$/, { error: 'not a MAC address' });

/** identityref values may carry their module prefix (RFC 7951 s6.8). */
function identity<T extends string>(module: string, names: readonly T[], what: string) {
  return z.string().transform((s, ctx) => {
    const bare = s.startsWith(`${module}:`) ? s.slice(module.length + 1) : s;
    if ((names as readonly string[]).includes(bare)) return bare as T;
    ctx.addIssue({ code: 'custom', message: `unknown ${what} '${s}' (expected one of ${names.join(', ')})` });
    return z.NEVER;
  });
}

// --- RFC 8519 ACL --------------------------------------------------------------

/** port-range-or-operator (RFC 8519 s4.1, ietf-packet-fields): a range, or an operator and a port. */
export const portMatch = z
  .strictObject({
    operator: z.enum(['lte', 'gte', 'eq', 'neq']).optional(),
    port: uint16.optional(),
    'lower-port': uint16.optional(),
    'upper-port': uint16.optional(),
  })
  .superRefine((p, ctx) => {
    const range = p['lower-port'] !== undefined || p['upper-port'] !== undefined;
    const op = p.operator !== undefined || p.port !== undefined;
    if (range && op) ctx.addIssue({ code: 'custom', message: 'a port match is either a range (lower-port/upper-port) or an operator and a port, not both' });
    else if (range) {
      if (p['lower-port'] === undefined || p['upper-port'] === undefined) ctx.addIssue({ code: 'custom', message: 'a port range needs both lower-port and upper-port' });
      else if (p['upper-port'] < p['lower-port']) ctx.addIssue({ code: 'custom', message: 'upper-port is below lower-port (RFC 8519: upper-port must be >= lower-port)' });
    } else if (p.port === undefined) ctx.addIssue({ code: 'custom', message: 'a port match needs a port (or lower-port and upper-port)' });
  });
export type PortMatchJson = z.infer<typeof portMatch>;

const dnsNames = {
  'ietf-acldns:src-dnsname': host.optional(),
  'ietf-acldns:dst-dnsname': host.optional(),
};

export const ipv4Match = z.strictObject({
  dscp: z.number().int().min(0).max(63).optional(),
  ecn: z.number().int().min(0).max(3).optional(),
  length: uint16.optional(),
  ttl: uint8.optional(),
  protocol: uint8.optional(),
  ihl: z.number().int().min(5).max(60).optional(),
  flags: z.string().optional(),
  offset: z.number().int().min(20).max(65535).optional(),
  identification: uint16.optional(),
  'destination-ipv4-network': ipv4Prefix.optional(),
  'source-ipv4-network': ipv4Prefix.optional(),
  ...dnsNames,
});

export const ipv6Match = z.strictObject({
  dscp: z.number().int().min(0).max(63).optional(),
  ecn: z.number().int().min(0).max(3).optional(),
  length: uint16.optional(),
  ttl: uint8.optional(),
  protocol: uint8.optional(),
  'destination-ipv6-network': ipv6Prefix.optional(),
  'source-ipv6-network': ipv6Prefix.optional(),
  'flow-label': z.number().int().min(0).max(1048575).optional(),
  ...dnsNames,
});

export const DIRECTIONS = ['to-device', 'from-device'] as const;
export type MudDirection = (typeof DIRECTIONS)[number];

export const tcpMatch = z.strictObject({
  'sequence-number': uint32.optional(),
  'acknowledgement-number': uint32.optional(),
  'data-offset': z.number().int().min(5).max(15).optional(),
  reserved: z.number().int().min(0).max(15).optional(),
  flags: z.string().optional(),
  'window-size': uint16.optional(),
  'urgent-pointer': uint16.optional(),
  options: z.unknown().optional(),
  'source-port': portMatch.optional(),
  'destination-port': portMatch.optional(),
  /** RFC 8520 s8: which side opened the TCP connection. */
  'ietf-mud:direction-initiated': z.enum(DIRECTIONS).optional(),
});

export const udpMatch = z.strictObject({
  length: uint16.optional(),
  'source-port': portMatch.optional(),
  'destination-port': portMatch.optional(),
});

export const icmpMatch = z.strictObject({
  type: uint8.optional(),
  code: uint8.optional(),
  'rest-of-header': z.unknown().optional(),
});

/** ethertype: uint16 or an ietf-ethertypes name; MUDgee writes hex strings ("0x0800"). */
const ETHERTYPE_NAMES: Record<string, number> = { ipv4: 0x0800, arp: 0x0806, ipv6: 0x86dd, 'c-vlan': 0x8100, 's-vlan': 0x88a8, lldp: 0x88cc, eapol: 0x888e };
export const ethertype = z.union([uint16, z.string()]).transform((v, ctx) => {
  if (typeof v === 'number') return v;
  const named = ETHERTYPE_NAMES[v.replace(/^ietf-ethertypes:/, '')];
  if (named !== undefined) return named;
  if (/^0x[0-9A-Fa-f]{1,4}$/.test(v)) return parseInt(v, 16);
  ctx.addIssue({ code: 'custom', message: `not an ethertype: '${v}'` });
  return z.NEVER;
});

export const ethMatch = z.strictObject({
  'destination-mac-address': macAddress.optional(),
  'destination-mac-address-mask': macAddress.optional(),
  'source-mac-address': macAddress.optional(),
  'source-mac-address-mask': macAddress.optional(),
  ethertype: ethertype.optional(),
});

/** RFC 8520 s8: the `mud` match container (abstractions that avoid addresses). */
export const mudMatch = z
  .strictObject({
    manufacturer: host.optional(),
    'same-manufacturer': yangEmpty.optional(),
    model: uri.optional(),
    'local-networks': yangEmpty.optional(),
    controller: uri.optional(),
    'my-controller': yangEmpty.optional(),
  })
  .refine((m) => Object.keys(m).length === 1, { error: 'the ietf-mud:mud match holds exactly one abstraction (manufacturer, same-manufacturer, model, local-networks, controller or my-controller)' });
export type MudMatchJson = z.infer<typeof mudMatch>;

export const matches = z.strictObject({
  eth: ethMatch.optional(),
  ipv4: ipv4Match.optional(),
  ipv6: ipv6Match.optional(),
  tcp: tcpMatch.optional(),
  udp: udpMatch.optional(),
  icmp: icmpMatch.optional(),
  'ietf-mud:mud': mudMatch.optional(),
  'egress-interface': z.string().optional(),
  'ingress-interface': z.string().optional(),
});
export type MatchesJson = z.infer<typeof matches>;

export const FORWARDING = ['accept', 'drop', 'reject'] as const;
export const actions = z.strictObject({
  forwarding: identity('ietf-access-control-list', FORWARDING, 'forwarding action'),
  logging: z.string().optional(),
});

export const ace = z.strictObject({
  name: z.string().min(1).max(64),
  matches: matches.default({}),
  actions,
  statistics: z.unknown().optional(),
});
export type AceJson = z.infer<typeof ace>;

export const ACL_TYPES = [
  'ipv4-acl-type',
  'ipv6-acl-type',
  'eth-acl-type',
  'mixed-eth-ipv4-acl-type',
  'mixed-eth-ipv6-acl-type',
  'mixed-eth-ipv4-ipv6-acl-type',
  // the draft ACL model's spelling of eth-acl-type, written by MUDgee
  'ethernet-acl-type',
] as const;
export type AclType = (typeof ACL_TYPES)[number];

export const acl = z.strictObject({
  name: z.string().min(1).max(64),
  type: identity('ietf-access-control-list', ACL_TYPES, 'ACL type').optional(),
  aces: z.strictObject({ ace: z.array(ace) }).optional(),
});
export type AclJson = z.infer<typeof acl>;

export const acls = z.strictObject({ acl: z.array(acl) });

// --- RFC 8520 mud container -------------------------------------------------

const policyRef = z.strictObject({
  'access-lists': z.strictObject({
    'access-list': z.array(z.strictObject({ name: z.string().min(1) })),
  }),
});

const MUD_KNOWN = {
  'mud-version': z.literal(1, { error: 'mud-version must be 1 (RFC 8520)' }),
  'mud-url': uri.refine((s) => /^https:\/\/[^/\s]+/i.test(s), { error: 'mud-url must be an https URL (RFC 8520 s1.6)' }),
  'last-update': dateAndTime,
  'mud-signature': uri.optional(),
  'cache-validity': z.number().int().min(1).max(168).optional(),
  'is-supported': z.boolean(),
  // RFC 8520 caps these display strings at 60 characters; longer ones (mudmaker
  // writes them) are shown truncated with a warning rather than rejected.
  systeminfo: z.string().min(1).optional(),
  'mfg-name': z.string().min(1).optional(),
  'model-name': z.string().min(1).optional(),
  'firmware-rev': z.string().min(1).optional(),
  'software-rev': z.string().min(1).optional(),
  documentation: uri.optional(),
  extensions: z.array(z.string().min(1).max(40)).optional(),
  'from-device-policy': policyRef.optional(),
  'to-device-policy': policyRef.optional(),
};

/** The mud container: known leaves strictly typed, module-prefixed extension nodes passed through. */
export const mudContainer = z.looseObject(MUD_KNOWN).superRefine((m, ctx) => {
  for (const k of Object.keys(m)) {
    if (k in MUD_KNOWN || k.includes(':')) continue;
    ctx.addIssue({ code: 'custom', path: [k], message: `unknown node '${k}' in ietf-mud:mud (not in RFC 8520, and not a module-prefixed extension)` });
  }
});
export type MudContainerJson = z.infer<typeof mudContainer>;

/** A whole MUD file. `access-lists` is the pre-RFC 8519 draft name of `acls` that MUDgee and osMUD write. */
export const mudFile = z.strictObject({
  'ietf-mud:mud': mudContainer,
  'ietf-access-control-list:acls': acls.optional(),
  'ietf-access-control-list:access-lists': acls.optional(),
});
export type MudFileJson = z.infer<typeof mudFile>;

/** The document iotguard writes (RFC dialect only); learned files are validated against it. */
export const mudFileStrict = z.strictObject({
  'ietf-mud:mud': mudContainer,
  'ietf-access-control-list:acls': acls,
});
