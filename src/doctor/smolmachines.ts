/**
 * smolmachines checks of `doctor` (docs/cli.md): the host OS, `smolvm` on PATH, a usable /dev/kvm on
 * Linux, and `docker` (warn only: needed to pack the agent image; the sidecars run as host
 * processes in this version either way). The same facts the backend's available() judges
 * (backends/smolmachines/tools.ts), so doctor and launch agree.
 */
import { probeSmolHost, SMOLVM_INSTALL, type SmolHost } from '../backends/smolmachines/tools.js';
import { fail, ok, skip, warn, type Check } from './check.js';

const S = 'smolmachines';

export function smolmachinesChecks(h: SmolHost = probeSmolHost()): Promise<Check[]> {
  const checks: Check[] = [];
  if (h.platform !== 'darwin' && h.platform !== 'linux') {
    checks.push(fail(S, 'smolmachines.os', `smolmachines needs macOS or Linux with KVM (this is ${h.platform})`, 'run bot-bottle on macOS or Linux'));
    return Promise.resolve(checks);
  }
  checks.push(ok(S, 'smolmachines.os', h.platform === 'darwin' ? 'macOS (Hypervisor.framework)' : 'Linux'));
  checks.push(h.smolvm !== null ? ok(S, 'smolmachines.tool.smolvm', `smolvm (${h.smolvm})`) : fail(S, 'smolmachines.tool.smolvm', 'smolvm not found on PATH', SMOLVM_INSTALL));
  if (h.platform === 'linux') {
    checks.push(
      h.kvm
        ? ok(S, 'smolmachines.kvm', '/dev/kvm usable')
        : fail(S, 'smolmachines.kvm', '/dev/kvm missing or not usable by this user (no hypervisor here)', 'enable KVM (modprobe kvm_intel or kvm_amd; add your user to the kvm group); on a host without a hypervisor use --backend netns'),
    );
  } else {
    checks.push(skip(S, 'smolmachines.kvm', '/dev/kvm: not needed on macOS'));
  }
  checks.push(
    h.docker !== null
      ? ok(S, 'smolmachines.docker', `docker (${h.docker}): packs the agent image; sidecars run as host processes on the bottle's loopback alias`)
      : warn(S, 'smolmachines.docker', "docker not found: the agent image (bot-bottle-<provider>:latest) cannot be packed for the VM; sidecars run as host processes either way (Docker-hosted sidecars are not available in this version)", 'install Docker (Docker Desktop, OrbStack or colima) and build the agent image'),
  );
  checks.push(warn(S, 'smolmachines.untested', 'smolmachines is built to the smolvm CLI and tested at the command-line level; it has not run on real hardware in this version'));
  return Promise.resolve(checks);
}
