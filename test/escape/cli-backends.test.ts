/**
 * The sandbox-escape suite on the CLI-driven backends (smolmachines, macos-container;
 * docs/escape-suite.md): the same attacks, through the same adapter interface as netns. Where the
 * backend's tool or OS is missing (this Linux CI machine has neither smolvm with a hypervisor nor
 * Apple's container) the suite is skipped with the backend's own reason printed — never a silent
 * pass — and that reason is checked to be the backend's availability verdict.
 */
import { describe, expect, it } from 'vitest';
import { containerAvailability, probeContainerHost } from '../../src/backends/macos-container/tools.js';
import { probeSmolHost, smolAvailability } from '../../src/backends/smolmachines/tools.js';
import { adapterFor } from './backends/index.js';
import { describeEscapeSuite } from './describe-suite.js';

const VERDICTS = {
  smolmachines: () => smolAvailability(probeSmolHost()),
  'macos-container': () => containerAvailability(probeContainerHost()),
} as const;

for (const name of Object.keys(VERDICTS) as Array<keyof typeof VERDICTS>) {
  const choice = adapterFor(name);
  const skip = 'skip' in choice ? choice.skip : false;
  if (skip) process.stderr.write(`SKIP escape suite on ${name} (${skip})\n`);

  describe(`escape-suite adapter (${name})`, () => {
    it('constructs only where the backend can run; otherwise names why', () => {
      const v = VERDICTS[name]();
      if (v.ok) expect(skip === false || /compiled dist/.test(skip)).toBe(true);
      else expect(skip).toBe(`${name}: ${v.reason}`);
    });
  });

  describeEscapeSuite(name, choice, 600_000);
}
