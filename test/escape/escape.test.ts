/**
 * The sandbox-escape acceptance suite on netns and on docker, once each, through vitest
 * (docs/escape-suite.md). Docker runs under the engine's runtime choice (`auto`); where no engine,
 * base image or root is present it skips with the printed reason.
 */
import { adapterFor } from './backends/index.js';
import { describeEscapeSuite } from './describe-suite.js';

for (const backend of ['netns', 'docker'] as const) {
  const choice = adapterFor(backend);
  if ('skip' in choice) process.stderr.write(`SKIP escape suite on ${backend} (${choice.skip})\n`);
  describeEscapeSuite(backend, choice, 300_000);
}
