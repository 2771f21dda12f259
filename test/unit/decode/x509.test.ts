// Certificate summaries are cached by the DER's bytes: the same certificate
// wherever its bytes sit gives the one frozen summary; different bytes never
// get another certificate's summary, even when the hashed part is the same.
import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { summarizeCertificate } from '../../../src/core/decode/x509.js';
import { hasTool, makePki } from '../tlscheck/helpers.js';

const derOf = (pem: string): Uint8Array => new Uint8Array(new X509Certificate(pem).raw);

describe.skipIf(!hasTool('openssl'))('certificate summaries', () => {
  const pki = makePki(['cam.example']);
  const server = derOf(pki.cert);
  const other = derOf(pki.otherCert);
  const ca = derOf(pki.ca);

  it('summarizes what node:crypto reads, once per distinct certificate wherever its bytes sit', () => {
    // first seen as a view at an odd offset of a larger buffer (as in a TLS record)
    const big = new Uint8Array(server.length + 1001);
    big.set(server, 777);
    const a = summarizeCertificate(big.subarray(777, 777 + server.length));
    expect(a).toMatchObject({ commonName: 'cam.example', subjectAltNames: ['cam.example'], selfSigned: false });
    expect(a?.issuer).toContain('CN=test root CA');
    expect(Object.isFrozen(a)).toBe(true);
    // the buffer is then reused for other bytes: the cache kept its own copy
    big.fill(0);
    expect(summarizeCertificate(server)).toBe(a);
    expect(summarizeCertificate(server.slice())).toBe(a);
    expect(summarizeCertificate(ca)).toMatchObject({ commonName: 'test root CA', selfSigned: true });
    expect(summarizeCertificate(other)).toMatchObject({ commonName: 'attacker.test.example' });
    expect(summarizeCertificate(other)).not.toBe(a);
  });

  it('tells apart certificates whose length and last bytes are the same', () => {
    const a = summarizeCertificate(server);
    // change one byte in the middle (the subject): same length, same signature bytes at the end
    const forged = server.slice();
    const at = forged.indexOf(0x63, 200); // a 'c' of "cam.example" in the subject or SAN
    expect(at).toBeGreaterThan(0);
    forged[at] = 0x64;
    const f = summarizeCertificate(forged);
    expect(f).not.toBe(a);
    // node:crypto parses it (the signature is not checked here): it names the forged host
    expect(f?.commonName === 'cam.example' && f.subjectAltNames[0] === 'cam.example').toBe(false);
    expect(summarizeCertificate(server)).toBe(a);
  });
});
