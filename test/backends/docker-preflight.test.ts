/**
 * The preflight's backend line names the runtime the docker backend would use (docs/cli.md,
 * preflight: `backend docker  runtime runsc`): read from the real engine, following
 * BOT_BOTTLE_DOCKER_RUNTIME. And the CLI helper that turns a backend's refusal into a dry-run
 * warning (a real launch stops on it).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Backend } from '../../src/backends/backend.js';
import { plannedRuntime } from '../../src/cli/planned-runtime.js';
import { BottleError } from '../../src/errors.js';
import { REPO_ROOT, runCli } from '../helpers/cli.js';
import { dockerSkipReason } from './helpers/docker.js';

const skip = await dockerSkipReason();
if (skip) process.stdout.write(`docker preflight tests skipped: ${skip}\n`);

const examples = join(REPO_ROOT, 'examples');

describe.skipIf(skip)('docker preflight runtime (real engine)', () => {
  it('BOT_BOTTLE_DOCKER_RUNTIME=runc: the text and JSON plan say runtime runc', async () => {
    const env = { BOT_BOTTLE_HOME: examples, BOT_BOTTLE_DOCKER_RUNTIME: 'runc' };
    const text = await runCli(['start', 'reviewer', '--dry-run', '--backend', 'docker'], { env });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('  backend       docker  runtime runc\n');
    const json = await runCli(['start', 'reviewer', '--dry-run', '--backend', 'docker', '--json'], { env });
    expect((JSON.parse(json.stdout) as { backend: unknown }).backend).toEqual({ name: 'docker', runtime: 'runc' });
  });
});

describe('plannedRuntime (the CLI side)', () => {
  const backend = (f: Backend['plannedRuntime']): Backend => ({ plannedRuntime: f }) as unknown as Backend;
  const refuse = async (): Promise<never> => {
    throw new BottleError('BACKEND_UNAVAILABLE', 'gVisor is required but the docker engine has no "runsc" runtime registered', { fix: 'install runsc' });
  };

  it('passes the runtime and its warning through; a backend without the hook or an answer shows none', async () => {
    expect(await plannedRuntime(backend(async () => ({ runtime: 'runc', warning: 'runsc failed earlier' })), false)).toEqual({ runtime: 'runc', warnings: ['runsc failed earlier'] });
    expect(await plannedRuntime(backend(async () => null), false)).toEqual({ runtime: null, warnings: [] });
    expect(await plannedRuntime({} as Backend, false)).toEqual({ runtime: null, warnings: [] });
    expect(await plannedRuntime(null, true)).toEqual({ runtime: null, warnings: [] });
  });

  it('a refusal is a warning in a dry run and the error of a real launch', async () => {
    const dry = await plannedRuntime(backend(refuse), true);
    expect(dry.runtime).toBeNull();
    expect(dry.warnings).toHaveLength(1);
    expect(dry.warnings[0]).toContain('gVisor is required');
    await expect(plannedRuntime(backend(refuse), false)).rejects.toThrow(/gVisor is required/);
  });
});
