/**
 * Everything zonekeeper depends on in ExternalDNS, in one place: the version we pin and the rules that
 * version follows, as read from its source at that tag (`source/annotations/annotations.go`,
 * `registry/mapper/mapper.go`, `registry/txt/registry.go`, `provider/aws/aws.go`,
 * `pkg/apis/externaldns/types.go`). Bumping ExternalDNS is a change to this file, after which the
 * end-to-end scenarios (`e2e/`, which run the real binary of {@link EXTERNAL_DNS_VERSION}) say whether
 * the rules below still hold. `.ci/build-external-dns.sh` reads {@link EXTERNAL_DNS_VERSION} from here.
 *
 * ```
 *  rule (v0.22.0)                     what it means for us
 *  --policy is required               always rendered
 *  annotation prefix, default         external-dns.kubernetes.io/  — no fallback to the alpha prefix:
 *    EXTERNAL_DNS_ANNOTATION_PREFIX   a Service annotated external-dns.alpha.kubernetes.io/hostname
 *                                     gets no record unless --annotation-prefix says so
 *  TXT registry, new format only      the ownership TXT of <first>.<rest> (type T) is
 *                                       prefix without %{record_type}:  <prefix><t>-<first>.<rest>
 *                                       prefix with %{record_type}:     <prefix with t><first>.<rest>
 *                                     an ALIAS to a load balancer is an A and an AAAA record, each with
 *                                     its own TXT (a-…, aaaa-…)
 *  apex and per-cluster scopes        only a prefix that contains %{record_type} and ends with "." keeps
 *                                     the TXT at or below the record's own name (apex: inside the zone;
 *                                     c1.<zone>: inside *.c1.<zone>)
 *  --aws-zones-cache-duration         default 0s: every loop lists the whole account's zones 2–3 times
 *  --aws-zone-match-parent            lets a --domain-filter below the zone still select the zone
 * ```
 *
 * @packageDocumentation
 */

import type { KubernetesObject } from '@zonekeeper/core';

/** The ExternalDNS release zonekeeper renders and tests against. @public */
export const EXTERNAL_DNS_VERSION = 'v0.22.0';

/** The Go module of ExternalDNS (`go install <module>@<version>` builds the binary). @public */
export const EXTERNAL_DNS_GO_MODULE = 'sigs.k8s.io/external-dns';

/** The upstream image repository. @public */
export const EXTERNAL_DNS_IMAGE_REPOSITORY = 'registry.k8s.io/external-dns/external-dns';

/** The ExternalDNS image rendered by default: {@link EXTERNAL_DNS_IMAGE_REPOSITORY} at {@link EXTERNAL_DNS_VERSION}. @public */
export const DEFAULT_EXTERNAL_DNS_IMAGE: string = `${EXTERNAL_DNS_IMAGE_REPOSITORY}:${EXTERNAL_DNS_VERSION}`;

/**
 * The annotation prefix ExternalDNS {@link EXTERNAL_DNS_VERSION} reads by default, and zonekeeper's
 * default: a Service or Ingress is published with `external-dns.kubernetes.io/hostname`.
 * @public
 */
export const EXTERNAL_DNS_ANNOTATION_PREFIX = 'external-dns.kubernetes.io/';

/**
 * The prefix older releases read (and Banzai Cloud Pipeline's users, like most manifests on the
 * internet, write): `external-dns.alpha.kubernetes.io/hostname`. ExternalDNS
 * {@link EXTERNAL_DNS_VERSION} ignores it unless `--annotation-prefix` names it; a platform migrating
 * such manifests sets `annotationPrefix` to this value.
 * @public
 */
export const LEGACY_ANNOTATION_PREFIX = 'external-dns.alpha.kubernetes.io/';

/** The placeholder a TXT prefix may contain; ExternalDNS replaces it with the lowercase record type. @public */
export const RECORD_TYPE_PLACEHOLDER = '%{record_type}';

/**
 * zonekeeper's default `--txt-prefix`: `_extdns-%{record_type}.`. It contains the record type and ends
 * with a dot, so every ownership TXT lies at or below its record's own name ({@link isScopeSafeTxtPrefix}):
 * an apex record `acme.example.com` is owned by `_extdns-a.acme.example.com` (inside the zone), a
 * cluster's `c1.acme.example.com` by `_extdns-a.c1.acme.example.com` (inside `*.c1.acme.example.com`).
 * The leading underscore keeps the registry's names out of the host-name space: no Service or Ingress
 * can claim `_extdns-a.web…` (host names have no `_`), so an ownership TXT never collides with a CNAME.
 * @public
 */
export const DEFAULT_TXT_PREFIX = '_extdns-%{record_type}.';

/**
 * zonekeeper's default `--aws-zones-cache-duration`: `1h`. ExternalDNS's default (0s) lists every zone of
 * the account 2–3 times per loop, from every cluster; the zone a cluster writes to is fixed by
 * `--zone-id-filter` and only changes when zonekeeper re-renders the Deployment (which restarts the pod
 * and so empties the cache), so a long cache loses nothing.
 * @public
 */
export const DEFAULT_ZONES_CACHE_DURATION = '1h';

/**
 * Whether ExternalDNS {@link EXTERNAL_DNS_VERSION} names the ownership TXT of every record at or below
 * the record's own name with this `--txt-prefix`: the prefix contains {@link RECORD_TYPE_PLACEHOLDER}
 * and ends with `.`. Only such a prefix owns apex records and stays inside a per-cluster scope.
 * @public
 */
export function isScopeSafeTxtPrefix(prefix: string | undefined): boolean {
  return prefix?.includes(RECORD_TYPE_PLACEHOLDER) === true && prefix.endsWith('.');
}

/**
 * The `--txt-prefix` an ExternalDNS Deployment runs with: its value, `''` when the ExternalDNS container
 * (the one with `--txt-owner-id`, which every TXT-registry install carries) has no `--txt-prefix`, and
 * `undefined` when the object has no such container (not an ExternalDNS Deployment). Both the
 * `--txt-prefix=<p>` and the `--txt-prefix <p>` forms are read. Pure.
 *
 * The TXT prefix is part of every ownership record's name, so a Deployment's prefix is what its records
 * can be found by: re-rendering with another prefix orphans them (ExternalDNS neither updates nor deletes
 * records whose TXT it cannot find).
 * @public
 */
export function deployedTxtPrefix(deployment: KubernetesObject): string | undefined {
  const spec = deployment.spec as
    | { template?: { spec?: { containers?: readonly { args?: readonly unknown[] }[] } } }
    | undefined;
  for (const container of spec?.template?.spec?.containers ?? []) {
    const args = (container.args ?? []).filter((a): a is string => typeof a === 'string');
    if (!args.some((a) => a === '--txt-owner-id' || a.startsWith('--txt-owner-id='))) continue;
    for (let i = 0; i < args.length; i++) {
      const arg = args[i] as string;
      if (arg.startsWith('--txt-prefix=')) return arg.slice('--txt-prefix='.length);
      if (arg === '--txt-prefix') return args[i + 1] ?? '';
    }
    return '';
  }
  return undefined;
}

/**
 * The name of the ownership TXT record ExternalDNS {@link EXTERNAL_DNS_VERSION}'s TXT registry writes
 * for a record (lowercase, no trailing dot), given `--txt-prefix` (`undefined` or `''`: none). For an
 * ALIAS record pass its Route 53 type (`A` or `AAAA`).
 *
 * @example
 * ```ts
 * ownershipRecordName('web.acme.example.com', 'A', undefined);              // 'a-web.acme.example.com'
 * ownershipRecordName('acme.example.com', 'A', '_extdns-%{record_type}.');  // '_extdns-a.acme.example.com'
 * ownershipRecordName('acme.example.com', 'A', 'extdns.');                  // 'extdns.a-acme.example.com' (outside the zone)
 * ```
 * @public
 */
export function ownershipRecordName(name: string, recordType: string, txtPrefix: string | undefined): string {
  const type = recordType.toLowerCase();
  const prefix = (txtPrefix ?? '').toLowerCase();
  const dns = name.toLowerCase().replace(/\.$/, '');
  const dot = dns.indexOf('.');
  const first = dot === -1 ? dns : dns.slice(0, dot);
  const rest = dot === -1 ? undefined : dns.slice(dot + 1);
  const templated = prefix.includes(RECORD_TYPE_PLACEHOLDER);
  const label = `${templated ? prefix.split(RECORD_TYPE_PLACEHOLDER).join(type) : prefix}${templated ? '' : `${type}-`}${first}`;
  return rest === undefined ? label : `${label}.${rest}`;
}

/**
 * An annotation key under a prefix, e.g. `annotationKey('external-dns.kubernetes.io/', 'hostname')`.
 * The keys users write: `hostname`, `target`, `ttl`, `alias`, `internal-hostname`, `ingress-hostname-source`.
 * @public
 */
export function annotationKey(prefix: string, name: string): string {
  return `${prefix}${name}`;
}
