/**
 * Schema-aware operations on JSON objects, after structured-merge-diff (the library behind
 * server-side apply): the field set of a value, merging an applied configuration into a live object,
 * comparing two objects field by field, and removing a set of fields.
 * @internal
 */

import { FieldSet, keyElement, type Path, type PathElement } from './fieldpath.js';
import { deepEqual, isObject, type Json, type JsonObject } from './json.js';
import { childOf, effective, itemsOf, type ListSchema, type Schema } from './schema.js';

/** Thrown when a value does not fit its schema (e.g. a list item without its key field). */
export class SchemaError extends Error {
  override readonly name = 'SchemaError';
}

/** The path element of list item `item` at `index` in a granular list. */
export function listItemElement(schema: ListSchema, index: number, item: Json, path: Path): PathElement {
  if (schema.listType === 'set') return { v: item };
  if (schema.listType === 'map') {
    if (!isObject(item)) {
      throw new SchemaError(`${describe(path)}: element ${index}: associative list can only contain objects`);
    }
    const fields: [string, Json][] = [];
    for (const key of schema.keys ?? []) {
      const v = item[key];
      if (v !== undefined && v !== null) fields.push([key, v]);
      else if (schema.keyDefaults?.[key] !== undefined) fields.push([key, schema.keyDefaults[key] as Json]);
      else {
        throw new SchemaError(
          `${describe(path)}: element ${index}: associative list with keys has an element that omits key field "${key}" (and doesn't have default value)`,
        );
      }
    }
    return keyElement(fields);
  }
  return { i: index };
}

function describe(path: Path): string {
  return path.map((pe) => ('f' in pe ? `.${pe.f}` : 'i' in pe ? `[${pe.i}]` : '[…]')).join('') || '.';
}

function isAtomic(schema: Schema): boolean {
  return (
    schema.kind === 'scalar' ||
    (schema.kind === 'list' && schema.listType === 'atomic') ||
    ((schema.kind === 'struct' || schema.kind === 'map') && schema.atomic === true)
  );
}

function isContainerValue(v: Json | undefined): v is Json[] | JsonObject {
  return Array.isArray(v) || isObject(v);
}

/** The set of fields a value sets (what an applier owns after applying it). */
export function toFieldSet(value: Json, schema: Schema): FieldSet {
  const set = new FieldSet();
  const walk = (v: Json, s0: Schema, path: PathElement[]): void => {
    const s = effective(s0, v);
    if (s.kind === 'scalar' || !isContainerValue(v)) {
      // Scalars are leaves; a null for a struct/map/list contributes nothing.
      if (s.kind === 'scalar' || isAtomic(s)) set.insert(path);
      return;
    }
    if (isAtomic(s)) {
      set.insert(path);
      return;
    }
    if (s.kind === 'list') {
      if (!Array.isArray(v)) return;
      const seen = new Set<string>();
      v.forEach((item, i) => {
        const pe = listItemElement(s, i, item, path);
        const key = JSON.stringify(pe);
        if (seen.has(key)) return;
        seen.add(key);
        const childPath = [...path, pe];
        walk(item, s.items, childPath);
        set.insert(childPath);
      });
      return;
    }
    if (!isObject(v)) return;
    for (const [key, child] of Object.entries(v)) {
      const { schema: cs, named } = childOf(s, key);
      const childPath = [...path, { f: key }];
      walk(child, cs, childPath);
      if (!named) set.insert(childPath);
    }
  };
  walk(value, schema, []);
  return set;
}

/**
 * Merges an applied configuration into a live value: the configuration wins for scalars and atomic
 * fields, maps are merged key by key, associative lists item by item (keeping the live order and
 * placing new items like structured-merge-diff does).
 */
export function mergeValues(
  lhs: Json | undefined,
  rhs: Json | undefined,
  schema: Schema,
  path: Path = [],
): Json | undefined {
  if (rhs === undefined) return lhs;
  if (lhs === undefined || lhs === null) return rhs;
  const s = effective(schema, rhs);
  if (isAtomic(s)) return rhs;
  if (s.kind === 'list') {
    if (!Array.isArray(lhs) || !Array.isArray(rhs)) return rhs;
    return mergeLists(lhs, rhs, s, path);
  }
  if (!isObject(lhs) || !isObject(rhs)) return rhs;
  const out: JsonObject = {};
  for (const key of Object.keys(lhs)) {
    const { schema: cs } = childOf(s, key);
    const merged = mergeValues(lhs[key], rhs[key], cs, [...path, { f: key }]);
    if (merged !== undefined) out[key] = merged;
  }
  for (const key of Object.keys(rhs)) {
    if (Object.hasOwn(lhs, key)) continue;
    out[key] = rhs[key] as Json;
  }
  return out;
}

interface Indexed {
  readonly order: string[];
  readonly items: Map<string, Json>;
}

function indexList(list: Json[], schema: ListSchema, path: Path): Indexed {
  const order: string[] = [];
  const items = new Map<string, Json>();
  list.forEach((item, i) => {
    const key = JSON.stringify(listItemElement(schema, i, item, path));
    if (items.has(key)) return;
    items.set(key, item);
    order.push(key);
  });
  return { order, items };
}

function mergeLists(lhs: Json[], rhs: Json[], s: ListSchema, path: Path): Json[] {
  const l = indexList(lhs, s, path);
  const r = indexList(rhs, s, path);
  const shared = r.order.filter((k) => l.items.has(k));
  let sharedIndex = 0;
  const nextShared = (): string | undefined => shared[sharedIndex];
  const out: Json[] = [];
  const emit = (key: string): void => {
    const merged = mergeValues(l.items.get(key), r.items.get(key), s.items, path);
    if (merged !== undefined) out.push(merged);
  };
  let li = 0;
  let ri = 0;
  while (li < l.order.length || ri < r.order.length) {
    if (li < l.order.length && ri < r.order.length) {
      const lk = l.order[li] as string;
      if (lk === r.order[ri]) {
        emit(lk);
        li++;
        ri++;
        sharedIndex++;
        continue;
      }
      if (r.items.has(lk) && nextShared() !== undefined && nextShared() !== lk) {
        li++;
        continue;
      }
    }
    if (li < l.order.length) {
      const lk = l.order[li] as string;
      if (!r.items.has(lk)) {
        emit(lk);
        li++;
        continue;
      }
    }
    if (ri < r.order.length) {
      const rk = r.order[ri] as string;
      emit(rk);
      ri++;
      if (nextShared() === rk) sharedIndex++;
    }
  }
  return out;
}

/** The result of comparing two values. */
export interface Comparison {
  readonly added: FieldSet;
  readonly modified: FieldSet;
  readonly removed: FieldSet;
}

function isEmptyContainer(v: Json | undefined): boolean {
  return (
    v === undefined ||
    v === null ||
    (Array.isArray(v) && v.length === 0) ||
    (isObject(v) && Object.keys(v).length === 0)
  );
}

/** Field-by-field comparison of `lhs` (old) and `rhs` (new). */
export function compareValues(lhs: Json | undefined, rhs: Json | undefined, schema: Schema): Comparison {
  const added = new FieldSet();
  const modified = new FieldSet();
  const removed = new FieldSet();
  const leaf = (l: Json | undefined, r: Json | undefined, path: Path): void => {
    if (path.length === 0) return;
    if (l === undefined) added.insert(path);
    else if (r === undefined) removed.insert(path);
    else if (!deepEqual(l, r)) modified.insert(path);
  };
  const walk = (l: Json | undefined, r: Json | undefined, s0: Schema, path: Path): void => {
    const s = effective(s0, r ?? l);
    const granular = !isAtomic(s) && !(isEmptyContainer(l) && isEmptyContainer(r));
    const shapeOk =
      s.kind === 'list'
        ? (l === undefined || l === null || Array.isArray(l)) &&
          (r === undefined || r === null || Array.isArray(r))
        : s.kind === 'struct' || s.kind === 'map'
          ? (l === undefined || l === null || isObject(l)) && (r === undefined || r === null || isObject(r))
          : false;
    if (!granular || !shapeOk) {
      leaf(l, r, path);
      return;
    }
    if (s.kind === 'list') {
      const li = indexList(Array.isArray(l) ? l : [], s, path);
      const ri = indexList(Array.isArray(r) ? r : [], s, path);
      const asPe = (k: string): PathElement => JSON.parse(k) as PathElement;
      for (const k of ri.order) walk(li.items.get(k), ri.items.get(k), s.items, [...path, asPe(k)]);
      for (const k of li.order)
        if (!ri.items.has(k)) walk(li.items.get(k), undefined, s.items, [...path, asPe(k)]);
    } else {
      const lo = isObject(l) ? l : {};
      const ro = isObject(r) ? r : {};
      const keys = new Set([...Object.keys(lo), ...Object.keys(ro)]);
      for (const key of keys) walk(lo[key], ro[key], childOf(s, key).schema, [...path, { f: key }]);
    }
    if (path.length > 0) {
      if (l === undefined) added.insert(path);
      else if (r === undefined) removed.insert(path);
    }
  };
  walk(lhs, rhs, schema, []);
  return { added, modified, removed };
}

/** `value` without the fields in `toRemove` (an emptied map or list disappears). */
export function removeItems(value: Json | undefined, toRemove: FieldSet, schema: Schema): Json | undefined {
  if (value === undefined || toRemove.isEmpty()) return value;
  const s = effective(schema, value);
  if (s.kind === 'scalar' || !isContainerValue(value)) return value;
  if (isAtomic(s)) return undefined;
  if (s.kind === 'list') {
    if (!Array.isArray(value) || value.length === 0) return undefined;
    const out: Json[] = [];
    value.forEach((item, i) => {
      const pe = listItemElement(s, i, item, []);
      if (toRemove.hasMember(pe)) return;
      const sub = toRemove.withPrefix(pe);
      const next = sub.isEmpty() ? item : removeItems(item, sub, s.items);
      if (next !== undefined) out.push(next);
    });
    return out.length > 0 ? out : undefined;
  }
  if (!isObject(value)) return value;
  const out: JsonObject = {};
  for (const [key, child] of Object.entries(value)) {
    const pe: PathElement = { f: key };
    if (toRemove.hasMember(pe)) continue;
    const sub = toRemove.withPrefix(pe);
    const next = sub.isEmpty() ? child : removeItems(child, sub, childOf(s, key).schema);
    if (next !== undefined) out[key] = next;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Adds, at every level, the named struct fields that have children as members too. */
export function ensureNamedFieldsAreMembers(set: FieldSet, schema: Schema): FieldSet {
  const out = new FieldSet();
  for (const pe of set.memberElements()) out.addMember(pe);
  for (const { pe, set: child } of set.entries()) {
    let childSchema: Schema;
    if ('f' in pe) {
      const c = childOf(schema, pe.f);
      childSchema = c.schema;
      if (c.named && schema.kind === 'struct') out.addMember(pe);
    } else {
      childSchema = itemsOf(schema);
    }
    out.setChild(pe, ensureNamedFieldsAreMembers(child, childSchema));
  }
  return out;
}
