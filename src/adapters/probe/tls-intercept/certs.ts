// Forged certificates for the tls-check probe, made with @peculiar/x509 on
// Node's WebCrypto. RSA 2048 because every TLS stack a device may carry
// (old mbedTLS, wolfSSL, axTLS builds) speaks RSA; ECDSA-only would make an
// old client fail for the wrong reason and look like it validates.
//
//   self-signed   leaf for the right name, signed by its own key
//   wrong-host    leaf for another name, from a "valid-looking" CA (or the
//                 user's genuine certificate for a name they control)
//   expired       leaf for the right name from the same CA, expired 30 days ago
//   untrusted-ca  leaf for the right name from an unrelated private CA
import { webcrypto } from 'node:crypto';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
import { isIP } from 'node:net';
// @peculiar/x509 (through tsyringe) needs the Reflect metadata API loaded first
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import type { CertTest } from '../../../core/tlscheck/plan.js';

const subtle = webcrypto.subtle;
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALG: webcrypto.RsaHashedKeyGenParams = { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' };
const DAY = 86_400_000;

export interface ForgedCert {
  test: CertTest;
  /** PEM chain, leaf first. */
  certPem: string;
  keyPem: string;
  /** The name the leaf is issued for. */
  subjectName: string;
  notBefore: Date;
  notAfter: Date;
  issuer: string;
}

/** A genuine certificate for a name the user controls (from a CA the device may trust), for the wrong-host test. */
export interface UserCert {
  certPem: string;
  keyPem: string;
}

interface Ca {
  cert: x509.X509Certificate;
  keys: CryptoKeyPair;
}

async function pemKey(k: CryptoKey): Promise<string> {
  const der = Buffer.from(await subtle.exportKey('pkcs8', k));
  return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n?$/, '\n')}-----END PRIVATE KEY-----\n`;
}

const genKeys = () => subtle.generateKey(ALG, true, ['sign', 'verify']) as Promise<CryptoKeyPair>;

const dnEscape = (s: string) => s.replace(/[,+"\\<>;=]/g, (c) => `\\${c}`);

function sanFor(name: string): x509.SubjectAlternativeNameExtension {
  return new x509.SubjectAlternativeNameExtension([{ type: isIP(name) ? 'ip' : 'dns', value: name }]);
}

export interface CertForgeOptions {
  /** Name used for the wrong-host leaf. */
  wrongHostName?: string;
  userWrongHost?: UserCert;
  now?: () => Date;
}

export class CertForge {
  private caValid?: Promise<Ca>;
  private caUntrusted?: Promise<Ca>;
  private leafKeys?: Promise<CryptoKeyPair>;
  private readonly cache = new Map<string, Promise<ForgedCert>>();
  constructor(private readonly opts: CertForgeOptions = {}) {}

  private now(): Date {
    return this.opts.now ? this.opts.now() : new Date();
  }

  private async makeCa(name: string): Promise<Ca> {
    const keys = await genKeys();
    const now = this.now().getTime();
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: randomSerial(),
      name,
      notBefore: new Date(now - 3 * 365 * DAY),
      notAfter: new Date(now + 5 * 365 * DAY),
      keys,
      signingAlgorithm: ALG,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    return { cert, keys };
  }

  /** Pre-generate the CA and leaf keys (a few hundred ms) before traffic arrives. */
  async warm(): Promise<void> {
    // "valid-looking": a plausible commercial CA name; it exists nowhere and chains to nothing
    this.caValid ??= this.makeCa('C=US, O=Secure Trust Services Inc, CN=Secure Trust RSA Server CA G2');
    this.caUntrusted ??= this.makeCa('O=iotguard tls-check, CN=iotguard untrusted test CA');
    this.leafKeys ??= genKeys();
    await Promise.all([this.caValid, this.caUntrusted, this.leafKeys]);
  }

  forge(test: CertTest, name: string): Promise<ForgedCert> {
    const id = `${test}|${name}`;
    let p = this.cache.get(id);
    if (!p) {
      p = this.make(test, name);
      this.cache.set(id, p);
      p.catch(() => this.cache.delete(id));
    }
    return p;
  }

  private async make(test: CertTest, name: string): Promise<ForgedCert> {
    await this.warm();
    const leafKeys = await this.leafKeys!;
    const now = this.now().getTime();
    if (test === 'wrong-host' && this.opts.userWrongHost) {
      const first = new x509.X509Certificate(this.opts.userWrongHost.certPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/)?.[0] ?? '');
      return {
        test,
        certPem: this.opts.userWrongHost.certPem,
        keyPem: this.opts.userWrongHost.keyPem,
        subjectName: first.subject,
        notBefore: first.notBefore,
        notAfter: first.notAfter,
        issuer: first.issuer,
      };
    }
    const subjectName = test === 'wrong-host' ? (this.opts.wrongHostName ?? 'iotguard-wrong-host.invalid') : name;
    let notBefore = new Date(now - DAY);
    let notAfter = new Date(now + 365 * DAY);
    if (test === 'expired') {
      notBefore = new Date(now - 395 * DAY);
      notAfter = new Date(now - 30 * DAY);
    }
    const leafExt = async (issuerKey: CryptoKey | undefined): Promise<x509.Extension[]> => [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      sanFor(subjectName),
      await x509.SubjectKeyIdentifierExtension.create(leafKeys.publicKey),
      ...(issuerKey ? [await x509.AuthorityKeyIdentifierExtension.create(issuerKey)] : []),
    ];
    const subject = `CN=${dnEscape(subjectName)}`;
    if (test === 'self-signed') {
      const cert = await x509.X509CertificateGenerator.createSelfSigned({
        serialNumber: randomSerial(),
        name: subject,
        notBefore,
        notAfter,
        keys: leafKeys,
        signingAlgorithm: ALG,
        extensions: await leafExt(undefined),
      });
      return { test, certPem: cert.toString('pem') + '\n', keyPem: await pemKey(leafKeys.privateKey), subjectName, notBefore, notAfter, issuer: cert.issuer };
    }
    const ca = await (test === 'untrusted-ca' ? this.caUntrusted! : this.caValid!);
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerial(),
      subject,
      issuer: ca.cert.subject,
      notBefore,
      notAfter,
      publicKey: leafKeys.publicKey,
      signingKey: ca.keys.privateKey,
      signingAlgorithm: ALG,
      extensions: await leafExt(ca.keys.publicKey),
    });
    return {
      test,
      certPem: `${cert.toString('pem')}\n${ca.cert.toString('pem')}\n`,
      keyPem: await pemKey(leafKeys.privateKey),
      subjectName,
      notBefore,
      notAfter,
      issuer: ca.cert.subject,
    };
  }
}

function randomSerial(): string {
  const b = webcrypto.getRandomValues(new Uint8Array(16));
  b[0] &= 0x7f; // positive INTEGER (RFC 5280 §4.1.2.2)
  if (b[0] === 0) b[0] = 1;
  return Buffer.from(b).toString('hex');
}
