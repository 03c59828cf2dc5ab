/**
 * Loads `@peculiar/x509` the way it must be loaded on Node 20, once, for the whole package.
 *
 * This module has **side effects** and must be listed in `package.json` `sideEffects`:
 * - `reflect-metadata` installs the global `Reflect` metadata polyfill that `@peculiar/x509` 2.x (via
 *   tsyringe) needs at import time; it must be evaluated before `@peculiar/x509`, which is why it is
 *   the first import of this file and why no other file of this package imports `@peculiar/x509`
 *   directly;
 * - `x509.cryptoProvider.set(webcrypto)` registers Node's WebCrypto as the default provider.
 *
 * The crypto calls of this package also pass {@link nodeCrypto} explicitly, so they do not depend on
 * the global provider if another library replaces it.
 *
 * @internal
 */

// Order matters: the polyfill first, then @peculiar/x509. Keep these two imports in this order.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

/**
 * Node's WebCrypto (`node:crypto` `webcrypto`), the provider every x509 call of this package uses.
 * @internal
 */
export const nodeCrypto = webcrypto;

x509.cryptoProvider.set(nodeCrypto);

export { x509 };
