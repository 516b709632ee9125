/** `doctor`'s macos-container rows on hosts this machine is not (injected facts and status probe). */
import { describe, expect, it } from 'vitest';
import { containerAvailability } from '../../src/backends/macos-container/tools.js';
import { macosContainerChecks } from '../../src/doctor/macos-container.js';

const running = async () => ({ code: 0, stdout: 'apiserver is running\n', stderr: '' });
const stopped = async () => ({ code: 1, stdout: '', stderr: 'apiserver is not running' });

describe('macos-container in doctor', () => {
  it('macOS 26 with container running: all ok but the untested warning', async () => {
    const checks = await macosContainerChecks({ platform: 'darwin', darwinMajor: 25, container: '/usr/local/bin/container' }, running);
    expect(checks.map((c) => [c.id, c.status])).toEqual([
      ['macos-container.os', 'ok'], ['macos-container.tool.container', 'ok'], ['macos-container.system', 'ok'], ['macos-container.untested', 'warn'],
    ]);
  });

  it('service stopped: fails with "container system start"', async () => {
    const checks = await macosContainerChecks({ platform: 'darwin', darwinMajor: 25, container: '/x/container' }, stopped);
    expect(checks.find((c) => c.id === 'macos-container.system')).toMatchObject({ status: 'fail', fix: 'run "container system start"' });
  });

  it('older macOS, no CLI: fail with the upgrade, the other backend, and how to install', async () => {
    const checks = await macosContainerChecks({ platform: 'darwin', darwinMajor: 24, container: null }, running);
    expect(checks.find((c) => c.id === 'macos-container.os')).toMatchObject({ status: 'fail', fix: 'upgrade to macOS 26, or use --backend smolmachines' });
    expect(checks.find((c) => c.id === 'macos-container.tool.container')).toMatchObject({ status: 'fail', fix: expect.stringContaining('brew install container') });
    expect(containerAvailability({ platform: 'darwin', darwinMajor: 24, container: '/x' })).toMatchObject({ ok: false });
    expect(containerAvailability({ platform: 'darwin', darwinMajor: 25, container: '/x' })).toEqual({ ok: true });
  });
});
