/**
 * Direct entry for the egress daemon (`node --import tsx src/egress/main.ts`), used by tests and
 * by `bot-bottle sidecar egress` through the same `runEgressDaemon`.
 */
import { runEgressDaemon } from './daemon.js';

const code = await runEgressDaemon(process.env);
process.exit(code);
