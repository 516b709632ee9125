/** Every attack case of the corpus (≥ 150), by class: see the files each part comes from. */
import { TOKEN_ATTACKS } from './attacks-tokens.js';
import { KNOWN_ATTACKS } from './attacks-known.js';
import { PROTOCOL_ATTACKS } from './attacks-protocol.js';
import { INBOUND_ATTACKS } from './attacks-inbound.js';
import type { CorpusCase } from './types.js';

export const ATTACKS: readonly CorpusCase[] = [...TOKEN_ATTACKS, ...KNOWN_ATTACKS, ...PROTOCOL_ATTACKS, ...INBOUND_ATTACKS];
