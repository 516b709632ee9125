/**
 * The sandbox-escape suite on the CLI-driven backends (smolmachines, macos-container;
 * docs/escape-suite.md): the same attacks, through the same adapter interface as netns. Where the
 * backend's tool or OS is missing (this Linux CI machine has neither smolvm with a hypervisor nor
 * Apple's container) the suite is skipped with the backend's own reason printed — never a silent
 * pass — and that reason is checked to be the backend's availability verdict.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { containerAvailability, probeContainerHost } from '../../src/backends/macos-container/tools.js';
import { probeSmolHost, smolAvailability } from '../../src/backends/smolmachines/tools.js';
import { adapterFor } from './backends/index.js';
import { ATTACKS, formatTable, runEscapeSuite } from './suite.js';
import type { SuiteResult } from './types.js';

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

  describe.skipIf(skip)(`sandbox-escape suite (${name})`, () => {
    let result: SuiteResult;
    beforeAll(async () => {
      if ('skip' in choice) return;
      result = await runEscapeSuite(choice.adapter);
      process.stdout.write(`\n${formatTable(result)}\n`);
    }, 600_000);

    for (const a of ATTACKS) {
      it(`${a.id}: ${a.title} → ${a.expected}`, () => {
        const r = result.results.find((x) => x.id === a.id);
        expect(r, `attack ${a.id} produced no result`).toBeDefined();
        expect(r!.pass, `${a.id} ${a.title}: observed ${r!.observed}`).toBe(true);
      });
    }

    it('no stand-in upstream received the secret or the canary', () => {
      expect(result.upstreamLeaks).toEqual([]);
    });
  });
}
