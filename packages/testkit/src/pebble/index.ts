/**
 * Pebble, Let's Encrypt's ACME test server, for tests: start it on 127.0.0.1 validating DNS-01
 * challenges against a test DNS server (a real PowerDNS), fetch its root and intermediate, stop it
 * reliably, and check that none is left behind.
 *
 * @packageDocumentation
 */

export { type ListPebbleProcessesOptions, listPebbleProcesses, type PebbleProcessInfo } from './processes.js';
export {
  PEBBLE_VERSION,
  type PebbleCertificateStatus,
  type PebbleDnsServer,
  type PebbleOptions,
  type PebbleServer,
  pebbleInstallHint,
  startPebble,
} from './server.js';
