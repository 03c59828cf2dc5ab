/**
 * `@zonekeeper/cert-issuer/cert-manager`: the cert-manager objects of one organisation (an ACME `Issuer`
 * solving DNS-01 in the organisation's Route 53 zone with a TXT-only identity, a CA `Issuer` backed by a
 * name-constrained intermediate, an approver-policy `CertificateRequestPolicy`), rendered purely.
 *
 * @packageDocumentation
 */

export {
  ALLOWED_CERTIFICATE_USAGES,
  APPROVER_POLICY_VERSION,
  CERT_MANAGER_OBJECT_NAMES,
  CERT_MANAGER_VERSION,
  type CertManagerAcmeInput,
  type CertManagerCaInput,
  type CertManagerInput,
  type CertManagerManifest,
  type CertManagerServiceAccount,
  ROUTE53_CREDENTIAL_KEYS,
  renderCertManager,
} from './render.js';
export {
  renderTrustBundle,
  TRUST_BUNDLE_KEY,
  TRUST_MANAGER_VERSION,
  type TrustBundleInput,
  trustBundleName,
} from './trust-manager.js';
