/**
 * The RBAC ExternalDNS needs for its sources: one ClusterRole (read-only except the crd source's status
 * update) and its binding.
 *
 * @packageDocumentation
 */

import { EXTERNAL_DNS_SOURCES, type ExternalDnsSource } from './options.js';

/** One RBAC policy rule. @public */
export interface PolicyRule {
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
}

const READ = ['get', 'list', 'watch'] as const;
const GATEWAY_ROUTES: Readonly<Partial<Record<ExternalDnsSource, string>>> = {
  'gateway-httproute': 'httproutes',
  'gateway-grpcroute': 'grpcroutes',
  'gateway-tlsroute': 'tlsroutes',
  'gateway-tcproute': 'tcproutes',
  'gateway-udproute': 'udproutes',
};

/**
 * The ClusterRole rules ExternalDNS needs for `sources`, following the upstream chart's per-source rules
 * (`charts/external-dns/templates/clusterrole.yaml`) plus `discovery.k8s.io` EndpointSlices for the
 * service source (read by current releases; core Endpoints kept for older images):
 *
 * - `service`: core `nodes` list/watch; core `pods`, `services`, `endpoints` and `discovery.k8s.io`
 *   `endpointslices` get/list/watch;
 * - `ingress`: `networking.k8s.io` and `extensions` `ingresses` get/list/watch;
 * - `node`: core `nodes` list/watch; `pod`: core `nodes` list/watch and `pods` get/list/watch;
 * - `crd`: `externaldns.k8s.io` `dnsendpoints` get/list/watch and `dnsendpoints/status` update;
 * - `gateway-*route`: core `namespaces` and `gateway.networking.k8s.io` `gateways` + the route kind
 *   get/list/watch.
 *
 * Read-only except the crd source's status update. Rules come out in a fixed order.
 * @public
 */
export function externalDnsRbacRules(sources: readonly ExternalDnsSource[]): readonly PolicyRule[] {
  const has = (...wanted: ExternalDnsSource[]): boolean => wanted.some((s) => sources.includes(s));
  const routes = EXTERNAL_DNS_SOURCES.flatMap((s) => {
    const resource = GATEWAY_ROUTES[s];
    return resource !== undefined && sources.includes(s) ? [resource] : [];
  });
  const rules: PolicyRule[] = [];
  const add = (apiGroups: string[], resources: string[], verbs: readonly string[]): void => {
    rules.push({ apiGroups, resources, verbs: [...verbs] });
  };
  if (has('service', 'node', 'pod')) add([''], ['nodes'], ['list', 'watch']);
  if (has('service', 'pod')) add([''], ['pods'], READ);
  if (has('service')) {
    add([''], ['services', 'endpoints'], READ);
    add(['discovery.k8s.io'], ['endpointslices'], READ);
  }
  if (has('ingress')) add(['networking.k8s.io', 'extensions'], ['ingresses'], READ);
  if (routes.length > 0) {
    add([''], ['namespaces'], READ);
    add(['gateway.networking.k8s.io'], ['gateways', ...routes], READ);
  }
  if (has('crd')) {
    add(['externaldns.k8s.io'], ['dnsendpoints'], READ);
    add(['externaldns.k8s.io'], ['dnsendpoints/status'], ['update']);
  }
  return rules;
}

/** The name of the ClusterRole and ClusterRoleBinding: cluster-scoped, so it includes the namespace. @public */
export function externalDnsClusterRoleName(namespace: string, name: string): string {
  return `zonekeeper:${namespace}:${name}`;
}
