/**
 * The sandbox-escape acceptance suite on netns and on docker, once each, through vitest
 * (docs/escape-suite.md): one assertion per attack so a failure names it, plus "no stand-in
 * received the secret or canary". Docker runs under the engine's runtime choice (`auto`); where
 * no engine, base image or root is present it skips with the printed reason.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { adapterFor } from './backends/index.js';
import { ATTACKS, formatTable, runEscapeSuite } from './suite.js';
import type { SuiteResult } from './types.js';

for (const backend of ['netns', 'docker'] as const) {
  const choice = adapterFor(backend);
  const skip = 'skip' in choice ? choice.skip : false;
  if (skip) process.stderr.write(`SKIP escape suite on ${backend} (${skip})\n`);

  describe.skipIf(skip)(`sandbox-escape suite (${backend})`, () => {
    let result: SuiteResult;
    beforeAll(async () => {
      if ('skip' in choice) return;
      result = await runEscapeSuite(choice.adapter);
      process.stdout.write(`\n${formatTable(result)}\n`);
    }, 300_000);

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
