/**
 * `@zonekeeper/cert-issuer`: per-organisation certificate authorities and TLS server certificates.
 *
 * The crypto core is pure: {@link createCertificateAuthority} and {@link issueServerCertificate} turn
 * data (names, validity, `now`) into PEM certificates and PKCS#8 keys with Node's WebCrypto and
 * `@peculiar/x509`; {@link renewalTime} says when to renew. Storing in Vault and injecting into clusters
 * builds on it. {@link ensureAcmeCertificate} gets publicly trusted certificates by ACME DNS-01 through the
 * organisation's zone (`acme-client`), stored and injected the same way.
 *
 * @packageDocumentation
 */

export {
  answersChallenge,
  type ChallengePropagationOptions,
  type ChallengeRecord,
  challengeRecordName,
  challengeRecordSets,
  challengeRecords,
  waitForChallengeRecords,
} from './acme/challenge.js';
export {
  type AcmeCertificatePlan,
  type AcmeCertificateState,
  type AcmeCertificateStep,
  type AcmeDeps,
  type AcmeIssueReason,
  type AcmeRefusalReason,
  type AcmeRevocationReason,
  type AcmeSettings,
  type AcmeZone,
  acmeIssuer,
  applyAcmeCertificatePlan,
  type EnsureAcmeCertificateInput,
  type EnsureAcmeCertificateResult,
  ensureAcmeCertificate,
  gatherAcmeCertificate,
  planAcmeCertificate,
  type RevokeAcmeCertificateInput,
  type RevokeAcmeCertificateResult,
  revokeAcmeCertificate,
  validateAcmeSettings,
} from './acme/ensure.js';
export {
  ACME_ERROR_NAMESPACE,
  ACME_PROBLEM_MAPPINGS,
  type AcmeProblem,
  type AcmeProblemMapping,
  acmeProblemError,
  acmeProblemMapping,
  acmeProblemName,
  parseAcmeProblem,
  parseRetryAfter,
} from './acme/problems.js';
export {
  type AcmeRenewalBasis,
  type AcmeRenewalDecision,
  type AcmeRenewalDecisionInput,
  type AcmeRenewalInfo,
  type AcmeRenewalInfoFailure,
  type AcmeRenewalReason,
  type AcmeRenewalWindow,
  acmeCertId,
  decideAcmeRenewal,
  type FetchRenewalInfoOptions,
  fetchRenewalInfo,
  parseRenewalInfo,
} from './acme/renewal-info.js';
export {
  type CertificateAuthority,
  type CertificateAuthorityOptions,
  canSignIntermediates,
  certificateDefaults,
  createCertificateAuthority,
  type IntermediateCertificateAuthority,
  type IntermediateCertificateAuthorityOptions,
  type IssuedCertificate,
  issueIntermediateCertificateAuthority,
  issueServerCertificate,
  KEY_ALGORITHMS,
  type KeyAlgorithm,
  type RenewalTimeOptions,
  renewalTime,
  type ServerCertificateOptions,
} from './certificates.js';
export {
  applyCertificateAuthorityPlan,
  applyCertificatePlan,
  type CertificateAuthorityPlan,
  type CertificateAuthorityStep,
  type CertificateAuthoritySummary,
  type CertificateDeps,
  type CertificatePlan,
  type CertificateState,
  type CertificateStep,
  type CertificateSummary,
  certificateAuthoritySummary,
  defaultCaCommonName,
  type EnsureCertificateAuthorityInput,
  type EnsureCertificateAuthorityResult,
  type EnsureCertificateInput,
  type EnsureCertificateResult,
  ensureCertificate,
  ensureCertificateAuthority,
  gatherCertificate,
  gatherCertificateAuthority,
  type IssueReason,
  MAX_COMMON_NAME_LENGTH,
  planCertificate,
  planCertificateAuthority,
  type TlsSecretTarget,
} from './ensure.js';
