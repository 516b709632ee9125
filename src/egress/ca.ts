/**
 * The per-bottle egress CA (docs/security-model.md §2.3). Minted on the host at every start/resume;
 * only the certificate ever reaches the agent. The key is PKCS#8 PEM, written 0600 in a 0700
 * directory.
 */
import { webcrypto, createPublicKey, X509Certificate, createHash } from 'node:crypto';
import { chmod, mkdir, writeFile, rename, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type * as X509 from '@peculiar/x509';

/**
 * @peculiar/x509, loaded on first use (x509-lib.ts): reading and checking a CA needs only
 * node:crypto, so the egress daemon starts without it and loads it for its first leaf.
 */
export function loadX509(): Promise<typeof X509> {
  return import('./x509-lib.js').then((m) => m.x509);
}

export const EC_ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const HOUR = 3600_000;
const DAY = 24 * HOUR;
export const CA_VALIDITY_MS = 30 * DAY;

export interface BottleCa {
  certPem: string;
  keyPem: string;
}

/** Error with a stable code; messages name files, never key material. */
export class CaError extends Error {
  constructor(
    readonly code: 'CA_UNREADABLE' | 'CA_MISMATCH' | 'CA_INVALID',
    message: string,
  ) {
    super(message);
    this.name = 'CaError';
  }
}

export function toPem(label: string, der: ArrayBuffer | Uint8Array): string {
  const b64 = Buffer.from(der instanceof Uint8Array ? der : new Uint8Array(der))
    .toString('base64')
    .replace(/(.{64})/g, '$1\n');
  return `-----BEGIN ${label}-----\n${b64.trimEnd()}\n-----END ${label}-----\n`;
}

/** 16 random bytes, first bit cleared so the DER INTEGER stays positive without padding. */
export function randomSerial(): string {
  const b = webcrypto.getRandomValues(new Uint8Array(16));
  b[0] = (b[0]! & 0x7f) | 0x01;
  return Buffer.from(b).toString('hex');
}

export async function createBottleCa(slug: string, now: Date): Promise<BottleCa> {
  const x509 = await loadX509();
  const keys = (await webcrypto.subtle.generateKey(EC_ALG, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const t = now.getTime();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: [{ CN: [`bot-bottle egress CA ${slug}`] }],
    notBefore: new Date(t - HOUR),
    notAfter: new Date(t + CA_VALIDITY_MS),
    keys,
    signingAlgorithm: EC_ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const keyPem = toPem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  return { certPem: cert.toString('pem') + '\n', keyPem };
}

/** Writes `ca.pem` (0644) and `ca-key.pem` (0600) into `dir` (created/forced 0700). */
export async function writeBottleCa(dir: string, ca: BottleCa): Promise<{ certPath: string; keyPath: string }> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const certPath = join(dir, 'ca.pem');
  const keyPath = join(dir, 'ca-key.pem');
  // temp + rename so a resumed bottle never sees a half-written key; mode set at creation.
  const tmpKey = `${keyPath}.tmp-${process.pid}`;
  await writeFile(tmpKey, ca.keyPem, { mode: 0o600 });
  await chmod(tmpKey, 0o600);
  await rename(tmpKey, keyPath);
  const tmpCert = `${certPath}.tmp-${process.pid}`;
  await writeFile(tmpCert, ca.certPem, { mode: 0o644 });
  await rename(tmpCert, certPath);
  return { certPath, keyPath };
}

export interface LoadedCa extends BottleCa {
  notAfter: Date;
  /** SHA-256 of the certificate DER, colon-free lower hex (logged at boot). */
  fingerprint: string;
  signingKey: webcrypto.CryptoKey;
}

/** Parses and cross-checks a CA pair (cert is a CA, key belongs to it). Names paths only. */
export async function loadCa(ca: BottleCa, names: { cert: string; key: string } = { cert: 'CA certificate', key: 'CA key' }): Promise<LoadedCa> {
  let nodeCert: X509Certificate;
  try {
    nodeCert = new X509Certificate(ca.certPem);
  } catch {
    throw new CaError('CA_INVALID', `${names.cert} is not a PEM certificate`);
  }
  if (!nodeCert.ca) throw new CaError('CA_INVALID', `${names.cert} is not a CA certificate (basicConstraints CA:false)`);
  let pubFromKey: Buffer;
  try {
    pubFromKey = createPublicKey(ca.keyPem).export({ type: 'spki', format: 'der' });
  } catch {
    throw new CaError('CA_INVALID', `${names.key} is not a PEM private key`);
  }
  const pubFromCert = nodeCert.publicKey.export({ type: 'spki', format: 'der' });
  if (!pubFromKey.equals(pubFromCert)) throw new CaError('CA_MISMATCH', `${names.key} does not belong to ${names.cert}`);
  const der = pemBody(ca.keyPem);
  let signingKey: webcrypto.CryptoKey;
  try {
    signingKey = await webcrypto.subtle.importKey('pkcs8', der, EC_ALG, false, ['sign']);
  } catch {
    throw new CaError('CA_INVALID', `${names.key} must be a PKCS#8 ECDSA P-256 key`);
  }
  const fingerprint = createHash('sha256').update(nodeCert.raw).digest('hex');
  return { ...ca, notAfter: new Date(nodeCert.validTo), fingerprint, signingKey };
}

export async function readCaFiles(certPath: string, keyPath: string): Promise<LoadedCa> {
  let certPem: string;
  let keyPem: string;
  try {
    certPem = await readFile(certPath, 'utf8');
  } catch {
    throw new CaError('CA_UNREADABLE', `cannot read the egress CA certificate ${certPath}`);
  }
  try {
    keyPem = await readFile(keyPath, 'utf8');
  } catch {
    throw new CaError('CA_UNREADABLE', `cannot read the egress CA key ${keyPath}`);
  }
  return loadCa({ certPem, keyPem }, { cert: certPath, key: keyPath });
}

function pemBody(pem: string): Uint8Array {
  const b64 = pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
  return new Uint8Array(Buffer.from(b64, 'base64'));
}
