import type { Scanner, ScannerOptions } from './types.js';

// Contract stub: the DLP work replaces this body (one-pass multi-secret scanning, egress spec §11).
export function createScanner(_opts: ScannerOptions): Scanner {
  throw new Error('dlp scanner not implemented yet');
}
