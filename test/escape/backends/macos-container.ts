/** The escape suite's macos-container adapter: constructs only on macOS 26 with Apple's container CLI (docs/escape-suite.md). */
import { createMacosContainerBackend } from '../../../src/backends/macos-container/index.js';
import { containerAvailability, probeContainerHost } from '../../../src/backends/macos-container/tools.js';
import type { EscapeAdapter } from '../types.js';
import { createCliEscapeAdapter } from './cli-backend.js';

export function createMacosContainerEscapeAdapter(): EscapeAdapter {
  return createCliEscapeAdapter('macos-container', () => createMacosContainerBackend(), () => containerAvailability(probeContainerHost()));
}
