/**
 * The three non-apply patch formats: JSON patch (RFC 6902), JSON merge patch (RFC 7386) and
 * Kubernetes strategic merge patch (list items merged by key for the built-in kinds).
 * @internal
 */

import { clone, deepEqual, isObject, type Json, type JsonObject } from './json.js';
import { childOf, effective, type ListSchema, type Schema } from './schema.js';

/** A patch that could not be decoded (HTTP 400). */
export class PatchDecodeError extends Error {
  override readonly name = 'PatchDecodeError';
}

/** A patch that could not be applied to the object (HTTP 422). */
export class PatchApplyError extends Error {
  override readonly name = 'PatchApplyError';
}

// ---------------------------------------------------------------- JSON patch (RFC 6902)

interface Operation {
  readonly op: string;
  readonly path: string;
  readonly from?: string;
  readonly value?: Json;
}

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new PatchApplyError(`invalid JSON pointer ${JSON.stringify(pointer)}`);
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function container(doc: Json, tokens: readonly string[], pointer: string, op: string): Json {
  let current = doc;
  for (const token of tokens) {
    if (Array.isArray(current)) {
      const i = Number(token);
      if (!/^\d+$/.test(token) || i >= current.length) {
        throw new PatchApplyError(
          `${op} operation does not apply: doc is missing path: "${pointer}": missing value`,
        );
      }
      current = current[i] as Json;
    } else if (isObject(current)) {
      if (!Object.hasOwn(current, token)) {
        throw new PatchApplyError(
          `${op} operation does not apply: doc is missing path: "${pointer}": missing value`,
        );
      }
      current = current[token] as Json;
    } else {
      throw new PatchApplyError(
        `${op} operation does not apply: doc is missing path: "${pointer}": missing value`,
      );
    }
  }
  return current;
}

function getAt(doc: Json, pointer: string, op: string): Json {
  return container(doc, parsePointer(pointer), pointer, op);
}

function removeAt(doc: Json, pointer: string, op: string): Json {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0)
    throw new PatchApplyError(`${op} operation does not apply: cannot remove the document root`);
  const parent = container(doc, tokens.slice(0, -1), pointer, op);
  const last = tokens[tokens.length - 1] as string;
  if (Array.isArray(parent)) {
    const i = Number(last);
    if (!/^\d+$/.test(last) || i >= parent.length) {
      throw new PatchApplyError(
        `${op} operation does not apply: doc is missing path: "${pointer}": missing value`,
      );
    }
    return parent.splice(i, 1)[0] as Json;
  }
  if (isObject(parent) && Object.hasOwn(parent, last)) {
    const value = parent[last] as Json;
    delete parent[last];
    return value;
  }
  throw new PatchApplyError(
    `${op} operation does not apply: doc is missing path: "${pointer}": missing value`,
  );
}

function addAt(doc: Json, pointer: string, value: Json, op: string, replace: boolean): Json {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return value;
  const parent = container(doc, tokens.slice(0, -1), pointer, op);
  const last = tokens[tokens.length - 1] as string;
  if (Array.isArray(parent)) {
    if (replace) {
      const i = Number(last);
      if (!/^\d+$/.test(last) || i >= parent.length) {
        throw new PatchApplyError(
          `${op} operation does not apply: doc is missing path: "${pointer}": missing value`,
        );
      }
      parent[i] = value;
    } else if (last === '-') {
      parent.push(value);
    } else {
      const i = Number(last);
      if (!/^\d+$/.test(last) || i > parent.length) {
        throw new PatchApplyError(`${op} operation does not apply: index out of bounds in "${pointer}"`);
      }
      parent.splice(i, 0, value);
    }
    return doc;
  }
  if (!isObject(parent)) {
    throw new PatchApplyError(
      `${op} operation does not apply: doc is missing path: "${pointer}": missing value`,
    );
  }
  if (replace && !Object.hasOwn(parent, last)) {
    throw new PatchApplyError(
      `replace operation does not apply: doc is missing key: ${pointer}: missing value`,
    );
  }
  parent[last] = value;
  return doc;
}

/** Decodes a JSON patch document; it must be an array of operations. */
export function decodeJsonPatch(body: Json): Operation[] {
  if (!Array.isArray(body)) {
    throw new PatchDecodeError(
      `json: cannot unmarshal ${body === null ? 'null' : typeof body === 'object' ? 'object' : typeof body} into Go value of type jsonpatch.Patch`,
    );
  }
  return body.map((op) => {
    if (!isObject(op))
      throw new PatchDecodeError(
        'json: cannot unmarshal non-object into Go value of type jsonpatch.Operation',
      );
    return op as unknown as Operation;
  });
}

/** Applies a JSON patch to a copy of `doc`. */
export function applyJsonPatch(doc: Json, ops: readonly Operation[]): Json {
  let out = clone(doc);
  for (const op of ops) {
    const path = typeof op.path === 'string' ? op.path : undefined;
    if (path === undefined)
      throw new PatchApplyError(`${String(op.op)} operation does not apply: missing path`);
    switch (op.op) {
      case 'add':
        if (!('value' in op)) throw new PatchApplyError('add operation does not apply: missing value');
        out = addAt(out, path, clone(op.value as Json), 'add', false);
        break;
      case 'remove':
        removeAt(out, path, 'remove');
        break;
      case 'replace':
        if (!('value' in op)) throw new PatchApplyError('replace operation does not apply: missing value');
        out = addAt(out, path, clone(op.value as Json), 'replace', true);
        break;
      case 'move': {
        if (typeof op.from !== 'string')
          throw new PatchApplyError('move operation does not apply: missing from');
        const value = removeAt(out, op.from, 'move');
        out = addAt(out, path, value, 'move', false);
        break;
      }
      case 'copy': {
        if (typeof op.from !== 'string')
          throw new PatchApplyError('copy operation does not apply: missing from');
        out = addAt(out, path, clone(getAt(out, op.from, 'copy')), 'copy', false);
        break;
      }
      case 'test': {
        const actual = getAt(out, path, 'test');
        if (!deepEqual(actual, op.value))
          throw new PatchApplyError(`testing value ${path} failed: test failed`);
        break;
      }
      default:
        throw new PatchApplyError(`Unexpected kind: ${String(op.op)}`);
    }
  }
  return out;
}

// ---------------------------------------------------------------- merge patch (RFC 7386)

/** Applies an RFC 7386 merge patch. */
export function applyMergePatch(target: Json | undefined, patch: Json): Json {
  if (!isObject(patch)) return clone(patch);
  const out: JsonObject = isObject(target) ? clone(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = applyMergePatch(out[key], value);
  }
  return out;
}

// ---------------------------------------------------------------- strategic merge patch

const DIRECTIVE = '$patch';
const RETAIN_KEYS = '$retainKeys';
const SET_ORDER = '$setElementOrder/';
const DELETE_PRIMITIVE = '$deleteFromPrimitiveList/';

/**
 * Applies a strategic merge patch. Lists with a merge key in the schema (containers by `name`,
 * container ports by `containerPort`, volumeMounts by `mountPath`, …) are merged item by item, sets of
 * primitives (finalizers) are unioned, other lists are replaced. Supports the `$patch`
 * (`replace`/`delete`/`merge`), `$retainKeys`, `$setElementOrder/<list>` and
 * `$deleteFromPrimitiveList/<list>` directives.
 */
export function applyStrategicMergePatch(
  target: Json | undefined,
  patch: Json,
  schema: Schema,
): Json | undefined {
  if (!isObject(patch)) return clone(patch);
  return mergeMap(isObject(target) ? target : undefined, patch, schema);
}

function mergeMap(target: JsonObject | undefined, patch: JsonObject, schema: Schema): JsonObject | undefined {
  const directive = patch[DIRECTIVE];
  if (directive === 'delete') return undefined;
  if (directive === 'replace') {
    const replaced = clone(patch);
    delete replaced[DIRECTIVE];
    return stripDirectives(replaced) as JsonObject;
  }
  if (directive !== undefined && directive !== 'merge') {
    throw new PatchApplyError(`Unknown patch type: ${String(directive)} in map: ${JSON.stringify(patch)}`);
  }
  const s = effective(schema, patch);
  const out: JsonObject = target ? clone(target) : {};
  const retain = patch[RETAIN_KEYS];
  for (const [key, value] of Object.entries(patch)) {
    if (key === DIRECTIVE || key === RETAIN_KEYS) continue;
    if (key.startsWith(SET_ORDER) || key.startsWith(DELETE_PRIMITIVE)) continue;
    const cs = childOf(s, key).schema;
    if (value === null) {
      delete out[key];
      continue;
    }
    const current = out[key];
    const ecs = effective(cs, value);
    if (Array.isArray(value)) {
      const merged = mergeList(Array.isArray(current) ? current : undefined, value, ecs);
      if (merged === undefined) delete out[key];
      else out[key] = merged;
    } else if (isObject(value)) {
      const atomic = (ecs.kind === 'struct' || ecs.kind === 'map') && ecs.atomic === true;
      const merged = atomic
        ? (stripDirectives(value) as JsonObject)
        : mergeMap(isObject(current) ? current : undefined, value, ecs);
      if (merged === undefined) delete out[key];
      else out[key] = merged;
    } else {
      out[key] = value;
    }
  }
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith(DELETE_PRIMITIVE) && Array.isArray(value)) {
      const field = key.slice(DELETE_PRIMITIVE.length);
      const current = out[field];
      if (Array.isArray(current)) out[field] = current.filter((v) => !value.some((d) => deepEqual(d, v)));
    }
  }
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith(SET_ORDER) && Array.isArray(value)) {
      const field = key.slice(SET_ORDER.length);
      const current = out[field];
      const ls = childOf(s, field).schema;
      if (Array.isArray(current) && ls.kind === 'list') out[field] = reorder(current, value, ls);
    }
  }
  if (Array.isArray(retain)) {
    const keep = new Set(retain.filter((k): k is string => typeof k === 'string'));
    for (const key of Object.keys(out)) if (!keep.has(key)) delete out[key];
  }
  return out;
}

function stripDirectives(value: Json): Json {
  if (Array.isArray(value))
    return value.filter((v) => !(isObject(v) && v[DIRECTIVE] !== undefined)).map(stripDirectives);
  if (!isObject(value)) return value;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === DIRECTIVE || k === RETAIN_KEYS || k.startsWith(SET_ORDER) || k.startsWith(DELETE_PRIMITIVE))
      continue;
    out[k] = stripDirectives(v);
  }
  return out;
}

function mergeKeyOf(schema: Schema): string | undefined {
  return schema.kind === 'list' && schema.smp?.strategy === 'merge' ? (schema.smp.mergeKey ?? '') : undefined;
}

function mergeList(current: Json[] | undefined, patch: Json[], schema: Schema): Json[] | undefined {
  const mergeKey = mergeKeyOf(schema);
  if (patch.some((item) => isObject(item) && item[DIRECTIVE] === 'replace')) {
    return patch.filter((item) => !(isObject(item) && item[DIRECTIVE] !== undefined)).map(stripDirectives);
  }
  if (mergeKey === undefined || schema.kind !== 'list') return stripDirectives(patch) as Json[];
  const out: Json[] = current ? clone(current) : [];
  if (mergeKey === '') {
    // A set of primitives: union, keeping order.
    for (const item of patch) if (!out.some((v) => deepEqual(v, item))) out.push(clone(item));
    return out;
  }
  const items = schema.items;
  for (const item of patch) {
    if (!isObject(item)) {
      throw new PatchApplyError(
        `merging list items by "${mergeKey}" requires objects, got ${JSON.stringify(item)}`,
      );
    }
    const key = item[mergeKey];
    const directive = item[DIRECTIVE];
    if (key === undefined) {
      throw new PatchApplyError(
        `map: ${JSON.stringify(item)} does not contain declared merge key: ${mergeKey}`,
      );
    }
    const index = out.findIndex((v) => isObject(v) && deepEqual(v[mergeKey], key));
    if (directive === 'delete') {
      if (index >= 0) out.splice(index, 1);
      continue;
    }
    if (index >= 0) {
      const merged = mergeMap(out[index] as JsonObject, item, items);
      if (merged === undefined) out.splice(index, 1);
      else out[index] = merged;
    } else {
      const added = mergeMap(undefined, item, items);
      if (added !== undefined) out.push(added);
    }
  }
  return out;
}

function reorder(list: Json[], order: Json[], schema: ListSchema): Json[] {
  const mergeKey = schema.smp?.mergeKey;
  const keyOf = (item: Json): Json => (mergeKey && isObject(item) ? (item[mergeKey] ?? null) : item);
  const orderKeys = order.map(keyOf);
  const ordered: Json[] = [];
  for (const k of orderKeys) {
    const found = list.find((item) => deepEqual(keyOf(item), k));
    if (found !== undefined) ordered.push(found);
  }
  const rest = list.filter((item) => !orderKeys.some((k) => deepEqual(k, keyOf(item))));
  return [...ordered, ...rest];
}
