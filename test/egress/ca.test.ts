import 'reflect-metadata';
import { describe, it, expect, afterAll } from 'vitest';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, stat, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { createBottleCa, writeBottleCa, loadCa, readCaFiles, CaError } from '../../src/egress/ca.js';
import { LeafCache } from '../../src/egress/leaf-cache.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('egress CA', () => {
  it('mints a P-256 CA with CN, pathLen 0 critical, keyCertSign+cRLSign, now-1h..now+30d', async () => {
    const now = new Date('2026-01-01T00:00:00Z');
    const ca = await createBottleCa('researcher-m3hxd', now);
    const cert = new x509.X509Certificate(ca.certPem);
    expect(cert.subject).toBe('CN=bot-bottle egress CA researcher-m3hxd');
    expect(cert.notBefore.getTime()).toBe(now.getTime() - 3600_000);
    expect(cert.notAfter.getTime()).toBe(now.getTime() + 30 * 86400_000);
    const bc = cert.getExtension(x509.BasicConstraintsExtension)!;
    expect(bc.ca).toBe(true);
    expect(bc.pathLength).toBe(0);
    expect(bc.critical).toBe(true);
    const ku = cert.getExtension(x509.KeyUsagesExtension)!;
    expect(ku.usages).toBe(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign);
    expect(cert.serialNumber.length).toBe(32);
    const node = new X509Certificate(ca.certPem);
    expect(node.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(ca.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    const other = await createBottleCa('researcher-m3hxd', now);
    expect(other.certPem).not.toBe(ca.certPem);
  });

  it('writes ca.pem and ca-key.pem 0600 in a 0700 dir; loads them back', async () => {
    const base = await mkdtemp(join(tmpdir(), 'bb-ca-'));
    dirs.push(base);
    const ca = await createBottleCa('s1', new Date());
    const dir = join(base, 'egress');
    const { certPath, keyPath } = await writeBottleCa(dir, ca);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect((await stat(keyPath)).mode & 0o777).toBe(0o600);
    expect(await readFile(certPath, 'utf8')).toBe(ca.certPem);
    const loaded = await readCaFiles(certPath, keyPath);
    expect(loaded.fingerprint).toMatch(/^[0-9a-f]{64}$/);
  });

  it('rejects a key that does not belong to the cert, naming files only', async () => {
    const a = await createBottleCa('a', new Date());
    const b = await createBottleCa('b', new Date());
    const err = await loadCa({ certPem: a.certPem, keyPem: b.keyPem }, { cert: '/x/ca.pem', key: '/x/ca-key.pem' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CaError);
    expect((err as CaError).code).toBe('CA_MISMATCH');
    expect((err as Error).message).toContain('/x/ca-key.pem');
    await expect(readCaFiles('/nonexistent/ca.pem', '/nonexistent/k.pem')).rejects.toMatchObject({ code: 'CA_UNREADABLE' });
  });

  it('E2 leaf: SAN host, EKU serverAuth, chains to CA, ≤ 7 d and ≤ CA expiry; one shared mint; IP SAN', async () => {
    const now = Date.now();
    const ca = await loadCa(await createBottleCa('s', new Date(now - 29 * 86400_000)));
    const cache = new LeafCache({ ca });
    const [l1, l2] = await Promise.all([cache.get('api.example.test'), cache.get('api.example.test')]);
    expect(l1).toBe(l2);
    expect(cache.mints).toBe(1);
    const leaf = new X509Certificate(l1.certPem);
    expect(leaf.subjectAltName).toBe('DNS:api.example.test');
    expect(leaf.checkIssued(new X509Certificate(ca.certPem))).toBe(true);
    expect(leaf.verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
    expect(leaf.keyUsage).toContain('1.3.6.1.5.5.7.3.1');
    expect(new Date(leaf.validTo).getTime()).toBeLessThanOrEqual(ca.notAfter.getTime());
    expect(new Date(leaf.validTo).getTime() - now).toBeLessThanOrEqual(7 * 86400_000);
    const ipLeaf = await cache.get('127.0.0.1');
    expect(new X509Certificate(ipLeaf.certPem).subjectAltName).toBe('IP Address:127.0.0.1');
    // Same process key for every leaf.
    expect(new X509Certificate(ipLeaf.certPem).publicKey.export({ type: 'spki', format: 'der' }).equals(leaf.publicKey.export({ type: 'spki', format: 'der' }))).toBe(true);
  });

  it('LRU evicts beyond max and re-mints when < 1 h validity remains', async () => {
    let t = Date.now();
    const ca = await loadCa(await createBottleCa('s', new Date(t)));
    const cache = new LeafCache({ ca, max: 2, now: () => t });
    await cache.get('a.test');
    await cache.get('b.test');
    await cache.get('c.test');
    expect(cache.size).toBe(2);
    expect(cache.peek('a.test')).toBeUndefined();
    const before = cache.mints;
    t += 7 * 86400_000 - 1800_000;
    await cache.get('c.test');
    expect(cache.mints).toBe(before + 1);
  });
});
