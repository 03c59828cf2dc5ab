/**
 * The resources the fake serves, with what discovery, routing, field management and the strategies
 * need to know about each.
 * @internal
 */

import type { JsonObject } from './json.js';
import { kindSchemas, type StructSchema } from './schema.js';

/** A served resource. */
export interface ResourceDefinition {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly plural: string;
  readonly singular: string;
  readonly namespaced: boolean;
  readonly shortNames: readonly string[];
  readonly categories: readonly string[];
  readonly verbs: readonly string[];
  /** Subresources beyond the main resource. */
  readonly subresources: readonly 'status'[];
  /** Maintains `metadata.generation` (bumped on spec changes). */
  readonly generation: boolean;
  /** DELETE answers with the deleted object instead of a `Status`. */
  readonly returnDeletedObject: boolean;
  /** Extra field-selector fields (beyond `metadata.name` / `metadata.namespace`). */
  readonly fieldSelectors: Readonly<Record<string, (object: JsonObject) => string>>;
  readonly schema: StructSchema;
  /** The empty object the API server compares a create against (non-pointer structs present). */
  readonly skeleton: () => JsonObject;
  readonly storageVersionHash: string;
}

/** `group/version`, or `version` for the core group. */
export function groupVersion(def: Pick<ResourceDefinition, 'group' | 'version'>): string {
  return def.group ? `${def.group}/${def.version}` : def.version;
}

const allVerbs = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] as const;

function schemaOf(group: string, kind: string): StructSchema {
  const s = kindSchemas[`${group}/${kind}`];
  if (!s) throw new Error(`no schema for ${group}/${kind}`);
  return s;
}

function define(
  d: Omit<
    ResourceDefinition,
    | 'schema'
    | 'verbs'
    | 'shortNames'
    | 'categories'
    | 'subresources'
    | 'generation'
    | 'returnDeletedObject'
    | 'fieldSelectors'
    | 'skeleton'
  > &
    Partial<
      Pick<
        ResourceDefinition,
        | 'shortNames'
        | 'categories'
        | 'subresources'
        | 'generation'
        | 'returnDeletedObject'
        | 'fieldSelectors'
        | 'skeleton'
      >
    >,
): ResourceDefinition {
  return {
    verbs: allVerbs,
    shortNames: [],
    categories: [],
    subresources: [],
    generation: false,
    returnDeletedObject: false,
    fieldSelectors: {},
    skeleton: () => ({ metadata: {} }),
    ...d,
    schema: schemaOf(d.group, d.kind),
  };
}

/** Every served resource. */
export const resources: readonly ResourceDefinition[] = [
  define({
    group: '',
    version: 'v1',
    kind: 'Namespace',
    plural: 'namespaces',
    singular: 'namespace',
    namespaced: false,
    shortNames: ['ns'],
    subresources: ['status'],
    returnDeletedObject: true,
    fieldSelectors: { 'status.phase': (o) => String((o.status as JsonObject | undefined)?.phase ?? '') },
    skeleton: () => ({ metadata: {}, spec: {}, status: {} }),
    storageVersionHash: 'Q3oi5N2YM8M=',
  }),
  define({
    group: '',
    version: 'v1',
    kind: 'ServiceAccount',
    plural: 'serviceaccounts',
    singular: 'serviceaccount',
    namespaced: true,
    shortNames: ['sa'],
    returnDeletedObject: true,
    storageVersionHash: 'pbx9ZvyFpBE=',
  }),
  define({
    group: '',
    version: 'v1',
    kind: 'Secret',
    plural: 'secrets',
    singular: 'secret',
    namespaced: true,
    fieldSelectors: { type: (o) => String(o.type ?? '') },
    storageVersionHash: 'S6u1pOWzb84=',
  }),
  define({
    group: '',
    version: 'v1',
    kind: 'ConfigMap',
    plural: 'configmaps',
    singular: 'configmap',
    namespaced: true,
    shortNames: ['cm'],
    storageVersionHash: 'qFsyl6wFWjQ=',
  }),
  define({
    group: '',
    version: 'v1',
    kind: 'Service',
    plural: 'services',
    singular: 'service',
    namespaced: true,
    shortNames: ['svc'],
    categories: ['all'],
    subresources: ['status'],
    returnDeletedObject: true,
    skeleton: () => ({ metadata: {}, spec: {}, status: { loadBalancer: {} } }),
    storageVersionHash: '0/CO1lhkEBI=',
  }),
  define({
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    kind: 'ClusterRole',
    plural: 'clusterroles',
    singular: 'clusterrole',
    namespaced: false,
    storageVersionHash: 'bYE5ZWDrJ44=',
  }),
  define({
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    kind: 'ClusterRoleBinding',
    plural: 'clusterrolebindings',
    singular: 'clusterrolebinding',
    namespaced: false,
    skeleton: () => ({ metadata: {}, roleRef: { apiGroup: '', kind: '', name: '' } }),
    storageVersionHash: '48tpQ8gZHFc=',
  }),
  define({
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    kind: 'Role',
    plural: 'roles',
    singular: 'role',
    namespaced: true,
    storageVersionHash: '7FuwZcIIItM=',
  }),
  define({
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    kind: 'RoleBinding',
    plural: 'rolebindings',
    singular: 'rolebinding',
    namespaced: true,
    skeleton: () => ({ metadata: {}, roleRef: { apiGroup: '', kind: '', name: '' } }),
    storageVersionHash: 'eGsCzGH6b1g=',
  }),
  define({
    group: 'apps',
    version: 'v1',
    kind: 'Deployment',
    plural: 'deployments',
    singular: 'deployment',
    namespaced: true,
    shortNames: ['deploy'],
    categories: ['all'],
    subresources: ['status'],
    generation: true,
    skeleton: () => ({
      metadata: {},
      spec: { template: { metadata: {}, spec: { containers: null } }, strategy: {} },
      status: {},
    }),
    storageVersionHash: '8aSe+NMegvE=',
  }),
  define({
    group: 'coordination.k8s.io',
    version: 'v1',
    kind: 'Lease',
    plural: 'leases',
    singular: 'lease',
    namespaced: true,
    skeleton: () => ({ metadata: {}, spec: {} }),
    storageVersionHash: 'gqkMMb/YqFM=',
  }),
  // The kinds ExternalDNS's service and ingress sources list and watch (informers: list + watch).
  define({
    group: '',
    version: 'v1',
    kind: 'Pod',
    plural: 'pods',
    singular: 'pod',
    namespaced: true,
    shortNames: ['po'],
    categories: ['all'],
    subresources: ['status'],
    returnDeletedObject: true,
    fieldSelectors: {
      'spec.nodeName': (o) => String((o.spec as JsonObject | undefined)?.nodeName ?? ''),
      'status.phase': (o) => String((o.status as JsonObject | undefined)?.phase ?? ''),
      'status.podIP': (o) => String((o.status as JsonObject | undefined)?.podIP ?? ''),
    },
    skeleton: () => ({ metadata: {}, spec: { containers: null }, status: {} }),
    storageVersionHash: 'xPOwRZ+Yhw8=',
  }),
  define({
    group: '',
    version: 'v1',
    kind: 'Node',
    plural: 'nodes',
    singular: 'node',
    namespaced: false,
    shortNames: ['no'],
    subresources: ['status'],
    fieldSelectors: {
      'spec.unschedulable': (o) => String((o.spec as JsonObject | undefined)?.unschedulable ?? false),
    },
    skeleton: () => ({
      metadata: {},
      spec: {},
      status: { daemonEndpoints: { kubeletEndpoint: {} }, nodeInfo: {} },
    }),
    storageVersionHash: 'XwShjMxG9Fs=',
  }),
  define({
    group: 'discovery.k8s.io',
    version: 'v1',
    kind: 'EndpointSlice',
    plural: 'endpointslices',
    singular: 'endpointslice',
    namespaced: true,
    skeleton: () => ({ metadata: {}, addressType: '', endpoints: null }),
    storageVersionHash: 'Nx3SIv6I0mE=',
  }),
  define({
    group: 'networking.k8s.io',
    version: 'v1',
    kind: 'Ingress',
    plural: 'ingresses',
    singular: 'ingress',
    namespaced: true,
    shortNames: ['ing'],
    subresources: ['status'],
    generation: true,
    skeleton: () => ({ metadata: {}, spec: {}, status: { loadBalancer: {} } }),
    storageVersionHash: '39NQlfNR+bo=',
  }),
];

/** The API groups served, in discovery order, with their versions. */
export function apiGroups(): { readonly name: string; readonly versions: readonly string[] }[] {
  const out: { name: string; versions: string[] }[] = [];
  for (const r of resources) {
    if (r.group === '') continue;
    let g = out.find((x) => x.name === r.group);
    if (!g) {
      g = { name: r.group, versions: [] };
      out.push(g);
    }
    if (!g.versions.includes(r.version)) g.versions.push(r.version);
  }
  return out;
}

/** The resource served at `group/version/plural`, if any. */
export function findResource(group: string, version: string, plural: string): ResourceDefinition | undefined {
  return resources.find((r) => r.group === group && r.version === version && r.plural === plural);
}

/** The resource of an `apiVersion` + `kind`, if served. */
export function resourceForKind(apiVersion: string, kind: string): ResourceDefinition | undefined {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/', 2) : ['', apiVersion];
  return resources.find((r) => r.group === group && r.version === version && r.kind === kind);
}

/** The resources of one group/version. */
export function resourcesOf(group: string, version: string): ResourceDefinition[] {
  return resources.filter((r) => r.group === group && r.version === version);
}
