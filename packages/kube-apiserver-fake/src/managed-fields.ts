/**
 * Field ownership (`metadata.managedFields`) and server-side apply, after the real API server's field
 * manager: appliers own exactly the fields of their last applied configuration, updaters own what they
 * changed, a field another manager owns with a different value is a conflict unless forced, and a
 * field an applier stops applying is removed when no one else owns it.
 * @internal
 */

import { FieldSet, type Path, pathString } from './fieldpath.js';
import { clone, isObject, type Json, type JsonObject } from './json.js';
import type { Schema } from './schema.js';
import { compareValues, ensureNamedFieldsAreMembers, mergeValues, removeItems, toFieldSet } from './typed.js';

/** One `metadata.managedFields` entry with its parsed set. */
export interface Manager {
  readonly manager: string;
  readonly operation: 'Apply' | 'Update';
  readonly apiVersion: string;
  readonly subresource?: string;
  readonly time?: string;
  readonly set: FieldSet;
}

/** One ownership conflict. */
export interface Conflict {
  readonly manager: Manager;
  readonly path: Path;
}

/** Thrown by {@link apply} when fields owned by other managers would change. */
export class ConflictError extends Error {
  override readonly name = 'ConflictError';
  constructor(readonly conflicts: readonly Conflict[]) {
    super(conflictMessage(conflicts));
  }
}

/** Thrown when `metadata.managedFields` sent by a client cannot be decoded. */
export class ManagedFieldsError extends Error {
  override readonly name = 'ManagedFieldsError';
}

/** Identity of a manager entry, as the API server builds it (apiVersion only counts for updaters). */
export function managerKey(m: Pick<Manager, 'manager' | 'operation' | 'apiVersion' | 'subresource'>): string {
  return JSON.stringify([
    m.manager,
    m.operation,
    m.operation === 'Update' ? m.apiVersion : '',
    m.subresource ?? '',
  ]);
}

/** How a manager is named in conflict messages, e.g. `"kubectl" using v1` for updaters. */
export function printManager(m: Manager): string {
  let s = JSON.stringify(m.manager);
  if (m.subresource) s += ` with subresource ${JSON.stringify(m.subresource)}`;
  if (m.operation === 'Update') s += ` using ${m.apiVersion}`;
  return s;
}

function conflictMessage(conflicts: readonly Conflict[]): string {
  if (conflicts.length === 1) {
    const c = conflicts[0] as Conflict;
    return `Apply failed with 1 conflict: conflict with ${printManager(c.manager)}: ${pathString(c.path)}`;
  }
  const byManager = new Map<string, { manager: Manager; paths: Path[] }>();
  for (const c of conflicts) {
    const k = managerKey(c.manager);
    const entry = byManager.get(k) ?? { manager: c.manager, paths: [] };
    entry.paths.push(c.path);
    byManager.set(k, entry);
  }
  const lines: string[] = [];
  for (const { manager, paths } of [...byManager.values()].sort((a, b) =>
    printManager(a.manager) < printManager(b.manager) ? -1 : 1,
  )) {
    lines.push(`conflicts with ${printManager(manager)}:`);
    for (const p of paths) lines.push(`- ${pathString(p)}`);
  }
  return `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
}

/** Decodes `metadata.managedFields`; throws {@link ManagedFieldsError} on malformed entries. */
export function decodeManagers(value: Json | undefined): Manager[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new ManagedFieldsError('metadata.managedFields must be a list');
  const out: Manager[] = [];
  for (const entry of value) {
    if (!isObject(entry)) throw new ManagedFieldsError('metadata.managedFields entries must be objects');
    const operation = entry.operation;
    if (operation !== 'Apply' && operation !== 'Update') {
      throw new ManagedFieldsError(
        `metadata.managedFields: operation must be Apply or Update, got ${JSON.stringify(operation)}`,
      );
    }
    if (entry.fieldsType !== undefined && entry.fieldsType !== 'FieldsV1') {
      throw new ManagedFieldsError(`metadata.managedFields: fieldsType must be FieldsV1`);
    }
    let set: FieldSet;
    try {
      set = FieldSet.fromFieldsV1(entry.fieldsV1);
    } catch (error) {
      throw new ManagedFieldsError(`metadata.managedFields: ${(error as Error).message}`);
    }
    out.push({
      manager: typeof entry.manager === 'string' ? entry.manager : '',
      operation,
      apiVersion: typeof entry.apiVersion === 'string' ? entry.apiVersion : '',
      ...(typeof entry.subresource === 'string' && entry.subresource !== ''
        ? { subresource: entry.subresource }
        : {}),
      ...(typeof entry.time === 'string' ? { time: normalizeTime(entry.time) } : {}),
      set,
    });
  }
  return out;
}

/** `metav1.Time` precision: RFC 3339, whole seconds. */
function normalizeTime(value: string): string {
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? value : `${d.toISOString().slice(0, 19)}Z`;
}

/** Encodes managers in the API server's order (Apply before Update, then by time, manager, version). */
export function encodeManagers(managers: readonly Manager[]): Json[] {
  const sorted = [...managers].sort((p, q) => {
    if (p.operation !== q.operation) return p.operation < q.operation ? -1 : 1;
    const pt = p.time ? Date.parse(p.time) : 0;
    const qt = q.time ? Date.parse(q.time) : 0;
    if (pt !== qt) return pt - qt;
    if (p.manager !== q.manager) return p.manager < q.manager ? -1 : 1;
    if (p.apiVersion !== q.apiVersion) return p.apiVersion < q.apiVersion ? -1 : 1;
    return (p.subresource ?? '') < (q.subresource ?? '') ? -1 : 1;
  });
  return sorted.map((m) => {
    const e: JsonObject = { manager: m.manager, operation: m.operation, apiVersion: m.apiVersion };
    if (m.time) e.time = m.time;
    e.fieldsType = 'FieldsV1';
    e.fieldsV1 = m.set.toFieldsV1();
    if (m.subresource) e.subresource = m.subresource;
    return e;
  });
}

/** Paths never tracked (the API server strips them from every manager's set). */
export const strippedFields = FieldSet.of(
  [{ f: 'apiVersion' }],
  [{ f: 'kind' }],
  [{ f: 'metadata' }],
  [{ f: 'metadata' }, { f: 'name' }],
  [{ f: 'metadata' }, { f: 'namespace' }],
  [{ f: 'metadata' }, { f: 'creationTimestamp' }],
  [{ f: 'metadata' }, { f: 'selfLink' }],
  [{ f: 'metadata' }, { f: 'uid' }],
  [{ f: 'metadata' }, { f: 'generation' }],
  [{ f: 'metadata' }, { f: 'managedFields' }],
  [{ f: 'metadata' }, { f: 'resourceVersion' }],
  [{ f: 'metadata' }, { f: 'deletionTimestamp' }],
  [{ f: 'metadata' }, { f: 'deletionGracePeriodSeconds' }],
);

/** What an operation needs to know. */
export interface FieldManagerContext {
  readonly schema: Schema;
  /** Fields reset by the strategy of this endpoint (e.g. `status` on the main resource). */
  readonly ignored: FieldSet;
  readonly manager: string;
  readonly apiVersion: string;
  readonly subresource?: string;
  readonly now: string;
}

function withSet(m: Manager, set: FieldSet): Manager {
  return { ...m, set };
}

/**
 * Shared part of apply and update: conflicts of the change `old → next` with managers other than
 * `self`, then removal of the changed (when forced) and removed fields from their sets.
 */
function updateOthers(
  old: Json,
  next: Json,
  managers: readonly Manager[],
  selfKey: string,
  ctx: FieldManagerContext,
  force: boolean,
): Manager[] {
  const cmp = compareValues(old, next, ctx.schema);
  const changed = cmp.modified.union(cmp.added).recursiveDifference(ctx.ignored);
  const removed = cmp.removed.recursiveDifference(ctx.ignored);
  const conflicts: Conflict[] = [];
  const out: Manager[] = [];
  for (const m of managers) {
    if (managerKey(m) === selfKey) {
      out.push(m);
      continue;
    }
    const conflictSet = m.set.intersection(changed);
    if (!conflictSet.isEmpty()) for (const path of conflictSet.paths()) conflicts.push({ manager: m, path });
    out.push(withSet(m, m.set.difference(conflictSet).difference(removed)));
  }
  if (!force && conflicts.length > 0) throw new ConflictError(conflicts);
  return out.filter((m) => !m.set.isEmpty());
}

/** Result of {@link apply}: the merged object and the new managers (time not yet stamped). */
export interface ApplyResult {
  readonly object: JsonObject;
  readonly managers: Manager[];
}

/**
 * Server-side apply of `config` onto `live` (the stored object, or the empty object of the kind when
 * creating). Throws {@link ConflictError} unless `force`.
 */
export function apply(
  live: JsonObject,
  config: JsonObject,
  managers: readonly Manager[],
  ctx: FieldManagerContext,
  force: boolean,
): ApplyResult {
  const self: Omit<Manager, 'set'> = {
    manager: ctx.manager,
    operation: 'Apply',
    apiVersion: ctx.apiVersion,
    ...(ctx.subresource ? { subresource: ctx.subresource } : {}),
  };
  const selfKey = managerKey(self);
  const previous = managers.find((m) => managerKey(m) === selfKey);
  const merged = (mergeValues(clone(live), clone(config), ctx.schema) ?? {}) as JsonObject;
  const set = toFieldSet(config, ctx.schema).recursiveDifference(ctx.ignored);
  const newSelf: Manager = { ...self, ...(previous?.time ? { time: previous.time } : {}), set };
  let current: Manager[] = managers.filter((m) => managerKey(m) !== selfKey);
  current.push(newSelf);
  const pruned = prune(merged, current, previous?.set.recursiveDifference(ctx.ignored), ctx.schema);
  current = updateOthers(live, pruned, current, selfKey, ctx, force);
  return { object: pruned, managers: current.map((m) => withSet(m, m.set.difference(strippedFields))) };
}

/** Removes the fields the applier applied last time, no longer applies, and no one else owns. */
function prune(
  merged: JsonObject,
  managers: readonly Manager[],
  lastSet: FieldSet | undefined,
  schema: Schema,
): JsonObject {
  if (!lastSet || lastSet.isEmpty()) return merged;
  const named = (s: FieldSet): FieldSet => ensureNamedFieldsAreMembers(s, schema);
  const last = named(lastSet);
  let pruned = (removeItems(merged, last, schema) ?? {}) as JsonObject;
  // Add back what anyone (including the applier's new configuration) owns.
  let owned = new FieldSet();
  for (const m of managers) owned = owned.union(m.set);
  const mergedSet = named(toFieldSet(merged, schema));
  const prunedSet = named(toFieldSet(pruned, schema));
  pruned = (removeItems(merged, mergedSet.difference(prunedSet.union(named(owned))), schema) ??
    {}) as JsonObject;
  // Add back what the applier did not own last time (dangling items).
  const prunedSet2 = named(toFieldSet(pruned, schema));
  return (removeItems(merged, mergedSet.difference(prunedSet2).intersection(last), schema) ??
    {}) as JsonObject;
}

/**
 * A non-apply write (create, update, patch) by `ctx.manager`: it takes ownership of what it added or
 * changed and other managers lose those fields. Never conflicts.
 */
export function update(
  old: JsonObject,
  next: JsonObject,
  managers: readonly Manager[],
  ctx: FieldManagerContext,
): Manager[] {
  const self: Omit<Manager, 'set'> = {
    manager: ctx.manager,
    operation: 'Update',
    apiVersion: ctx.apiVersion,
    ...(ctx.subresource ? { subresource: ctx.subresource } : {}),
  };
  const selfKey = managerKey(self);
  const current = updateOthers(old, next, managers, selfKey, ctx, true);
  const cmp = compareValues(old, next, ctx.schema);
  const previous = current.find((m) => managerKey(m) === selfKey);
  const set = (previous?.set ?? new FieldSet())
    .union(cmp.modified)
    .union(cmp.added)
    .difference(cmp.removed)
    .recursiveDifference(ctx.ignored)
    .difference(strippedFields);
  const others = current
    .filter((m) => managerKey(m) !== selfKey)
    .map((m) => withSet(m, m.set.difference(strippedFields)));
  if (set.isEmpty()) return others.filter((m) => !m.set.isEmpty());
  return [
    ...others.filter((m) => !m.set.isEmpty()),
    { ...self, ...(previous?.time ? { time: previous.time } : {}), set },
  ];
}

/**
 * Stamps `now` on managers whose set changed (or that are new), and on `actor` when the object
 * changed, like the API server's managed-fields updater.
 */
export function stampTimes(
  before: readonly Manager[],
  after: readonly Manager[],
  actorKey: string,
  objectChanged: boolean,
  now: string,
): Manager[] {
  const old = new Map(before.map((m) => [managerKey(m), m]));
  return after.map((m) => {
    const key = managerKey(m);
    const prev = old.get(key);
    const stamp = !prev?.set.equals(m.set) || (key === actorKey && objectChanged);
    if (stamp && key === actorKey) return { ...m, time: now };
    if (!prev) return { ...m, time: now };
    return m;
  });
}
