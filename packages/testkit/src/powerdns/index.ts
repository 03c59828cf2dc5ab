/**
 * A real PowerDNS Authoritative Server for tests: start `pdns_server` with a fresh sqlite3 database on
 * 127.0.0.1 (DNS and HTTP API on free ports, random API key, RFC 2136 enabled), stop it reliably, check
 * that none is left behind, and ask it questions over real DNS with `dig` and `nsupdate`.
 *
 * @packageDocumentation
 */

export {
  type DigAnswer,
  type DigOptions,
  type DigRecord,
  type DnsServerAddress,
  dig,
  dnsUtilsInstallHint,
  type NsupdateKey,
  type NsupdateOptions,
  type NsupdateResult,
  nsupdate,
} from './dig.js';
export {
  type ListPowerDnsProcessesOptions,
  listPowerDnsProcesses,
  type PowerDnsProcessInfo,
} from './processes.js';
export {
  POWERDNS_SQLITE_SCHEMA_PATHS,
  type PowerDnsOptions,
  type PowerDnsServer,
  type PowerDnsUpdateOptions,
  powerDnsInstallHint,
  startPowerDns,
} from './server.js';
