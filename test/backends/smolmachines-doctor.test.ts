/** `doctor`'s smolmachines rows and the backend's availability on hosts this machine is not (injected facts). */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CANDIDATES } from '../../src/backends/registry.js';
import { createSmolmachinesBackend } from '../../src/backends/smolmachines/index.js';
import { smolAvailability } from '../../src/backends/smolmachines/tools.js';
import { smolmachinesChecks } from '../../src/doctor/smolmachines.js';

describe('smolmachines in doctor', () => {
  it('macOS without smolvm or docker: smolvm fails with how to get it, docker only warns, kvm not needed', async () => {
    const checks = await smolmachinesChecks({ platform: 'darwin', smolvm: null, docker: null, kvm: false });
    const by = (id: string) => checks.find((c) => c.id === id);
    expect(by('smolmachines.os')).toMatchObject({ status: 'ok' });
    expect(by('smolmachines.tool.smolvm')).toMatchObject({ status: 'fail', message: 'smolvm not found on PATH', fix: expect.stringContaining('brew install smol-machines/tap/smolvm') });
    expect(by('smolmachines.kvm')).toMatchObject({ status: 'skip' });
    expect(by('smolmachines.docker')).toMatchObject({ status: 'warn', message: expect.stringContaining('Docker-hosted sidecars are not available in this version') });
    expect(by('smolmachines.untested')).toMatchObject({ status: 'warn' });
  });

  it('Linux without /dev/kvm: fails, and names the backend to use instead', async () => {
    const checks = await smolmachinesChecks({ platform: 'linux', smolvm: '/usr/local/bin/smolvm', docker: '/usr/bin/docker', kvm: false });
    expect(checks.find((c) => c.id === 'smolmachines.kvm')).toMatchObject({ status: 'fail', fix: expect.stringContaining('use --backend netns') });
    expect(smolAvailability({ platform: 'linux', smolvm: '/x', docker: null, kvm: false })).toMatchObject({ ok: false, fix: expect.stringContaining('--backend netns') });
    expect(smolAvailability({ platform: 'linux', smolvm: '/x', docker: null, kvm: true })).toEqual({ ok: true });
  });

  it('an OS it cannot run on: one failing row with the fix', async () => {
    expect(await smolmachinesChecks({ platform: 'win32', smolvm: null, docker: null, kvm: false })).toEqual([
      { id: 'smolmachines.os', scope: 'smolmachines', status: 'fail', message: 'smolmachines needs macOS or Linux with KVM (this is win32)', fix: 'run bot-bottle on macOS or Linux' },
    ]);
  });

  it('is never the default backend (only chosen by name); launch refuses where it is unavailable', async () => {
    expect(DEFAULT_CANDIDATES).toEqual(['macos-container', 'docker', 'netns']);
    const b = createSmolmachinesBackend({ host: { platform: 'linux', smolvm: null, docker: null, kvm: false } });
    await expect(b.launch({} as never, {}, { onProgress: () => undefined })).rejects.toThrow('smolvm not found on PATH');
  });
});
