// Turns credential results into `default-credentials` findings (CONTRACT.md)
// with advice a non-expert can follow. A pair from the user's own wordlist is
// never copied into a finding.
import type { Finding, Severity } from '../model/finding.js';
import type { CredResult, CredService } from './types.js';

const SERVICE_NAME: Record<CredService, string> = {
  telnet: 'telnet',
  ssh: 'SSH',
  http: 'web admin page',
  ftp: 'FTP',
  mqtt: 'MQTT broker',
  rtsp: 'RTSP video stream',
};

// A shell (telnet/SSH) is the whole device: Mirai's way in. The rest expose
// settings, files or video.
const SEVERITY: Record<CredService, Severity> = {
  telnet: 'critical',
  ssh: 'critical',
  http: 'high',
  ftp: 'high',
  mqtt: 'high',
  rtsp: 'high',
};

function advice(r: CredResult): string {
  const who = r.username !== undefined ? (r.username === '' ? 'the empty login' : `the "${r.username}" account`) : 'this account';
  switch (r.service) {
    case 'telnet':
      return `Turn telnet off on this device (or isolate it on a guest/IoT network with no inbound access) and change the password of ${who}; if neither is possible, replace the device.`;
    case 'ssh':
      return `Change the password of ${who} (or disable password logins and use keys), and don't forward port ${r.port} to it from the internet.`;
    case 'http':
      return `Log in to the device's web page and change the password of ${who}; don't expose port ${r.port} to the internet.`;
    case 'ftp':
      return `Change the FTP password of ${who} or turn FTP off on the device.`;
    case 'mqtt':
      return r.username === ''
        ? 'Turn off anonymous access on this MQTT broker and give each client its own password.'
        : `Change the MQTT password of ${who} and turn off anonymous access.`;
    case 'rtsp':
      return `Change the camera's password for ${who} so nobody on the network can watch its video.`;
  }
}

export function credFindings(results: CredResult[], macOf: (ip: string) => string | undefined = () => undefined): Finding[] {
  return results
    .filter((r) => r.status === 'default-credentials')
    .map((r) => {
      const mac = macOf(r.ip);
      const shown = r.username !== undefined;
      const login = shown ? (r.username === '' && r.service === 'mqtt' ? 'anonymous access' : `${r.username === '' ? '(empty user)' : r.username} / ${r.password === '' ? '(empty password)' : r.password}`) : 'a pair from your wordlist';
      return {
        id: 'default-credentials' as const,
        severity: SEVERITY[r.service],
        title: `${SERVICE_NAME[r.service]} on ${r.ip}:${r.port} accepts ${login}`,
        device: mac ? { mac, ip: r.ip } : { ip: r.ip },
        evidence: {
          service: r.service,
          port: r.port,
          ...(shown ? { username: r.username, password: r.password, source: r.source } : {}),
          ...(r.evidence ? { proof: r.evidence } : {}),
          attempts: r.attempts,
        },
        advice: advice(r),
      };
    });
}
