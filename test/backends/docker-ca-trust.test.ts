/**
 * The pure parts behind writing the bottle CA into a created docker container and talking to the
 * engine API (docs/decisions/docker-ca-at-create.md, docker-engine-api.md): the ustar writer and
 * reader (checked against the system tar), the files and their owners, the endpoint DOCKER_HOST
 * names.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BOTTLE_CA_MARK, caTrustFiles, stripBottleCa } from '../../src/backends/docker/ca-trust.js';
import { engineEndpoint } from '../../src/backends/docker/engine-api.js';
import { imagePath } from '../../src/backends/docker/images.js';
import { firstTarEntry, tarFiles } from '../../src/backends/docker/tar.js';
import { caBundleText } from '../../src/launch/ca-bundle.js';
import { GUEST_CA_BUNDLE, GUEST_CA_CERT } from '../../src/plan/bottle-plan.js';

const CA = '-----BEGIN CERTIFICATE-----\nBOTTLE\n-----END CERTIFICATE-----\n';
const ROOTS = '-----BEGIN CERTIFICATE-----\nROOT1\n-----END CERTIFICATE-----\n';

describe('ustar', () => {
  it('writes files the system tar lists with their owner, mode and content, and reads them back', () => {
    const long = `home/node/${'d'.repeat(90)}/${'f'.repeat(40)}.pem`;
    const tar = tarFiles([
      { name: 'home/node/.bot-bottle-ca.pem', content: Buffer.from(CA), mode: 0o644, uid: 1000, gid: 1000, mtime: 1_700_000_000 },
      { name: long, content: Buffer.alloc(700, 'x'), mode: 0o600, uid: 0, gid: 0, mtime: 1_700_000_000 },
    ]);
    expect(tar.length % 512).toBe(0);
    const dir = mkdtempSync(join(tmpdir(), 'bb-tar-'));
    try {
      writeFileSync(join(dir, 'a.tar'), tar);
      const listing = execFileSync('tar', ['--numeric-owner', '-tvf', join(dir, 'a.tar')], { encoding: 'utf8' });
      expect(listing).toMatch(/^-rw-r--r-- 1000\/1000\s+\d+ .* home\/node\/\.bot-bottle-ca\.pem$/m);
      expect(listing).toContain(long);
      expect(listing).toMatch(/^-rw------- 0\/0\s+700 /m);
      execFileSync('tar', ['-xf', join(dir, 'a.tar'), '-C', dir]);
      expect(execFileSync('cat', [join(dir, 'home/node/.bot-bottle-ca.pem')], { encoding: 'utf8' })).toBe(CA);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const e = firstTarEntry(tar)!;
    expect(e).toMatchObject({ name: 'home/node/.bot-bottle-ca.pem', type: '0', mode: 0o644, uid: 1000, gid: 1000 });
    expect(e.content.toString()).toBe(CA);
  });

  it('reads what the system tar writes: a symlink entry with its target, and skips a PAX header', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bb-tar-'));
    try {
      execFileSync('ln', ['-s', '../pki/bundle.pem', join(dir, 'ca-certificates.crt')]);
      const link = execFileSync('tar', ['-C', dir, '-cf', '-', 'ca-certificates.crt']);
      expect(firstTarEntry(link)).toMatchObject({ name: 'ca-certificates.crt', type: '2', linkname: '../pki/bundle.pem' });
      writeFileSync(join(dir, 'r.pem'), ROOTS);
      const pax = execFileSync('tar', ['--format=pax', '--pax-option=globexthdr.x=1', '-C', dir, '-cf', '-', 'r.pem']);
      expect(firstTarEntry(pax)?.content.toString()).toBe(ROOTS);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(firstTarEntry(Buffer.alloc(1024))).toBeNull();
    expect(() => tarFiles([{ name: `${'x'.repeat(200)}/${'y'.repeat(101)}`, content: Buffer.alloc(0), mode: 0o644, uid: 0, gid: 0, mtime: 0 }])).toThrow(/path too long/);
  });
});

describe('the CA trust files of a created container', () => {
  const base = { caPem: CA, guestCertPath: GUEST_CA_CERT, guestBundlePath: GUEST_CA_BUNDLE, mtime: 1_700_000_000 };
  const store = { path: '/etc/ssl/certs/ca-certificates.crt', text: ROOTS, mode: 0o644, uid: 0, gid: 0 };

  it('append the CA to the system store (root-owned, its mode kept) and give the agent the CA and the bundle provisioning would write', () => {
    const files = caTrustFiles({ ...base, store, localCaDir: true });
    const by = new Map(files.map((f) => [f.name, f]));
    expect([...by.keys()]).toEqual(['etc/ssl/certs/ca-certificates.crt', 'usr/local/share/ca-certificates/bot-bottle.crt', GUEST_CA_CERT.slice(1), GUEST_CA_BUNDLE.slice(1)]);
    expect(by.get('etc/ssl/certs/ca-certificates.crt')).toMatchObject({ uid: 0, gid: 0, mode: 0o644 });
    expect(by.get('etc/ssl/certs/ca-certificates.crt')!.content.toString()).toBe(`${ROOTS}${BOTTLE_CA_MARK}\n${CA}`);
    expect(by.get(GUEST_CA_CERT.slice(1))).toMatchObject({ uid: 1000, gid: 1000, mode: 0o644 });
    expect(by.get(GUEST_CA_CERT.slice(1))!.content.toString()).toBe(CA);
    expect(by.get(GUEST_CA_BUNDLE.slice(1))!.content.toString()).toBe(caBundleText(ROOTS, CA));
    expect(by.get(GUEST_CA_BUNDLE.slice(1))).toMatchObject({ uid: 1000, gid: 1000 });
  });

  it('drop a previous bottle CA of a committed image instead of trusting it again', () => {
    const old = `${ROOTS}${BOTTLE_CA_MARK}\n-----BEGIN CERTIFICATE-----\nOLD\n-----END CERTIFICATE-----\n`;
    expect(stripBottleCa(old)).toBe(ROOTS);
    expect(stripBottleCa(ROOTS)).toBe(ROOTS);
    const files = caTrustFiles({ ...base, store: { ...store, text: old }, localCaDir: false });
    const all = files.map((f) => f.content.toString()).join('');
    expect(all).not.toContain('OLD');
    expect(files.find((f) => f.name === 'etc/ssl/certs/ca-certificates.crt')!.content.toString().split(BOTTLE_CA_MARK).length).toBe(2);
  });

  it('without a system store: only the guest files, the bundle being the CA alone (as the provisioning script does)', () => {
    const files = caTrustFiles({ ...base, store: null, localCaDir: false });
    expect(files.map((f) => f.name)).toEqual([GUEST_CA_CERT.slice(1), GUEST_CA_BUNDLE.slice(1)]);
    expect(files[1]!.content.toString()).toBe(CA);
  });
});

describe('engine endpoint and paths', () => {
  it('reaches a unix socket or plain tcp, and refuses TLS and ssh hosts it cannot speak', () => {
    expect(engineEndpoint({})).toEqual({ socketPath: '/var/run/docker.sock' });
    expect(engineEndpoint({ DOCKER_HOST: 'unix:///tmp/x/docker.sock' })).toEqual({ socketPath: '/tmp/x/docker.sock' });
    expect(engineEndpoint({ DOCKER_HOST: 'tcp://127.0.0.1:2375' })).toEqual({ host: '127.0.0.1', port: 2375 });
    expect(engineEndpoint({ DOCKER_HOST: 'tcp://[::1]' })).toEqual({ host: '::1', port: 2375 });
    expect(engineEndpoint({ DOCKER_HOST: 'tcp://127.0.0.1:2376', DOCKER_TLS_VERIFY: '1' })).toBeNull();
    expect(engineEndpoint({ DOCKER_HOST: 'ssh://me@host' })).toBeNull();
  });

  it('names an image by its reference as is (registry path and tag), escaping only what would end the path', () => {
    expect(imagePath('bot-bottle-sidecars:0.1.0')).toBe('/images/bot-bottle-sidecars:0.1.0/json');
    expect(imagePath('ghcr.io/o/agent:1')).toBe('/images/ghcr.io/o/agent:1/json');
    expect(imagePath('a?b#c')).toBe('/images/a%3Fb%23c/json');
  });
});
