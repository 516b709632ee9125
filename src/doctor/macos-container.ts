/**
 * macos-container checks of `doctor` (docs/cli.md): macOS ≥ 26, Apple's `container` on PATH, and
 * `container system status` reporting the service running. The first two are the backend's own
 * available() facts (backends/macos-container/tools.ts).
 */
import { runCommand } from '../backends/run-command.js';
import { CONTAINER_INSTALL, MIN_DARWIN, probeContainerHost, type ContainerHost } from '../backends/macos-container/tools.js';
import { fail, ok, skip, warn, type Check } from './check.js';

const S = 'macos-container';

export type StatusProbe = (container: string) => Promise<{ code: number; stdout: string; stderr: string }>;

const realStatus: StatusProbe = (container) => runCommand(container, ['system', 'status'], { env: process.env, timeoutMs: 5000 });

export async function macosContainerChecks(h: ContainerHost = probeContainerHost(), status: StatusProbe = realStatus): Promise<Check[]> {
  if (h.platform !== 'darwin') {
    return [fail(S, 'macos-container.os', `macos-container needs macOS 26 with Apple's container runtime (this is ${h.platform})`, h.platform === 'linux' ? 'on Linux use --backend netns (root)' : 'use a macOS 26 host')];
  }
  const checks: Check[] = [];
  checks.push(
    h.darwinMajor >= MIN_DARWIN
      ? ok(S, 'macos-container.os', `macOS 26 or later (Darwin ${h.darwinMajor})`)
      : fail(S, 'macos-container.os', `macos-container needs macOS 26 or later (this is Darwin ${h.darwinMajor})`, 'upgrade to macOS 26, or use --backend smolmachines'),
  );
  if (h.container === null) {
    checks.push(fail(S, 'macos-container.tool.container', 'container (Apple container CLI) not found on PATH', CONTAINER_INSTALL));
    checks.push(skip(S, 'macos-container.system', 'container system status: not checked (no container CLI)'));
  } else {
    checks.push(ok(S, 'macos-container.tool.container', `container (${h.container})`));
    const r = await status(h.container);
    checks.push(
      r.code === 0 && /running/i.test(r.stdout)
        ? ok(S, 'macos-container.system', 'container system service running')
        : fail(S, 'macos-container.system', 'the container system service is not running', 'run "container system start"'),
    );
  }
  checks.push(warn(S, 'macos-container.untested', 'macos-container is built to the container CLI and tested at the command-line level; it has not run on real hardware in this version'));
  return checks;
}
