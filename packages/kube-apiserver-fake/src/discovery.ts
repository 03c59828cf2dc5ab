/**
 * Discovery documents: `/version`, legacy discovery (`/api`, `/apis`, `/api/v1`,
 * `/apis/<group>/<version>`) and aggregated discovery (`apidiscovery.k8s.io/v2`, which kubectl 1.32
 * asks for first).
 * @internal
 */

import type { Json, JsonObject } from './json.js';
import { apiGroups, groupVersion, type ResourceDefinition, resources, resourcesOf } from './resources.js';

/** The version the fake reports (kubectl's dispatcher picks a matching kubectl from it). */
export const serverVersion: JsonObject = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.4',
  gitCommit: '59526cd4867447956156ae3a602fcbac10a2c335',
  gitTreeState: 'clean',
  buildDate: '2025-04-22T16:02:27Z',
  goVersion: 'go1.23.6',
  compiler: 'gc',
  platform: 'linux/amd64',
};

const subresourceVerbs = ['get', 'patch', 'update'];

/** `/api`. */
export function apiVersions(serverAddress: string): JsonObject {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

/** `/apis`. */
export function apiGroupList(): JsonObject {
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: apiGroups().map(apiGroup),
  };
}

/** `/apis/<group>`. */
export function apiGroup(g: { readonly name: string; readonly versions: readonly string[] }): JsonObject {
  const versions = g.versions.map((v) => ({ groupVersion: `${g.name}/${v}`, version: v }));
  return {
    kind: 'APIGroup',
    apiVersion: 'v1',
    name: g.name,
    versions,
    preferredVersion: versions[0] ?? null,
  };
}

/** `/api/v1` or `/apis/<group>/<version>`: an APIResourceList. */
export function apiResourceList(group: string, version: string): JsonObject | undefined {
  const defs = resourcesOf(group, version);
  if (defs.length === 0) return undefined;
  const list: Json[] = [];
  for (const r of defs) {
    const entry: JsonObject = {
      name: r.plural,
      singularName: r.singular,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: [...r.verbs],
    };
    if (r.shortNames.length > 0) entry.shortNames = [...r.shortNames];
    if (r.categories.length > 0) entry.categories = [...r.categories];
    entry.storageVersionHash = r.storageVersionHash;
    list.push(entry);
    for (const sub of r.subresources) {
      const s: JsonObject = {
        name: `${r.plural}/${sub}`,
        singularName: '',
        namespaced: r.namespaced,
        kind: r.kind,
        verbs: subresourceVerbs,
      };
      list.push(s);
    }
  }
  const out: JsonObject = {
    kind: 'APIResourceList',
    groupVersion: groupVersion({ group, version }),
    resources: list,
  };
  if (group !== '') out.apiVersion = 'v1';
  return out;
}

function discoveryResource(r: ResourceDefinition): JsonObject {
  const entry: JsonObject = {
    resource: r.plural,
    responseKind: { group: r.group, version: r.version, kind: r.kind },
    scope: r.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: r.singular,
    verbs: [...r.verbs],
  };
  if (r.shortNames.length > 0) entry.shortNames = [...r.shortNames];
  if (r.categories.length > 0) entry.categories = [...r.categories];
  if (r.subresources.length > 0) {
    entry.subresources = r.subresources.map((sub) => ({
      subresource: sub,
      responseKind: { group: r.group, version: r.version, kind: r.kind },
      verbs: subresourceVerbs,
    }));
  }
  return entry;
}

/** Aggregated discovery (`APIGroupDiscoveryList`) for `/api` (core) or `/apis` (named groups). */
export function aggregatedDiscovery(core: boolean, apiVersion: string): JsonObject {
  const groups = core ? [{ name: '', versions: ['v1'] }] : apiGroups();
  return {
    kind: 'APIGroupDiscoveryList',
    apiVersion,
    metadata: {},
    items: groups.map((g) => ({
      metadata: g.name ? { name: g.name } : {},
      versions: g.versions.map((v) => ({
        version: v,
        resources: resources.filter((r) => r.group === g.name && r.version === v).map(discoveryResource),
        freshness: 'Current',
      })),
    })),
  };
}
