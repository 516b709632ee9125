/**
 * @peculiar/x509 (with the reflect-metadata polyfill it needs), set up for Node's WebCrypto.
 * Loaded only through `loadX509()` (ca.ts): it costs about as much start-up time as the rest of
 * the egress daemon, which needs it only to sign its first leaf certificate
 * (docs/decisions/launch-processes.md).
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export { x509 };
