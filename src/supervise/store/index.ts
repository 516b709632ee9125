/** The supervise store (docs/supervise.md): host processes only. */
export { openStore, bottleOfSpool, decisionProblem } from './store.js';
export { storePath, DB_FILE } from './open.js';
export { SuperviseStoreError, type StoreRefusal } from './errors.js';
export { INBOX, OUTBOX, canonicalKind, ORIGIN_OF_KIND, writeInboxFile, type InboxFile, type SpoolProposal, type SpoolClose } from './spool.js';
export * from './types.js';
