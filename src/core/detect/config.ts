// Every threshold the detectors use, in one place, with the defaults that keep
// the public corpus free of false positives while still catching the lab's
// attacks. A caller overrides any subset: `resolveDetectorConfig({ dnsTunnel:
// { minQueries: 20 } })`. Times are seconds of capture time, sizes bytes.

export interface DetectorConfig {
  /** Evidence lists (frames, names, ports...) are cut to this many entries. */
  maxEvidence: number;
  plaintextFirmware: {
    /** A binary HTTP response at least this large counts as an image even without a firmware-looking path. */
    minImageBytes: number;
    /** TFTP transfers of at least this many bytes count as an image fetched over TFTP. */
    minTftpBytes: number;
  };
  plaintextCredentials: {
    /** Look for password fields in urlencoded form bodies and query strings. */
    formFields: boolean;
  };
  tlsWeak: {
    /** RSA keys shorter than this are weak. */
    minRsaBits: number;
    /** Report a self-signed leaf on a LAN server (a device's own admin UI, rated low) too; off: only internet servers. */
    localSelfSigned: boolean;
  };
  dnsTunnel: {
    /** Recognise known tools by the shapes of their names (off: the statistics alone decide). */
    recogniseTools: boolean;
    /** Queries under one registered domain from one device before the statistics are trusted. */
    minQueries: number;
    /** Distinct names below the domain (the carrier of the data). */
    minUniqueSubdomains: number;
    /** Mean length of the part left of the zone, characters. */
    minMeanSubdomainLength: number;
    /** Shannon entropy (bits/char) of the concatenated subdomain labels. */
    minEntropy: number;
    /** Share of queries that look encoded (long, high-entropy labels). */
    minEncodedShare: number;
    /** Share of TXT/NULL/CNAME/MX/SRV/PRIVATE queries that marks a data channel... */
    minOddTypeShare: number;
    /** ...when at least this share of the names looks encoded and the names are long and high-entropy. */
    minEncodedShareWithOddTypes: number;
    /** One label at least this long with this entropy makes a name look encoded. */
    encodedLabelLength: number;
    encodedLabelEntropy: number;
  };
  dnsBypass: {
    /** Queries to an outside resolver before it counts (a single fallback query is noise). */
    minQueries: number;
  };
  lateralScan: {
    /** Distinct LAN addresses on telnet 23/2323 within the window (Mirai's sweep). */
    telnetPortHosts: number;
    /** Distinct LAN addresses on one of the other worm ports within the window. */
    wormPortHosts: number;
    /** Same, for an internet-wide scan on those ports. */
    wormPortInternetHosts: number;
    /** Distinct addresses on any other port, mostly unanswered and never looked up in DNS. */
    otherPortHosts: number;
    /** Share of those attempts that got no answer or a reset. */
    minFailedShare: number;
    /** Distinct ports on one address (vertical scan). */
    verticalPorts: number;
    /** Distinct addresses asked for by ARP (sweep). */
    arpTargets: number;
    /** Distinct addresses pinged (ICMP echo sweep). */
    icmpHosts: number;
    windowSeconds: number;
    /** Ports a worm scans for (telnet, SSH, HTTP admin, TR-069, ADB, Huawei/Realtek exploits). */
    wormPorts: number[];
  };
  loginBruteForce: {
    /** Failed (or unanswered) login attempts from one client against one service. */
    minFailures: number;
    /** Separate SSH connections from one client to one server (SSH hides the verdict). */
    minSshConnections: number;
    /** An SSH connection shorter than this (seconds) that sent little counts as one guess. */
    sshMaxSeconds: number;
    windowSeconds: number;
  };
  beaconing: {
    /** Connections to the same destination needed (intervals = this - 1). */
    minConnections: number;
    /** Intervals shorter than this are bursts, not beacons. */
    minIntervalSeconds: number;
    /** Median absolute deviation of the intervals / median interval. */
    maxJitter: number;
    /** Share of intervals within the jitter band around the median. */
    minRegularShare: number;
    /** Ports where machine-timed contact with a named host is ordinary (NTP, DNS, HTTPS, MQTT-TLS...). */
    ordinaryPorts: number[];
  };
  remoteAccess: {
    /** An MQTT/WebSocket broker connection held at least this long (seconds). */
    brokerMinSeconds: number;
    /** Any other connection to an internet host held at least this long. */
    relayMinSeconds: number;
    /** Or polled: this many connections to one name... */
    pollMinConnections: number;
    /** ...at most this many seconds apart on average. */
    pollMaxIntervalSeconds: number;
  };
}

export const DEFAULT_DETECTOR_CONFIG: DetectorConfig = {
  maxEvidence: 20,
  plaintextFirmware: { minImageBytes: 256 * 1024, minTftpBytes: 64 * 1024 },
  plaintextCredentials: { formFields: true },
  tlsWeak: { minRsaBits: 2048, localSelfSigned: true },
  dnsTunnel: {
    recogniseTools: true,
    minQueries: 10,
    minUniqueSubdomains: 8,
    minMeanSubdomainLength: 24,
    minEntropy: 3.6,
    minEncodedShare: 0.6,
    minOddTypeShare: 0.5,
    minEncodedShareWithOddTypes: 0.2,
    encodedLabelLength: 20,
    encodedLabelEntropy: 3.3,
  },
  dnsBypass: { minQueries: 2 },
  lateralScan: {
    telnetPortHosts: 5,
    wormPortHosts: 10,
    wormPortInternetHosts: 10,
    otherPortHosts: 20,
    minFailedShare: 0.7,
    verticalPorts: 15,
    arpTargets: 20,
    icmpHosts: 15,
    windowSeconds: 300,
    wormPorts: [22, 23, 80, 81, 2323, 5555, 7547, 8080, 8081, 37215, 52869],
  },
  loginBruteForce: { minFailures: 5, minSshConnections: 10, sshMaxSeconds: 30, windowSeconds: 600 },
  beaconing: {
    minConnections: 8,
    minIntervalSeconds: 5,
    maxJitter: 0.1,
    minRegularShare: 0.8,
    ordinaryPorts: [53, 80, 123, 443, 853, 1883, 5223, 8883],
  },
  remoteAccess: { brokerMinSeconds: 15, relayMinSeconds: 300, pollMinConnections: 10, pollMaxIntervalSeconds: 60 },
};

export type DetectorConfigInput = { [K in keyof DetectorConfig]?: DetectorConfig[K] extends object ? Partial<DetectorConfig[K]> : DetectorConfig[K] };

/** The defaults with the given overrides (one level deep: each detector's block is merged). */
export function resolveDetectorConfig(input: DetectorConfigInput = {}): DetectorConfig {
  const out = structuredClone(DEFAULT_DETECTOR_CONFIG) as unknown as Record<string, unknown>;
  for (const [k, v] of Object.entries(input)) {
    if (v === undefined) continue;
    const cur = out[k];
    out[k] = cur !== null && typeof cur === 'object' && !Array.isArray(cur) && typeof v === 'object' ? { ...(cur as object), ...(v as object) } : v;
  }
  return out as unknown as DetectorConfig;
}
