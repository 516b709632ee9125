/**
 * On-demand leaf certificates for intercepted hosts (docs/security-model.md §2.3): SAN = CONNECT
 * host, EKU serverAuth, valid now−1 h … min(now+7 d, CA expiry). One P-256 leaf key per process
 * (minting is then one signature); an LRU of SecureContexts by host, capped by an estimate of the
 * bytes it holds (docs/decisions/egress-memory.md); concurrent first requests share a mint.
 */
import { webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import tls from 'node:tls';
import type { X509Certificate as PeculiarCertificate } from '@peculiar/x509';
import { EC_ALG, loadX509, randomSerial, toPem, type LoadedCa } from './ca.js';

const HOUR = 3600_000;
const LEAF_MS = 7 * 24 * HOUR;

/**
 * What one cached leaf costs the process beyond its strings: the native SSL_CTX with the chain
 * and key, measured at ≈ 45 KB per entry on Node 20 (docs/decisions/egress-memory.md).
 */
export const LEAF_CONTEXT_BYTES = 46 * 1024;
/** Default byte cap of the cache: ≈ 130 hosts; a miss past it costs one mint (one signature). */
export const DEFAULT_LEAF_CACHE_BYTES = 6 * 1024 * 1024;

/** Estimated bytes one entry holds: the SecureContext plus its strings (UTF-16 worst case). */
export function leafEntryBytes(host: string, certPem: string): number {
  return LEAF_CONTEXT_BYTES + 2 * (host.length + certPem.length);
}

export interface Leaf {
  context: tls.SecureContext;
  certPem: string;
  notAfter: number;
}

export interface LeafCacheOptions {
  ca: LoadedCa;
  /** Cap on entries (default 512); the byte cap usually binds first. */
  max?: number;
  /** Cap on the estimated bytes of all entries (default DEFAULT_LEAF_CACHE_BYTES). */
  maxBytes?: number;
  now?: () => number;
}

export class LeafCache {
  private readonly ca: LoadedCa;
  private readonly max: number;
  private readonly maxBytes: number;
  private readonly now: () => number;
  private readonly leaves = new Map<string, Leaf>();
  private held = 0;
  private readonly pending = new Map<string, Promise<Leaf>>();
  private keyPair: Promise<{ keys: webcrypto.CryptoKeyPair; pem: string }> | undefined;
  /** The CA as @peculiar/x509 sees it, parsed on the first mint (the library loads lazily). */
  private caCert: PeculiarCertificate | undefined;
  mints = 0;

  constructor(opts: LeafCacheOptions) {
    this.ca = opts.ca;
    this.max = opts.max ?? 512;
    this.maxBytes = opts.maxBytes ?? DEFAULT_LEAF_CACHE_BYTES;
    if (!Number.isSafeInteger(this.maxBytes) || this.maxBytes <= 0) throw new RangeError(`leaf cache maxBytes must be a positive integer (got ${String(opts.maxBytes)})`);
    this.now = opts.now ?? Date.now;
  }

  /** Sync hit for the hot path; undefined when absent or due for re-mint. */
  peek(host: string): Leaf | undefined {
    const leaf = this.leaves.get(host);
    if (!leaf) return undefined;
    if (leaf.notAfter - this.now() < HOUR) {
      this.drop(host, leaf);
      return undefined;
    }
    // LRU: re-insert moves it to the newest end.
    this.leaves.delete(host);
    this.leaves.set(host, leaf);
    return leaf;
  }

  get(host: string): Promise<Leaf> {
    const hit = this.peek(host);
    if (hit) return Promise.resolve(hit);
    let p = this.pending.get(host);
    if (!p) {
      p = this.mint(host).then(
        (leaf) => {
          this.pending.delete(host);
          this.store(host, leaf);
          return leaf;
        },
        (err: unknown) => {
          this.pending.delete(host);
          throw err;
        },
      );
      this.pending.set(host, p);
    }
    return p;
  }

  get size(): number {
    return this.leaves.size;
  }

  /** Estimated bytes the cached entries hold. */
  get bytes(): number {
    return this.held;
  }

  /** Inserts as newest, then evicts from the oldest end until both caps hold (the newest stays). */
  private store(host: string, leaf: Leaf): void {
    const old = this.leaves.get(host);
    if (old) this.drop(host, old);
    this.leaves.set(host, leaf);
    this.held += leafEntryBytes(host, leaf.certPem);
    while (this.leaves.size > 1 && (this.leaves.size > this.max || this.held > this.maxBytes)) {
      const [oldest, l] = this.leaves.entries().next().value as [string, Leaf];
      this.drop(oldest, l);
    }
  }

  private drop(host: string, leaf: Leaf): void {
    this.leaves.delete(host);
    this.held -= leafEntryBytes(host, leaf.certPem);
  }

  private leafKey(): Promise<{ keys: webcrypto.CryptoKeyPair; pem: string }> {
    this.keyPair ??= (async () => {
      const keys = (await webcrypto.subtle.generateKey(EC_ALG, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
      const pem = toPem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
      return { keys, pem };
    })();
    return this.keyPair;
  }

  private async mint(host: string): Promise<Leaf> {
    this.mints += 1;
    const [{ keys, pem }, x509] = await Promise.all([this.leafKey(), loadX509()]);
    this.caCert ??= new x509.X509Certificate(this.ca.certPem);
    const t = this.now();
    const notAfter = Math.min(t + LEAF_MS, this.ca.notAfter.getTime());
    const ip = isIP(host) !== 0;
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerial(),
      subject: [{ CN: [host.length <= 64 ? host : 'bot-bottle egress leaf'] }],
      issuer: this.caCert.subject,
      notBefore: new Date(t - HOUR),
      notAfter: new Date(notAfter),
      signingKey: this.ca.signingKey,
      publicKey: keys.publicKey,
      signingAlgorithm: EC_ALG,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension([ip ? { type: 'ip', value: host } : { type: 'dns', value: host }]),
        await x509.AuthorityKeyIdentifierExtension.create(this.caCert),
      ],
    });
    const certPem = cert.toString('pem') + '\n';
    // Chain includes the CA so clients that only trust the bundle root still build the path.
    const context = tls.createSecureContext({ cert: certPem + this.ca.certPem, key: pem, minVersion: 'TLSv1.2' });
    return { context, certPem, notAfter };
  }
}
