/** The escape suite's smolmachines adapter: constructs only where smolvm and a hypervisor exist (docs/escape-suite.md). */
import { createSmolmachinesBackend } from '../../../src/backends/smolmachines/index.js';
import { probeSmolHost, smolAvailability } from '../../../src/backends/smolmachines/tools.js';
import type { EscapeAdapter } from '../types.js';
import { createCliEscapeAdapter } from './cli-backend.js';

export function createSmolmachinesEscapeAdapter(): EscapeAdapter {
  return createCliEscapeAdapter('smolmachines', () => createSmolmachinesBackend(), () => smolAvailability(probeSmolHost()));
}
