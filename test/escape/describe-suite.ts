/**
 * The escape suite as vitest tests: one describe per backend, the suite run once in beforeAll,
 * one assertion per attack so a failure names it, plus "no stand-in received the secret or
 * canary". Skipped (with the reason printed by the caller) when the backend cannot run here.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { AdapterChoice } from './backends/index.js';
import { ATTACKS, formatTable, runEscapeSuite } from './suite.js';
import type { SuiteResult } from './types.js';

export function describeEscapeSuite(name: string, choice: AdapterChoice, timeoutMs: number): void {
  describe.skipIf('skip' in choice)(`sandbox-escape suite (${name})`, () => {
    let result: SuiteResult;
    beforeAll(async () => {
      if ('skip' in choice) return;
      result = await runEscapeSuite(choice.adapter);
      process.stdout.write(`\n${formatTable(result)}\n`);
    }, timeoutMs);

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
