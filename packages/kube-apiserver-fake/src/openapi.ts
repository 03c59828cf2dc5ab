/**
 * OpenAPI documents generated from the fake's structural schemas: `/openapi/v3` (index and one
 * document per group-version). kubectl reads v3 to learn that the server
 * validates fields itself (the `fieldValidation` parameter of PATCH operations), and reads the
 * patch-merge keys for client-side `kubectl apply`.
 * @internal
 */

import { createHash } from 'node:crypto';
import { serverVersion } from './discovery.js';
import type { Json, JsonObject } from './json.js';
import { type ResourceDefinition, resources } from './resources.js';
import type { Schema } from './schema.js';

function definitionName(def: ResourceDefinition): string {
  const group = def.group === '' ? 'core' : def.group.split('.')[0];
  return `io.k8s.api.${group}.${def.version}.${def.kind}`;
}

function toOpenApi(schema: Schema): JsonObject {
  switch (schema.kind) {
    case 'scalar':
      switch (schema.type) {
        case 'integer':
          return { type: 'integer', format: 'int32' };
        case 'boolean':
          return { type: 'boolean' };
        case 'number':
          return { type: 'number' };
        case 'int-or-string':
          return { 'x-kubernetes-int-or-string': true };
        case 'string':
          return { type: 'string' };
        default:
          return {};
      }
    case 'struct': {
      const properties: JsonObject = {};
      for (const [k, v] of Object.entries(schema.fields)) properties[k] = toOpenApi(v);
      const out: JsonObject = { type: 'object', properties };
      if (schema.atomic) out['x-kubernetes-map-type'] = 'atomic';
      return out;
    }
    case 'map': {
      const out: JsonObject = { type: 'object', additionalProperties: toOpenApi(schema.values) };
      if (schema.atomic) out['x-kubernetes-map-type'] = 'atomic';
      return out;
    }
    case 'list': {
      const out: JsonObject = {
        type: 'array',
        items: toOpenApi(schema.items),
        'x-kubernetes-list-type': schema.listType,
      };
      if (schema.keys) out['x-kubernetes-list-map-keys'] = [...schema.keys];
      if (schema.smp?.strategy === 'merge') {
        out['x-kubernetes-patch-strategy'] = 'merge';
        if (schema.smp.mergeKey) out['x-kubernetes-patch-merge-key'] = schema.smp.mergeKey;
      }
      return out;
    }
    default:
      return { 'x-kubernetes-preserve-unknown-fields': true };
  }
}

function gvk(def: ResourceDefinition): Json[] {
  return [{ group: def.group, kind: def.kind, version: def.version }];
}

function param(name: string, type: string, description: string, where = 'query'): JsonObject {
  return { name, in: where, description, schema: { type, uniqueItems: true } };
}

const queryParams = {
  pretty: param('pretty', 'string', "If 'true', then the output is pretty printed."),
  dryRun: param('dryRun', 'string', 'When present, indicates that modifications should not be persisted.'),
  fieldManager: param(
    'fieldManager',
    'string',
    'fieldManager is a name associated with the actor or entity that is making these changes.',
  ),
  fieldValidation: param(
    'fieldValidation',
    'string',
    'fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields.',
  ),
  force: param('force', 'boolean', 'Force is going to "force" Apply requests.'),
  labelSelector: param(
    'labelSelector',
    'string',
    'A selector to restrict the list of returned objects by their labels.',
  ),
  fieldSelector: param(
    'fieldSelector',
    'string',
    'A selector to restrict the list of returned objects by their fields.',
  ),
  limit: param('limit', 'integer', 'limit is a maximum number of responses to return for a list call.'),
  continue: param(
    'continue',
    'string',
    'The continue option should be set when retrieving more results from the server.',
  ),
  watch: param('watch', 'boolean', 'Watch for changes to the described resources.'),
  resourceVersion: param(
    'resourceVersion',
    'string',
    'resourceVersion sets a constraint on what resource versions a request may be served from.',
  ),
  propagationPolicy: param(
    'propagationPolicy',
    'string',
    'Whether and how garbage collection will be performed.',
  ),
};

function ref(name: string): JsonObject {
  return { $ref: `#/components/schemas/${name}` };
}

function operation(
  def: ResourceDefinition,
  action: string,
  parameters: JsonObject[],
  body?: JsonObject,
): JsonObject {
  const op: JsonObject = {
    description: `${action} ${def.kind}`,
    operationId: `${action}${def.namespaced ? 'Namespaced' : ''}${def.kind}`,
    parameters,
    responses: {
      '200': { description: 'OK', content: { 'application/json': { schema: ref(definitionName(def)) } } },
    },
    'x-kubernetes-action': action,
    // Operations carry one GVK object; schemas carry a list.
    'x-kubernetes-group-version-kind': { group: def.group, kind: def.kind, version: def.version },
  };
  if (body) op.requestBody = body;
  return op;
}

function pathsFor(def: ResourceDefinition): JsonObject {
  const base = def.group === '' ? `/api/${def.version}` : `/apis/${def.group}/${def.version}`;
  const collection = def.namespaced
    ? `${base}/namespaces/{namespace}/${def.plural}`
    : `${base}/${def.plural}`;
  const item = `${collection}/{name}`;
  const scopeParams: JsonObject[] = def.namespaced
    ? [param('namespace', 'string', 'object name and auth scope', 'path')]
    : [];
  const jsonBody = { content: { '*/*': { schema: ref(definitionName(def)) } }, required: true };
  const patchBody = {
    content: {
      'application/apply-patch+yaml': { schema: { type: 'object' } },
      'application/json-patch+json': { schema: { type: 'object' } },
      'application/merge-patch+json': { schema: { type: 'object' } },
      'application/strategic-merge-patch+json': { schema: { type: 'object' } },
    },
    required: true,
  };
  // One object's get/put/patch, shared by the item path and its /status subresource.
  const readWrite = {
    get: operation(def, 'get', []),
    put: operation(
      def,
      'put',
      [queryParams.dryRun, queryParams.fieldManager, queryParams.fieldValidation],
      jsonBody,
    ),
    patch: operation(
      def,
      'patch',
      [queryParams.dryRun, queryParams.fieldManager, queryParams.fieldValidation, queryParams.force],
      patchBody,
    ),
  };
  const itemParams = [
    param('name', 'string', `name of the ${def.kind}`, 'path'),
    ...scopeParams,
    queryParams.pretty,
  ];
  const paths: JsonObject = {
    [collection]: {
      get: operation(def, 'list', [
        queryParams.labelSelector,
        queryParams.fieldSelector,
        queryParams.limit,
        queryParams.continue,
        queryParams.watch,
        queryParams.resourceVersion,
      ]),
      post: operation(
        def,
        'post',
        [queryParams.dryRun, queryParams.fieldManager, queryParams.fieldValidation],
        jsonBody,
      ),
      delete: operation(def, 'deletecollection', [
        queryParams.labelSelector,
        queryParams.fieldSelector,
        queryParams.propagationPolicy,
      ]),
      parameters: [...scopeParams, queryParams.pretty],
    },
    [item]: {
      ...readWrite,
      delete: operation(def, 'delete', [queryParams.dryRun, queryParams.propagationPolicy]),
      parameters: itemParams,
    },
  };
  for (const sub of def.subresources) {
    if (sub !== 'status') continue;
    paths[`${item}/status`] = { ...readWrite, parameters: itemParams };
  }
  return paths;
}

function schemasFor(defs: readonly ResourceDefinition[]): JsonObject {
  const schemas: JsonObject = {};
  for (const def of defs) {
    schemas[definitionName(def)] = { ...toOpenApi(def.schema), 'x-kubernetes-group-version-kind': gvk(def) };
    schemas[`${definitionName(def)}List`] = {
      type: 'object',
      required: ['items'],
      properties: {
        apiVersion: { type: 'string' },
        kind: { type: 'string' },
        items: { type: 'array', items: ref(definitionName(def)) },
        metadata: { type: 'object' },
      },
      'x-kubernetes-group-version-kind': [
        { group: def.group, kind: `${def.kind}List`, version: def.version },
      ],
    };
  }
  return schemas;
}

function groupVersions(): { key: string; group: string; version: string }[] {
  const seen = new Map<string, { key: string; group: string; version: string }>();
  for (const r of resources) {
    const key = r.group === '' ? `api/${r.version}` : `apis/${r.group}/${r.version}`;
    if (!seen.has(key)) seen.set(key, { key, group: r.group, version: r.version });
  }
  return [...seen.values()];
}

/** One OpenAPI v3 document (`/openapi/v3/api/v1`, `/openapi/v3/apis/apps/v1`). */
export function openApiV3Document(key: string): JsonObject | undefined {
  const gv = groupVersions().find((g) => g.key === key);
  if (!gv) return undefined;
  const defs = resources.filter((r) => r.group === gv.group && r.version === gv.version);
  let paths: JsonObject = {};
  for (const def of defs) paths = { ...paths, ...pathsFor(def) };
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: String(serverVersion.gitVersion) },
    paths,
    components: { schemas: schemasFor(defs) },
  };
}

function hashOf(doc: Json): string {
  return createHash('sha512').update(JSON.stringify(doc)).digest('hex').slice(0, 128).toUpperCase();
}

/** `/openapi/v3`: the index of group-version documents. */
export function openApiV3Index(): JsonObject {
  const paths: JsonObject = {};
  for (const gv of groupVersions()) {
    const doc = openApiV3Document(gv.key) as JsonObject;
    paths[gv.key] = { serverRelativeURL: `/openapi/v3/${gv.key}?hash=${hashOf(doc)}` };
  }
  return { paths };
}
