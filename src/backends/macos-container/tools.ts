/**
 * What the macos-container backend needs (docs/architecture.md#8a-the-smolmachines-and-macos-container-backends): macOS 26 or later
 * (Darwin 25) and Apple's `container` CLI on PATH. Cheap: no spawn (doctor adds `container system
 * status`).
 */
import { release } from 'node:os';
import type { Availability } from '../backend.js';
import { findExecutable, platformName } from '../platform.js';

export const CONTAINER_INSTALL = 'install Apple container: brew install container (or the signed installer from github.com/apple/container/releases), then run "container system start"';
/** macOS 26 reports Darwin 25. */
export const MIN_DARWIN = 25;

export interface ContainerHost {
  readonly platform: string;
  /** Darwin kernel major (os.release()), 0 when unknown. */
  readonly darwinMajor: number;
  readonly container: string | null;
}

export function probeContainerHost(): ContainerHost {
  const platform = platformName();
  return { platform, darwinMajor: platform === 'darwin' ? Number(/^(\d+)/.exec(release())?.[1] ?? 0) : 0, container: findExecutable('container') };
}

export function containerAvailability(h: ContainerHost): Availability {
  if (h.platform !== 'darwin') {
    return { ok: false, reason: `macos-container needs macOS 26 with Apple's container runtime (this is ${h.platform})`, fix: h.platform === 'linux' ? 'on Linux use --backend netns (root)' : 'use a macOS 26 host' };
  }
  if (h.darwinMajor < MIN_DARWIN) {
    return { ok: false, reason: `macos-container needs macOS 26 or later (Darwin ${MIN_DARWIN}; this is Darwin ${h.darwinMajor})`, fix: 'upgrade to macOS 26, or use --backend smolmachines' };
  }
  if (h.container === null) return { ok: false, reason: 'container (Apple container CLI) not found on PATH', fix: CONTAINER_INSTALL };
  return { ok: true };
}
