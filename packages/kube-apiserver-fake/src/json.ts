/**
 * Plain JSON values and the few helpers every part of the Kubernetes fake needs.
 * @internal
 */

/** A JSON value as decoded by `JSON.parse`. */
export type Json = null | boolean | number | string | Json[] | JsonObject;

/** A JSON object. */
export interface JsonObject {
  [key: string]: Json;
}

/** True for a plain JSON object (not an array, not null). */
export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Structural equality of two JSON values (key order is ignored). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => deepEqual(item, b[i]));
  }
  if (isObject(a)) {
    if (!isObject(b)) return false;
    const ak = Object.keys(a);
    if (ak.length !== Object.keys(b).length) return false;
    return ak.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

/** A deep copy of a JSON value. */
export function clone<T extends Json | undefined>(value: T): T {
  return value === undefined ? value : (structuredClone(value) as T);
}

/** The object at `o[key]`, created (and stored) when missing or not an object. */
export function child(o: JsonObject, key: string): JsonObject {
  const v = o[key];
  if (isObject(v)) return v;
  const created: JsonObject = {};
  o[key] = created;
  return created;
}

/** Reads a string field; `undefined` unless it is a string. */
export function str(value: Json | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** The object at a key, or `undefined` when it is not an object. */
export function obj(value: Json | undefined): JsonObject | undefined {
  return isObject(value) ? value : undefined;
}

/** A JSON value with object keys sorted recursively (stable output for hashing and keys). */
export function canonical(value: Json): Json {
  if (Array.isArray(value)) return value.map(canonical);
  if (isObject(value)) {
    const out: JsonObject = {};
    for (const key of Object.keys(value).sort()) out[key] = canonical(value[key] as Json);
    return out;
  }
  return value;
}

/** Total order on JSON scalars used for sorting keys: null < bool < number < string < array < object. */
export function compareJson(a: Json, b: Json): number {
  const rank = (v: Json): number =>
    v === null
      ? 0
      : typeof v === 'boolean'
        ? 1
        : typeof v === 'number'
          ? 2
          : typeof v === 'string'
            ? 3
            : Array.isArray(v)
              ? 4
              : 5;
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  if (typeof a === 'boolean' || typeof a === 'number') return Number(a) - Number(b);
  if (typeof a === 'string') return a < (b as string) ? -1 : a > (b as string) ? 1 : 0;
  const sa = JSON.stringify(canonical(a));
  const sb = JSON.stringify(canonical(b));
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}
