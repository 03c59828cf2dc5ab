/**
 * `@zonekeeper/zone-manager/powerdns`: the PowerDNS adapter of the `DnsProvider` port over the
 * Authoritative Server's HTTP API, the narrow API client it is built on, and the TSIG and RFC 2136
 * administration primitives (keys, per-zone update metadata, an update policy script).
 *
 * @packageDocumentation
 */

export {
  createPowerDnsHttpApi,
  type PowerDnsApi,
  PowerDnsApiError,
  type PowerDnsComment,
  type PowerDnsHttpApiOptions,
  type PowerDnsRecord,
  type PowerDnsRRSet,
  type PowerDnsRRSetChange,
  type PowerDnsSearchResult,
  type PowerDnsTsigKey,
  type PowerDnsZone,
  type PowerDnsZoneCreate,
  type PowerDnsZoneSummary,
} from './client.js';
export { type PowerDnsErrorContext, translatePowerDnsError } from './errors.js';
export {
  createPowerDnsProvider,
  POWERDNS_MARKER_ACCOUNT,
  POWERDNS_MARKER_PREFIX,
  POWERDNS_TAGS_METADATA_KIND,
  type PowerDnsProvider,
  type PowerDnsProviderOptions,
  powerDnsZoneId,
} from './provider.js';
export {
  createPowerDnsAdmin,
  DEFAULT_TSIG_KEY_LABEL,
  type DnsUpdatePolicyOptions,
  type PowerDnsAdmin,
  ROTATED_TSIG_KEY_SUFFIX,
  renderDnsUpdatePolicy,
  TSIG_ALGORITHMS,
  type TsigAlgorithm,
  type TsigKey,
  type TsigKeyInfo,
  tsigKeyNameForZone,
  tsigKeyNamesForZone,
} from './tsig.js';
export {
  applyOrganizationTsigPlan,
  ensureOrganizationTsigKey,
  gatherOrganizationTsig,
  type OrganizationTsigDesired,
  type OrganizationTsigPlan,
  type OrganizationTsigResult,
  type OrganizationTsigState,
  type OrganizationTsigStep,
  planOrganizationTsig,
  type RemovedOrganizationTsigKey,
  removeOrganizationTsigKey,
  type StoredOrganizationTsigKey,
  type TsigKeyStore,
  tsigSecretFingerprint,
} from './tsig-identity.js';
export {
  createTsigCredentialIssuer,
  type TsigCredentialIssuerOptions,
} from './tsig-issuer.js';
export {
  applyOrganizationTsigRotationPlan,
  type OrganizationTsigRotationDeps,
  type OrganizationTsigRotationDesired,
  type OrganizationTsigRotationPlan,
  type OrganizationTsigRotationStep,
  planOrganizationTsigRotation,
} from './tsig-rotation.js';
