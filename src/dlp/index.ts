/** The DLP module's public surface (pure; shared by the egress proxy and the git gate). */
export { createScanner, MIN_SECRET_LENGTH, MAX_VIEW_DEPTH, SHORT_PIECE_MAX_TEXT, VIEW_BUDGET_CAP, VIEW_BUDGET_RATIO, VIEW_BUDGET_SLACK } from './scanner.js';
export { redactFindings, redactForLog, redactSurface, REDACTED } from './redact.js';
export { scanInbound, isScannableInboundType, InboundStreamScanner, INBOUND_OVERLAP, INBOUND_BLOCK_SCORE } from './inbound.js';
export {
  decodeBody,
  decodeText,
  encodeText,
  bodySurfaces,
  requestSurfaces,
  jsonUnescape,
  percentDecode,
  mediaType,
  MAX_DECODED_BYTES,
  MAX_DECODE_RATIO,
} from './decode.js';
export type { DecodeResult, DecodeFailure, DecodeLimits, TextEncodingName, RequestParts } from './decode.js';
export { FragmentAccumulator, FRAGMENT_WINDOW_MS } from './accumulator.js';
export { maskSecret, fingerprint } from './mask.js';
export { TOKEN_RULES, TOKEN_RULE_IDS } from './rules.js';
export type { TokenRule } from './rules.js';
export { encodedForms, base64Alignments } from './known-forms.js';
export type { KnownSecretRule } from './known-forms.js';
export { shannonEntropy, ENTROPY_MIN_BITS, ENTROPY_MIN_RUN } from './entropy.js';
export { luhnValid, ibanValid, isWif, isExtendedPrivateKey } from './validators.js';
export { secretShaped } from './assignments.js';
export type * from './types.js';
