/**
 * The trust-manager `Bundle` of one organisation, rendered purely: the organisation's CA certificate
 * (and any other CA certificates given, e.g. a private ACME server's root) distributed as a ConfigMap
 * to the organisation's tenant namespaces, so that workloads there trust the certificates zonekeeper and
 * cert-manager issue for the organisation.
 *
 * ```
 *  Bundle zonekeeper-<org>-ca (cluster-scoped, trust.cert-manager.io/v1alpha1)
 *    sources  one inLine source: the PEM certificates, in the order given
 *    target   ConfigMap zonekeeper-<org>-ca, key ca.crt, in the namespaces named (a
 *             kubernetes.io/metadata.name In […] selector: exactly those namespaces, never another's)
 * ```
 *
 * The certificates are public; the source is `inLine` so that nothing has to be placed in
 * trust-manager's trust namespace first. A publicly trusted ACME CA (Let's Encrypt) needs no bundle:
 * its roots are in the clients' default stores.
 *
 * @packageDocumentation
 */

import { X509Certificate } from 'node:crypto';
import {
  describeValue,
  invalidInput,
  type KubernetesObject,
  validateDnsLabel,
  validateOrganizationName,
  ZONEKEEPER_MANAGER,
  ZonekeeperLabels,
} from '@zonekeeper/core';

/** The trust-manager release whose `Bundle` CRD the rendered bundle is tested against. @public */
export const TRUST_MANAGER_VERSION = 'v0.25.0';

/** The key of the target ConfigMap that holds the PEM bundle. @public */
export const TRUST_BUNDLE_KEY = 'ca.crt';

/** Input of {@link renderTrustBundle}. @public */
export interface TrustBundleInput {
  /** The organisation name (a DNS label). */
  readonly organization: string;
  /** The tenant namespaces that get the ConfigMap (1–100, distinct DNS labels). */
  readonly namespaces: readonly string[];
  /** The CA certificates (PEM), the organisation's CA first; each must be a CA certificate. */
  readonly certificatesPem: readonly string[];
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+?-----END CERTIFICATE-----/g;
const MAX_NAMESPACES = 100;

function fail(message: string): never {
  throw invalidInput(`trust-manager Bundle: ${message}`);
}

/** The name of an organisation's `Bundle` and of the ConfigMap it writes. @public */
export function trustBundleName(organization: string): string {
  return `zonekeeper-${validateOrganizationName(organization)}-ca`;
}

/**
 * Renders the organisation's trust-manager `Bundle` (see the module notes). Pure and deterministic.
 * @throws `INVALID_INPUT` for an invalid organisation or namespace list, no certificates, text that is
 *   not PEM certificates, or a certificate that is not a CA.
 * @public
 */
export function renderTrustBundle(input: TrustBundleInput): KubernetesObject {
  if (typeof input !== 'object' || input === null)
    fail(`input must be an object, got ${describeValue(input)}.`);
  const organization = validateOrganizationName(input.organization);
  const ns = input.namespaces;
  if (!Array.isArray(ns) || ns.length === 0 || ns.length > MAX_NAMESPACES)
    fail(`namespaces must list 1 to ${MAX_NAMESPACES} namespaces, got ${describeValue(ns)}.`);
  const namespaces = ns.map((n, i) => validateDnsLabel(n, `trust-manager Bundle: namespaces[${i}]`));
  if (new Set(namespaces).size !== namespaces.length) fail('a namespace is listed twice.');
  if (!Array.isArray(input.certificatesPem) || input.certificatesPem.length === 0)
    fail('give at least one CA certificate (the organisation’s).');
  const blocks: string[] = [];
  for (const [i, pem] of input.certificatesPem.entries()) {
    if (typeof pem !== 'string') fail(`certificatesPem[${i}] must be a string.`);
    const found = pem.match(PEM_BLOCK) ?? [];
    if (found.length === 0) fail(`certificatesPem[${i}] holds no PEM certificate.`);
    for (const block of found) {
      let cert: X509Certificate;
      try {
        cert = new X509Certificate(block);
      } catch {
        fail(`certificatesPem[${i}] holds a block that does not parse as an X.509 certificate.`);
      }
      if (!cert.ca) fail(`certificatesPem[${i}] holds a certificate that is not a CA (${cert.subject}).`);
      if (!blocks.includes(block)) blocks.push(block);
    }
  }
  const name = trustBundleName(organization);
  return {
    apiVersion: 'trust.cert-manager.io/v1alpha1',
    kind: 'Bundle',
    metadata: {
      name,
      labels: {
        [ZonekeeperLabels.managedBy]: ZONEKEEPER_MANAGER,
        [ZonekeeperLabels.organization]: organization,
      },
    },
    spec: {
      sources: [{ inLine: `${blocks.join('\n')}\n` }],
      target: {
        configMap: { key: TRUST_BUNDLE_KEY },
        namespaceSelector: {
          matchExpressions: [
            { key: 'kubernetes.io/metadata.name', operator: 'In', values: [...namespaces].sort() },
          ],
        },
      },
    },
  };
}
