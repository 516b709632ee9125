/**
 * A throwaway CA per test run and leaf certificates for loopback TLS stand-in upstreams.
 * Independent of src/egress/ca.ts on purpose: tests must not trust the code under test to mint
 * the certificates it is checked against.
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
type CryptoKeyPair = webcrypto.CryptoKeyPair;

const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export interface TestCa {
  certPem: string;
  keyPem: string;
  issue(names: string[]): Promise<{ certPem: string; keyPem: string }>;
}

function pem(label: string, der: ArrayBuffer): string {
  const b64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n');
  return `-----BEGIN ${label}-----\n${b64.trimEnd()}\n-----END ${label}-----\n`;
}

function serial(): string {
  return Buffer.from(webcrypto.getRandomValues(new Uint8Array(16))).toString('hex').replace(/^[89a-f]/, '1');
}

export async function createTestCa(cn = 'bot-bottle test CA'): Promise<TestCa> {
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
  const now = Date.now();
  const caCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${cn}`,
    notBefore: new Date(now - 3600_000),
    notAfter: new Date(now + 7 * 86400_000),
    keys,
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ],
  });
  const keyPem = pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  return {
    certPem: caCert.toString('pem') + '\n',
    keyPem,
    async issue(names: string[]) {
      const leafKeys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
      const isIp = (n: string) => /^[0-9.]+$/.test(n) || n.includes(':');
      const cert = await x509.X509CertificateGenerator.create({
        serialNumber: serial(),
        subject: `CN=${names[0] ?? 'localhost'}`,
        issuer: caCert.subject,
        notBefore: new Date(now - 3600_000),
        notAfter: new Date(now + 2 * 86400_000),
        signingKey: keys.privateKey,
        publicKey: leafKeys.publicKey,
        signingAlgorithm: alg,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
          new x509.SubjectAlternativeNameExtension(names.map((n) => (isIp(n) ? { type: 'ip' as const, value: n } : { type: 'dns' as const, value: n }))),
        ],
      });
      return {
        certPem: cert.toString('pem') + '\n',
        keyPem: pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', leafKeys.privateKey)),
      };
    },
  };
}
