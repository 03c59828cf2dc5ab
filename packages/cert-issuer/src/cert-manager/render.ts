/**
 * The cert-manager objects of one organisation, rendered purely (like the ExternalDNS renderer): data
 * in, Kubernetes objects out, no I/O, no clock, no randomness. Apply them with server-side apply; for
 * GitOps, `toYaml` from `@zonekeeper/externaldns-deployer` writes them with every Secret value redacted.
 *
 * ```
 *  object                                         scope                 when
 *  Secret zonekeeper-acme-route53                 each tenant namespace acme: the TXT-only identity's keys
 *  Issuer zonekeeper-acme                         each tenant namespace acme: Route 53 DNS-01, dnsZones = [zone]
 *  Secret zonekeeper-ca (kubernetes.io/tls)       each tenant namespace ca: the name-constrained intermediate
 *  Issuer zonekeeper-ca                           each tenant namespace ca
 *  CertificateRequestPolicy zonekeeper-<org>      cluster               approverPolicy (default on)
 *  ClusterRole zonekeeper-<org>-certificate-policy  cluster             approverPolicy: `use` of that policy
 *  RoleBinding zonekeeper-certificate-policy      each tenant namespace approverPolicy: to cert-manager's SA
 * ```
 *
 * The ACME solver writes with a separate identity whose policy allows only TXT records at
 * `_acme-challenge.<zone>` and `_acme-challenge.*.<zone>` (`buildAcmeChallengePolicy` in
 * `@zonekeeper/iam-scoper`); the `Issuer` names the hosted zone, so cert-manager never lists zones. The
 * CA `Issuer` holds an intermediate whose X.509 name constraints permit only the organisation's zone
 * (`issueIntermediateCertificateAuthority`): the organisation's root key stays in Vault, and a leaked
 * intermediate key can sign nothing a verifier accepts outside the zone.
 *
 * @packageDocumentation
 */

import { createPrivateKey, X509Certificate } from 'node:crypto';
import {
  describeValue,
  invalidInput,
  isWithinDomain,
  type KubernetesObject,
  normalizeDomainName,
  validateDnsLabel,
  validateOrganizationName,
  ZONEKEEPER_MANAGER,
  ZonekeeperLabels,
} from '@zonekeeper/core';
import { permittedDnsDomainsOfCertificate } from '../certificates.js';

/**
 * The cert-manager release whose CRDs the rendered objects are tested against (`render.apiserver.test.ts`
 * applies them to a real kube-apiserver with that release's CRDs). cert-manager v1.x keeps the `v1`
 * API, so other v1 releases accept them too.
 * @public
 */
export const CERT_MANAGER_VERSION = 'v1.21.1';

/** The approver-policy release whose `CertificateRequestPolicy` CRD the rendered policy is tested against. @public */
export const APPROVER_POLICY_VERSION = 'v0.28.0';

/** The names of the objects {@link renderCertManager} renders in each tenant namespace. @public */
export const CERT_MANAGER_OBJECT_NAMES = Object.freeze({
  acmeIssuer: 'zonekeeper-acme',
  /** Where cert-manager keeps the ACME account key it generates for the `Issuer`. */
  acmeAccountKey: 'zonekeeper-acme-account',
  route53Credentials: 'zonekeeper-acme-route53',
  caIssuer: 'zonekeeper-ca',
  caSecret: 'zonekeeper-ca',
  policyRoleBinding: 'zonekeeper-certificate-policy',
} as const);

/** The keys of the Route 53 credentials Secret. @public */
export const ROUTE53_CREDENTIAL_KEYS = Object.freeze({
  accessKeyId: 'access-key-id',
  secretAccessKey: 'secret-access-key',
} as const);

/** The key usages the organisation's CertificateRequestPolicy allows (a TLS server certificate's). @public */
export const ALLOWED_CERTIFICATE_USAGES: readonly string[] = Object.freeze([
  'digital signature',
  'key encipherment',
  'server auth',
]);

/** The ACME part of {@link CertManagerInput}: a Route 53 DNS-01 `Issuer`. @public */
export interface CertManagerAcmeInput {
  /** The ACME directory URL, `https://…` (e.g. `https://acme-v02.api.letsencrypt.org/directory`). */
  readonly server: string;
  /** The account's contact e-mail address; optional. */
  readonly email?: string | undefined;
  /** The organisation's hosted zone id, `Z…` or `/hostedzone/Z…`. */
  readonly hostedZoneId: string;
  /** The AWS region cert-manager signs its requests for; default `us-east-1` (Route 53 is global). */
  readonly region?: string | undefined;
  /** The TXT-only ACME identity's access key id. */
  readonly accessKeyId: string;
  /** The TXT-only ACME identity's secret access key. A secret: only ever in the rendered Secret. */
  readonly secretAccessKey: string;
  /** PEM certificates cert-manager trusts for the ACME server's HTTPS (a private ACME server); optional. */
  readonly caBundlePem?: string | undefined;
}

/** The CA part of {@link CertManagerInput}: a CA `Issuer` backed by a name-constrained intermediate. @public */
export interface CertManagerCaInput {
  /** The intermediate CA certificate (PEM), not self-signed, with name constraints within the zone. */
  readonly certificatePem: string;
  /** Its unencrypted PKCS#8 private key (PEM). A secret: only ever in the rendered Secret. */
  readonly privateKeyPem: string;
  /** The certificate that signed it (the organisation's root, PEM): appended to `tls.crt`, and `ca.crt`. */
  readonly issuerCertificatePem: string;
}

/** Where cert-manager's controller runs: the subject of the approver-policy RoleBindings. @public */
export interface CertManagerServiceAccount {
  readonly namespace: string;
  readonly name: string;
}

/** Input of {@link renderCertManager}. @public */
export interface CertManagerInput {
  /** The organisation name (a DNS label). */
  readonly organization: string;
  /** The organisation's zone, `<org>.<baseDomain>`. */
  readonly zoneName: string;
  /** The tenant namespaces that get the issuers (1–100, existing, distinct DNS labels). */
  readonly namespaces: readonly string[];
  /** Render the ACME `Issuer` and its credentials Secret. */
  readonly acme?: CertManagerAcmeInput | undefined;
  /** Render the CA `Issuer` and its Secret. */
  readonly ca?: CertManagerCaInput | undefined;
  /**
   * Render an approver-policy `CertificateRequestPolicy` (with its RBAC) that approves only requests
   * for names under the zone from zonekeeper's issuers in these namespaces. Default `true`; `false` when
   * approver-policy is not installed (cert-manager's default approver then approves everything).
   */
  readonly approverPolicy?: boolean | undefined;
  /** cert-manager's controller service account; default `cert-manager/cert-manager` (the Helm chart's). */
  readonly certManagerServiceAccount?: CertManagerServiceAccount | undefined;
}

/** The rendered objects, in apply order (Secrets before the Issuers that read them). @public */
export type CertManagerManifest = readonly KubernetesObject[];

const MAX_NAMESPACES = 100;
const ZONE_ID = /^(?:\/hostedzone\/)?([A-Z0-9]{1,32})$/;
const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/;
const ACCESS_KEY_ID = /^[A-Z0-9]{16,128}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const PEM_CERTIFICATE =
  /^-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE-----\r?\n?$/;

function fail(message: string, details?: Record<string, unknown>): never {
  throw invalidInput(`cert-manager objects: ${message}`, details);
}

function requireString(value: unknown, what: string): string {
  if (typeof value !== 'string') fail(`${what} must be a string, got ${describeValue(value)}.`);
  return value;
}

function validateNamespaces(value: unknown): readonly string[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_NAMESPACES) {
    fail(
      `namespaces must be an array of 1 to ${MAX_NAMESPACES} namespace names, got ${describeValue(value)}.`,
    );
  }
  const names = value.map((n, i) => validateDnsLabel(n, `cert-manager objects: namespaces[${i}]`));
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  if (duplicate !== undefined) fail(`namespace ${JSON.stringify(duplicate)} is listed twice.`);
  return names;
}

function validateServer(value: unknown): string {
  const server = requireString(value, 'acme.server');
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    fail(`acme.server ${describeValue(server)} is not a URL; give the ACME directory URL.`);
  }
  if (url.protocol !== 'https:')
    fail(`acme.server ${describeValue(server)} must be an https:// URL (RFC 8555 §6.1).`);
  return server;
}

/** A secret is checked for shape only; nothing of it ever goes into a message. */
function validateSecretText(value: unknown, what: string, shape: RegExp): string {
  if (typeof value !== 'string' || !shape.test(value)) {
    fail(`${what} is missing or malformed (its value is not shown).`);
  }
  return value;
}

const SECRET_ACCESS_KEY = /^\S{16,256}$/;
const PRIVATE_KEY_PEM =
  /^-----BEGIN PRIVATE KEY-----\r?\n[A-Za-z0-9+/=\r\n]+-----END PRIVATE KEY-----\r?\n?$/;

function validateCertificatePem(value: unknown, what: string): X509Certificate {
  const pem = requireString(value, what);
  if (!PEM_CERTIFICATE.test(pem))
    fail(`${what} must be exactly one PEM certificate ("-----BEGIN CERTIFICATE-----").`);
  try {
    return new X509Certificate(pem);
  } catch {
    fail(`${what} does not parse as an X.509 certificate.`);
  }
}

function validateCa(value: unknown, zone: string): CertManagerCaInput {
  if (typeof value !== 'object' || value === null) fail(`ca must be an object, got ${describeValue(value)}.`);
  const input = value as CertManagerCaInput;
  const certificate = validateCertificatePem(input.certificatePem, 'ca.certificatePem');
  const issuer = validateCertificatePem(input.issuerCertificatePem, 'ca.issuerCertificatePem');
  const keyPem = validateSecretText(input.privateKeyPem, 'ca.privateKeyPem', PRIVATE_KEY_PEM);
  if (!certificate.ca) fail('ca.certificatePem is not a CA certificate (basic constraints CA:TRUE).');
  if (certificate.checkIssued(certificate) && certificate.verify(certificate.publicKey)) {
    fail(
      'ca.certificatePem is self-signed: give a name-constrained intermediate (issueIntermediateCertificateAuthority), so that the organisation’s root key stays in Vault.',
    );
  }
  if (!certificate.checkIssued(issuer) || !certificate.verify(issuer.publicKey)) {
    fail('ca.certificatePem was not signed by ca.issuerCertificatePem.');
  }
  let key: ReturnType<typeof createPrivateKey>;
  try {
    key = createPrivateKey(keyPem);
  } catch {
    fail('ca.privateKeyPem does not parse as a private key (its value is not shown).');
  }
  if (!certificate.checkPrivateKey(key)) fail('ca.privateKeyPem is not the key of ca.certificatePem.');
  const permitted = permittedDnsDomainsOfCertificate(input.certificatePem);
  if (permitted === undefined || permitted.length === 0) {
    fail(
      `ca.certificatePem has no DNS name constraints; the CA given to cert-manager must permit only ${JSON.stringify(zone)}.`,
    );
  }
  const outside = permitted.filter((d) => !isWithinDomain(d, zone));
  if (outside.length > 0) {
    fail(
      `ca.certificatePem permits ${outside.join(', ')}, outside the organisation's zone ${JSON.stringify(zone)}.`,
      {
        outside,
        zoneName: zone,
      },
    );
  }
  return input;
}

function base64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

function withNewline(pem: string): string {
  return pem.endsWith('\n') ? pem : `${pem}\n`;
}

/**
 * Renders the cert-manager objects of one organisation (see the module notes). Pure and deterministic;
 * the result is in apply order.
 *
 * @throws `INVALID_INPUT` before rendering anything: an invalid organisation, zone or namespace; neither
 *   `acme` nor `ca`; a non-https ACME server, an invalid hosted zone id, region, access key id or e-mail;
 *   a CA that is not a CA, is self-signed (the root itself), was not signed by the given issuer, does not
 *   match its key, or lacks name constraints within the zone. Messages never contain a secret.
 * @public
 */
export function renderCertManager(input: CertManagerInput): CertManagerManifest {
  if (typeof input !== 'object' || input === null)
    fail(`input must be an object, got ${describeValue(input)}.`);
  const organization = validateOrganizationName(input.organization);
  const zone = normalizeDomainName(input.zoneName, 'cert-manager objects: zone name');
  const namespaces = validateNamespaces(input.namespaces);
  if (input.acme === undefined && input.ca === undefined)
    fail('give acme, ca or both: there is nothing to render.');

  const acme = input.acme === undefined ? undefined : validateAcme(input.acme);
  const ca = input.ca === undefined ? undefined : validateCa(input.ca, zone);
  const approverPolicy = input.approverPolicy ?? true;
  if (typeof approverPolicy !== 'boolean')
    fail(`approverPolicy must be a boolean, got ${describeValue(approverPolicy)}.`);
  const serviceAccount = input.certManagerServiceAccount ?? {
    namespace: 'cert-manager',
    name: 'cert-manager',
  };
  validateDnsLabel(serviceAccount.namespace, 'cert-manager objects: certManagerServiceAccount.namespace');
  validateDnsLabel(serviceAccount.name, 'cert-manager objects: certManagerServiceAccount.name');

  const labels = {
    [ZonekeeperLabels.managedBy]: ZONEKEEPER_MANAGER,
    [ZonekeeperLabels.organization]: organization,
  };
  const meta = (name: string, namespace?: string) => ({
    name,
    ...(namespace === undefined ? {} : { namespace }),
    labels: { ...labels },
  });
  const N = CERT_MANAGER_OBJECT_NAMES;
  const policyName = `zonekeeper-${organization}`;
  const roleName = `zonekeeper-${organization}-certificate-policy`;
  const objects: KubernetesObject[] = [];

  if (approverPolicy) {
    objects.push(
      {
        apiVersion: 'policy.cert-manager.io/v1alpha1',
        kind: 'CertificateRequestPolicy',
        metadata: meta(policyName),
        spec: {
          allowed: {
            dnsNames: { values: [zone, `*.${zone}`], required: true },
            usages: [...ALLOWED_CERTIFICATE_USAGES],
          },
          selector: {
            issuerRef: {
              group: 'cert-manager.io',
              kind: 'Issuer',
              name: 'zonekeeper-*',
            },
            namespace: { matchNames: [...namespaces] },
          },
        },
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: meta(roleName),
        rules: [
          {
            apiGroups: ['policy.cert-manager.io'],
            resources: ['certificaterequestpolicies'],
            verbs: ['use'],
            resourceNames: [policyName],
          },
        ],
      },
    );
  }

  for (const namespace of namespaces) {
    if (acme !== undefined) {
      objects.push(
        {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: meta(N.route53Credentials, namespace),
          type: 'Opaque',
          data: {
            [ROUTE53_CREDENTIAL_KEYS.accessKeyId]: base64(acme.accessKeyId),
            [ROUTE53_CREDENTIAL_KEYS.secretAccessKey]: base64(acme.secretAccessKey),
          },
        },
        {
          apiVersion: 'cert-manager.io/v1',
          kind: 'Issuer',
          metadata: meta(N.acmeIssuer, namespace),
          spec: {
            acme: {
              server: acme.server,
              ...(acme.email === undefined ? {} : { email: acme.email }),
              ...(acme.caBundlePem === undefined ? {} : { caBundle: base64(acme.caBundlePem) }),
              privateKeySecretRef: { name: N.acmeAccountKey },
              solvers: [
                {
                  selector: { dnsZones: [zone] },
                  dns01: {
                    route53: {
                      hostedZoneID: acme.hostedZoneId,
                      region: acme.region,
                      accessKeyIDSecretRef: {
                        name: N.route53Credentials,
                        key: ROUTE53_CREDENTIAL_KEYS.accessKeyId,
                      },
                      secretAccessKeySecretRef: {
                        name: N.route53Credentials,
                        key: ROUTE53_CREDENTIAL_KEYS.secretAccessKey,
                      },
                    },
                  },
                },
              ],
            },
          },
        },
      );
    }
    if (ca !== undefined) {
      objects.push(
        {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: meta(N.caSecret, namespace),
          type: 'kubernetes.io/tls',
          data: {
            'tls.crt': base64(withNewline(ca.certificatePem) + withNewline(ca.issuerCertificatePem)),
            'tls.key': base64(withNewline(ca.privateKeyPem)),
            'ca.crt': base64(withNewline(ca.issuerCertificatePem)),
          },
        },
        {
          apiVersion: 'cert-manager.io/v1',
          kind: 'Issuer',
          metadata: meta(N.caIssuer, namespace),
          spec: { ca: { secretName: N.caSecret } },
        },
      );
    }
    if (approverPolicy) {
      objects.push({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: meta(N.policyRoleBinding, namespace),
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: roleName },
        subjects: [
          { kind: 'ServiceAccount', namespace: serviceAccount.namespace, name: serviceAccount.name },
        ],
      });
    }
  }
  return objects;
}

interface ResolvedAcme {
  readonly server: string;
  readonly email: string | undefined;
  readonly hostedZoneId: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly caBundlePem: string | undefined;
}

function validateAcme(value: unknown): ResolvedAcme {
  if (typeof value !== 'object' || value === null)
    fail(`acme must be an object, got ${describeValue(value)}.`);
  const input = value as CertManagerAcmeInput;
  const server = validateServer(input.server);
  const email = input.email === undefined ? undefined : requireString(input.email, 'acme.email');
  if (email !== undefined && !EMAIL.test(email))
    fail(`acme.email ${describeValue(email)} is not an e-mail address.`);
  const zoneId = ZONE_ID.exec(requireString(input.hostedZoneId, 'acme.hostedZoneId'))?.[1];
  if (zoneId === undefined) {
    fail(
      `acme.hostedZoneId ${describeValue(input.hostedZoneId)} is not a Route 53 hosted zone id ("Z…" or "/hostedzone/Z…").`,
    );
  }
  const region = input.region === undefined ? 'us-east-1' : requireString(input.region, 'acme.region');
  if (!REGION.test(region))
    fail(`acme.region ${describeValue(region)} is not an AWS region name (e.g. "us-east-1").`);
  const accessKeyId = requireString(input.accessKeyId, 'acme.accessKeyId');
  if (!ACCESS_KEY_ID.test(accessKeyId)) {
    fail('acme.accessKeyId is not an AWS access key id (16–128 uppercase letters and digits).');
  }
  const secretAccessKey = validateSecretText(
    input.secretAccessKey,
    'acme.secretAccessKey',
    SECRET_ACCESS_KEY,
  );
  let caBundlePem: string | undefined;
  if (input.caBundlePem !== undefined) {
    caBundlePem = requireString(input.caBundlePem, 'acme.caBundlePem');
    if (!caBundlePem.includes('-----BEGIN CERTIFICATE-----'))
      fail('acme.caBundlePem must contain PEM certificates.');
  }
  return { server, email, hostedZoneId: zoneId, region, accessKeyId, secretAccessKey, caBundlePem };
}
