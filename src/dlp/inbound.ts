import type { InboundResult } from './types.js';

// Contract stub: inbound prompt-injection heuristics (egress spec §11.6).
export function scanInbound(_text: string): InboundResult {
  throw new Error('inbound scanner not implemented yet');
}
