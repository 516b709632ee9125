/**
 * What the smolmachines backend needs on this host (docs/architecture.md#8a-the-smolmachines-and-macos-container-backends): macOS or
 * Linux with a usable /dev/kvm, and `smolvm` on PATH. `docker` is only needed to pack the agent
 * image (sidecars run as host processes in this version), so its absence is a doctor warning.
 * Cheap: no spawn.
 */
import { accessSync, constants } from 'node:fs';
import type { Availability } from '../backend.js';
import { findExecutable, platformName } from '../platform.js';

export const SMOLVM_INSTALL = 'install smolvm: brew install smol-machines/tap/smolvm (macOS), or curl -sSL https://smolmachines.com/install.sh | bash (macOS, Linux)';

export interface SmolHost {
  readonly platform: string;
  readonly smolvm: string | null;
  readonly docker: string | null;
  /** Linux: /dev/kvm readable and writable by this user. */
  readonly kvm: boolean;
}

export function kvmUsable(path = '/dev/kvm'): boolean {
  try {
    accessSync(path, constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

export function probeSmolHost(): SmolHost {
  const platform = platformName();
  return {
    platform,
    smolvm: findExecutable('smolvm'),
    docker: findExecutable('docker'),
    kvm: platform === 'linux' ? kvmUsable() : false,
  };
}

/** The backend's verdict (doctor prints the same reason and fix). */
export function smolAvailability(h: SmolHost): Availability {
  if (h.platform !== 'darwin' && h.platform !== 'linux') {
    return { ok: false, reason: `smolmachines needs macOS or Linux with KVM (this is ${h.platform})`, fix: 'run bot-bottle on macOS or Linux' };
  }
  if (h.smolvm === null) return { ok: false, reason: 'smolvm not found on PATH', fix: SMOLVM_INSTALL };
  if (h.platform === 'linux' && !h.kvm) {
    return {
      ok: false,
      reason: 'smolmachines needs a usable /dev/kvm on Linux (none here, or no permission)',
      fix: 'enable KVM (modprobe kvm_intel or kvm_amd; add your user to the kvm group); on a host without a hypervisor use --backend netns',
    };
  }
  return { ok: true };
}
