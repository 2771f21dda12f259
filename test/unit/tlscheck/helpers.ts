// Shared bits of the tls-check unit tests: a throwaway CA with a "real"
// server certificate (what the genuine cloud would present), made with openssl.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestPki {
  dir: string;
  caFile: string;
  ca: string;
  cert: string;
  key: string;
  /** Certificate and key for another name, issued by the same (trusted) CA. */
  otherCert: string;
  otherKey: string;
}

function ossl(args: string[]): void {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
}

export function makePki(names: string[]): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'iotguard-tlscheck-'));
  const p = (f: string) => join(dir, f);
  ossl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '30', '-subj', '/CN=test root CA', '-keyout', p('ca.key'), '-out', p('ca.crt')]);
  const issue = (stem: string, sans: string[]) => {
    writeFileSync(p(`${stem}.ext`), `subjectAltName=${sans.map((n) => `DNS:${n}`).join(',')}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`);
    ossl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', `/CN=${sans[0]}`, '-keyout', p(`${stem}.key`), '-out', p(`${stem}.csr`)]);
    ossl(['x509', '-req', '-in', p(`${stem}.csr`), '-CA', p('ca.crt'), '-CAkey', p('ca.key'), '-CAcreateserial', '-days', '30', '-extfile', p(`${stem}.ext`), '-out', p(`${stem}.crt`)]);
  };
  issue('server', names);
  issue('other', ['attacker.test.example']);
  return {
    dir,
    caFile: p('ca.crt'),
    ca: readFileSync(p('ca.crt'), 'utf8'),
    cert: readFileSync(p('server.crt'), 'utf8'),
    key: readFileSync(p('server.key'), 'utf8'),
    otherCert: readFileSync(p('other.crt'), 'utf8'),
    otherKey: readFileSync(p('other.key'), 'utf8'),
  };
}

export const hasTool = (t: string) => spawnSync('sh', ['-c', `command -v ${t}`]).status === 0;
