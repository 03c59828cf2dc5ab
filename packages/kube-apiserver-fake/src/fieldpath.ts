/**
 * Field paths and field sets in the `FieldsV1` format the real API server writes into
 * `metadata.managedFields` (structured-merge-diff): keys are `f:<field>`, `k:<json of key fields>`,
 * `v:<json value>` or `i:<index>`, and `"."` marks the parent itself as a member of the set.
 * @internal
 */

import { canonical, compareJson, isObject, type Json, type JsonObject } from './json.js';

/** One step of a path. */
export type PathElement =
  | { readonly f: string }
  | { readonly k: readonly (readonly [string, Json])[] }
  | { readonly v: Json }
  | { readonly i: number };

/** A path from the object root. */
export type Path = readonly PathElement[];

/** The FieldsV1 key of a path element, e.g. `f:spec` or `k:{"name":"app"}`. */
export function encodeElement(pe: PathElement): string {
  if ('f' in pe) return `f:${pe.f}`;
  if ('k' in pe) {
    const o: JsonObject = {};
    for (const [name, value] of pe.k) o[name] = canonical(value);
    return `k:${JSON.stringify(o)}`;
  }
  if ('v' in pe) return `v:${JSON.stringify(canonical(pe.v))}`;
  return `i:${pe.i}`;
}

/** Parses a FieldsV1 key; `undefined` for unknown prefixes. */
export function decodeElement(key: string): PathElement | undefined {
  const rest = key.slice(2);
  switch (key.slice(0, 2)) {
    case 'f:':
      return { f: rest };
    case 'k:': {
      const parsed: unknown = JSON.parse(rest);
      if (!isObject(parsed)) throw new Error(`invalid key path element ${key}`);
      return keyElement(Object.entries(parsed));
    }
    case 'v:':
      return { v: JSON.parse(rest) as Json };
    case 'i:': {
      const i = Number(rest);
      if (!Number.isInteger(i)) throw new Error(`invalid index path element ${key}`);
      return { i };
    }
    default:
      return undefined;
  }
}

/** A key path element with its fields sorted by name. */
export function keyElement(fields: readonly (readonly [string, Json])[]): PathElement {
  return { k: [...fields].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) };
}

function rank(pe: PathElement): number {
  return 'f' in pe ? 0 : 'k' in pe ? 1 : 'v' in pe ? 2 : 3;
}

/** The order structured-merge-diff uses: field names, then keys, then values, then indexes. */
export function compareElements(a: PathElement, b: PathElement): number {
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  if ('f' in a && 'f' in b) return a.f < b.f ? -1 : a.f > b.f ? 1 : 0;
  if ('k' in a && 'k' in b) {
    for (let i = 0; ; i++) {
      const x = a.k[i];
      const y = b.k[i];
      if (!x && !y) return 0;
      if (!x) return -1;
      if (!y) return 1;
      if (x[0] !== y[0]) return x[0] < y[0] ? -1 : 1;
      const c = compareJson(x[1], y[1]);
      if (c !== 0) return c;
    }
  }
  if ('v' in a && 'v' in b) return compareJson(a.v, b.v);
  if ('i' in a && 'i' in b) return a.i - b.i;
  return 0;
}

function valueString(value: Json): string {
  return JSON.stringify(value);
}

/** The human form used in conflict messages, e.g. `.spec.template.spec.containers[name="app"].image`. */
export function pathString(path: Path): string {
  return path
    .map((pe) => {
      if ('f' in pe) return `.${pe.f}`;
      if ('k' in pe) return `[${pe.k.map(([n, v]) => `${n}=${valueString(v)}`).join(',')}]`;
      if ('v' in pe) return `[=${valueString(pe.v)}]`;
      return `[${pe.i}]`;
    })
    .join('');
}

interface Node {
  readonly pe: PathElement;
  readonly set: FieldSet;
}

/** A set of field paths, stored as a trie. */
export class FieldSet {
  private readonly members = new Map<string, PathElement>();
  private readonly children = new Map<string, Node>();

  /** Builds a set from paths. */
  static of(...paths: Path[]): FieldSet {
    const s = new FieldSet();
    for (const p of paths) s.insert(p);
    return s;
  }

  /** Parses a FieldsV1 object. */
  static fromFieldsV1(value: Json | undefined): FieldSet {
    const s = new FieldSet();
    if (!isObject(value)) return s;
    for (const [key, sub] of Object.entries(value)) {
      if (key === '.') continue;
      const pe = decodeElement(key);
      if (!pe) continue;
      const subObj = isObject(sub) ? sub : {};
      const keys = Object.keys(subObj);
      if (keys.length === 0 || keys.includes('.')) s.members.set(key, pe);
      const child = FieldSet.fromFieldsV1(subObj);
      if (!child.isEmpty()) s.children.set(key, { pe, set: child });
    }
    return s;
  }

  /** Serialises to FieldsV1, keys in structured-merge-diff order with `"."` first. */
  toFieldsV1(): JsonObject {
    return this.emit(false);
  }

  private emit(includeSelf: boolean): JsonObject {
    const out: JsonObject = {};
    const keys = new Map<string, PathElement>();
    for (const [k, pe] of this.members) keys.set(k, pe);
    for (const [k, n] of this.children) keys.set(k, n.pe);
    const sorted = [...keys.entries()].sort((a, b) => compareElements(a[1], b[1]));
    if (includeSelf && sorted.length > 0) out['.'] = {};
    for (const [k] of sorted) {
      const child = this.children.get(k);
      out[k] = child ? child.set.emit(this.members.has(k)) : {};
    }
    return out;
  }

  isEmpty(): boolean {
    return this.members.size === 0 && this.children.size === 0;
  }

  /** Adds a path as a member (creating intermediate nodes). */
  insert(path: Path): void {
    if (path.length === 0) return;
    let current: FieldSet = this;
    for (let i = 0; i < path.length - 1; i++) {
      const pe = path[i] as PathElement;
      const key = encodeElement(pe);
      let node = current.children.get(key);
      if (!node) {
        node = { pe, set: new FieldSet() };
        current.children.set(key, node);
      }
      current = node.set;
    }
    const last = path[path.length - 1] as PathElement;
    current.members.set(encodeElement(last), last);
  }

  /** True when the path is a member. */
  has(path: Path): boolean {
    if (path.length === 0) return false;
    let current: FieldSet | undefined = this;
    for (let i = 0; i < path.length - 1; i++) {
      current = current.children.get(encodeElement(path[i] as PathElement))?.set;
      if (!current) return false;
    }
    return current.members.has(encodeElement(path[path.length - 1] as PathElement));
  }

  /** True when `pe` is a member at this level. */
  hasMember(pe: PathElement): boolean {
    return this.members.has(encodeElement(pe));
  }

  /** The subset below `pe` (empty when none). */
  withPrefix(pe: PathElement): FieldSet {
    return this.children.get(encodeElement(pe))?.set ?? new FieldSet();
  }

  /** A deep copy. */
  copy(): FieldSet {
    return this.union(new FieldSet());
  }

  union(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const [k, pe] of this.members) out.members.set(k, pe);
    for (const [k, pe] of other.members) out.members.set(k, pe);
    const keys = new Set([...this.children.keys(), ...other.children.keys()]);
    for (const k of keys) {
      const a = this.children.get(k);
      const b = other.children.get(k);
      const pe = (a ?? b)?.pe as PathElement;
      const merged = (a?.set ?? new FieldSet()).union(b?.set ?? new FieldSet());
      if (!merged.isEmpty()) out.children.set(k, { pe, set: merged });
    }
    return out;
  }

  intersection(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const [k, pe] of this.members) if (other.members.has(k)) out.members.set(k, pe);
    for (const [k, node] of this.children) {
      const b = other.children.get(k);
      if (!b) continue;
      const inter = node.set.intersection(b.set);
      if (!inter.isEmpty()) out.children.set(k, { pe: node.pe, set: inter });
    }
    return out;
  }

  /** Members of this set not in `other` (member-wise, like structured-merge-diff's Difference). */
  difference(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const [k, pe] of this.members) if (!other.members.has(k)) out.members.set(k, pe);
    for (const [k, node] of this.children) {
      const b = other.children.get(k);
      const diff = b ? node.set.difference(b.set) : node.set.copy();
      if (!diff.isEmpty()) out.children.set(k, { pe: node.pe, set: diff });
    }
    return out;
  }

  /** Removes every path of `other` together with everything below it. */
  recursiveDifference(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const [k, pe] of this.members) if (!other.members.has(k)) out.members.set(k, pe);
    for (const [k, node] of this.children) {
      if (other.members.has(k)) continue;
      const b = other.children.get(k);
      const diff = b ? node.set.recursiveDifference(b.set) : node.set.copy();
      if (!diff.isEmpty()) out.children.set(k, { pe: node.pe, set: diff });
    }
    return out;
  }

  /** Every member path, in set order. */
  paths(prefix: Path = []): Path[] {
    const out: Path[] = [];
    const keys = new Map<string, PathElement>();
    for (const [k, pe] of this.members) keys.set(k, pe);
    for (const [k, n] of this.children) keys.set(k, n.pe);
    const sorted = [...keys.entries()].sort((a, b) => compareElements(a[1], b[1]));
    for (const [k, pe] of sorted) {
      if (this.members.has(k)) out.push([...prefix, pe]);
      const child = this.children.get(k);
      if (child) out.push(...child.set.paths([...prefix, pe]));
    }
    return out;
  }

  /** Child nodes (for schema-aware walks). */
  entries(): readonly { readonly key: string; readonly pe: PathElement; readonly set: FieldSet }[] {
    return [...this.children.entries()].map(([key, n]) => ({ key, pe: n.pe, set: n.set }));
  }

  /** Member elements at this level. */
  memberElements(): readonly PathElement[] {
    return [...this.members.values()];
  }

  /** Structural equality. */
  equals(other: FieldSet): boolean {
    return this.difference(other).isEmpty() && other.difference(this).isEmpty();
  }

  /** Adds a member at this level (internal helper for schema walks). */
  addMember(pe: PathElement): void {
    this.members.set(encodeElement(pe), pe);
  }

  /** Replaces the child set at `pe` (internal helper for schema walks). */
  setChild(pe: PathElement, set: FieldSet): void {
    if (set.isEmpty()) this.children.delete(encodeElement(pe));
    else this.children.set(encodeElement(pe), { pe, set });
  }
}
