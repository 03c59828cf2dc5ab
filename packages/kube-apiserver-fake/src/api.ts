/**
 * The verbs of the API server, independent of HTTP: create, get, list, update (PUT), patch (JSON,
 * merge, strategic merge, server-side apply), delete, with the real server's metadata handling
 * (uid, resourceVersion, generation, managedFields), defaulting, validation, optimistic concurrency and
 * namespace lifecycle rules.
 * @internal
 */

import { randomUUID } from 'node:crypto';
import { decodeApplyConfiguration, decodeObject, decodePatched, type FieldValidation } from './decode.js';
import {
  alreadyExists,
  badRequest,
  conflict,
  type FieldError,
  GoValue,
  internalError,
  invalid,
  namespaceTerminating,
  notFound,
  StatusError,
  unsupportedMediaType,
} from './errors.js';
import { FieldSet, pathString } from './fieldpath.js';
import { child, clone, deepEqual, isObject, type Json, type JsonObject, obj, str } from './json.js';
import {
  ConflictError,
  decodeManagers,
  encodeManagers,
  ManagedFieldsError,
  type Manager,
  managerKey,
  printManager,
  apply as ssaApply,
  update as ssaUpdate,
  stampTimes,
} from './managed-fields.js';
import {
  applyJsonPatch,
  applyMergePatch,
  applyStrategicMergePatch,
  decodeJsonPatch,
  PatchApplyError,
  PatchDecodeError,
} from './patch.js';
import { groupVersion, type ResourceDefinition, resources } from './resources.js';
import { type FieldRequirement, type LabelSelector, matchesFields, matchesLabels } from './selectors.js';
import type { Store } from './store.js';
import {
  applyDefaults,
  findTypeMismatch,
  formatTime,
  goDecodeError,
  normalize,
  prepare,
  smdTypeError,
  validate,
  validateUpdate,
} from './strategy.js';
import { SchemaError } from './typed.js';
import { allowsCreateOnUpdate, allowsUnconditionalUpdate } from './update-policy.js';

/** Patch content types. */
export const PatchTypes = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
} as const;

/** Who writes, and how. */
export interface WriteOptions {
  /** The `fieldManager` query parameter. */
  readonly fieldManager?: string;
  /** The request's User-Agent (the manager name of non-apply writes without `fieldManager`). */
  readonly userAgent?: string;
  /** `dryRun=All`. */
  readonly dryRun?: boolean;
  /** The `force` query parameter (undefined when absent). */
  readonly force?: boolean;
  /** The `fieldValidation` query parameter (default `Warn`). */
  readonly fieldValidation?: FieldValidation;
}

/** Options of a delete. */
export interface DeleteOptions {
  readonly dryRun?: boolean;
  readonly propagationPolicy?: string;
  readonly preconditions?: { readonly uid?: string; readonly resourceVersion?: string };
}

/** Result of a write. */
export interface WriteResult {
  readonly object: JsonObject;
  readonly code: 200 | 201;
  /** `Warning` header texts (unknown fields dropped under `fieldValidation=Warn`). */
  readonly warnings?: readonly string[];
}

/** Called after every committed change (controllers hook in here). */
export interface ApiHooks {
  afterWrite(def: ResourceDefinition, object: JsonObject, previous: JsonObject | undefined): void;
  afterRemove(def: ResourceDefinition, object: JsonObject): void;
}

/** A list request. */
export interface ListOptions {
  readonly labelSelector?: LabelSelector;
  readonly fieldSelector?: readonly FieldRequirement[];
  readonly limit?: number;
  readonly continue?: string;
}

/** A list result. */
export interface ListResult {
  readonly items: JsonObject[];
  readonly resourceVersion: string;
  readonly continue?: string;
  readonly remainingItemCount?: number;
}

const namespaceDef = resources.find((r) => r.kind === 'Namespace') as ResourceDefinition;
const NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

function metaOf(o: JsonObject): JsonObject {
  if (!isObject(o.metadata)) o.metadata = {};
  return o.metadata as JsonObject;
}

/** The user-agent prefix the API server uses as manager name when `fieldManager` is absent. */
export function managerFromUserAgent(userAgent: string | undefined): string {
  const prefix = (userAgent ?? '').split('/')[0] ?? '';
  const printable = [...prefix]
    .filter((c) => c >= ' ' && c !== '\u007f')
    .join('')
    .slice(0, 128);
  return printable === '' ? 'unknown' : printable;
}

function withoutManaged(o: JsonObject): JsonObject {
  const c = clone(o);
  if (isObject(c.metadata)) delete c.metadata.managedFields;
  return c;
}

/** The fields a given endpoint resets (status on the main resource; spec on /status). */
function ignoredFields(def: ResourceDefinition, subresource: string | undefined): FieldSet {
  if (subresource === 'status') return FieldSet.of([{ f: 'spec' }]);
  if (def.subresources.includes('status')) return FieldSet.of([{ f: 'status' }]);
  return new FieldSet();
}

function objectFieldsFor(def: ResourceDefinition, o: JsonObject): Record<string, string> {
  const meta = obj(o.metadata) ?? {};
  const fields: Record<string, string> = {
    'metadata.name': String(meta.name ?? ''),
    'metadata.namespace': String(meta.namespace ?? ''),
  };
  for (const [field, get] of Object.entries(def.fieldSelectors)) fields[field] = get(o);
  return fields;
}

/** Supported field-selector fields of a resource. */
export function fieldSelectorFields(def: ResourceDefinition): string[] {
  return ['metadata.name', 'metadata.namespace', ...Object.keys(def.fieldSelectors)];
}

function encodeContinue(rv: number, start: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv, start: `${start}\u0000` })).toString(
    'base64url',
  );
}

function decodeContinue(token: string): { rv: number; start: string } {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
      v?: string;
      rv?: number;
      start?: string;
    };
    if (parsed.v !== 'meta.k8s.io/v1' || typeof parsed.rv !== 'number' || typeof parsed.start !== 'string') {
      throw new Error('bad token');
    }
    return { rv: parsed.rv, start: parsed.start };
  } catch {
    throw badRequest(
      'continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)',
    );
  }
}

/** The verbs. */
export class Api {
  private nextClusterIp = 10;
  private nextNodePort = 30000;

  constructor(
    private readonly store: Store,
    private readonly clock: () => Date,
    private readonly hooks: ApiHooks,
  ) {}

  /** Service IP and node port allocation, done after the field manager ran (not owned by anyone). */
  private allocate(def: ResourceDefinition, o: JsonObject): void {
    if (def.kind !== 'Service') return;
    const spec = child(o, 'spec');
    if (spec.type === 'ExternalName') return;
    if (spec.clusterIP === undefined || spec.clusterIP === '') {
      const n = this.nextClusterIp++;
      spec.clusterIP = `10.96.${Math.floor(n / 256) % 256}.${n % 256}`;
    }
    if (spec.clusterIP !== 'None') {
      spec.clusterIPs ??= [spec.clusterIP];
      spec.ipFamilies ??= ['IPv4'];
      spec.ipFamilyPolicy ??= 'SingleStack';
    }
    if ((spec.type === 'NodePort' || spec.type === 'LoadBalancer') && Array.isArray(spec.ports)) {
      for (const p of spec.ports)
        if (isObject(p) && p.nodePort === undefined) p.nodePort = this.nextNodePort++;
    }
  }

  /** Allocated Service fields an update omits are kept (the Service registry does the same). */
  private carryOver(def: ResourceDefinition, next: JsonObject, live: JsonObject): void {
    if (def.kind !== 'Service') return;
    const spec = child(next, 'spec');
    const old = obj(live.spec) ?? {};
    for (const k of ['clusterIP', 'clusterIPs', 'ipFamilies', 'ipFamilyPolicy']) {
      if (spec[k] === undefined && old[k] !== undefined && spec.type === old.type)
        spec[k] = clone(old[k] as Json);
    }
  }

  private now(): string {
    return formatTime(this.clock());
  }

  // ------------------------------------------------------------------------------------- reads

  /** GET one object. */
  get(def: ResourceDefinition, namespace: string | undefined, name: string): JsonObject {
    const o = this.store.get(def, namespace, name);
    if (!o) throw notFound(def.group, def.plural, name);
    return o;
  }

  /** LIST with selectors and pagination. */
  list(def: ResourceDefinition, namespace: string | undefined, options: ListOptions = {}): ListResult {
    let items = this.store.list(def, namespace);
    if (options.labelSelector && options.labelSelector.length > 0) {
      const sel = options.labelSelector;
      items = items.filter((o) =>
        matchesLabels(sel, obj(obj(o.metadata)?.labels) as Record<string, string> | undefined),
      );
    }
    if (options.fieldSelector && options.fieldSelector.length > 0) {
      const fs = options.fieldSelector;
      items = items.filter((o) => matchesFields(fs, objectFieldsFor(def, o)));
    }
    const keyOf = (o: JsonObject): string =>
      `${str(obj(o.metadata)?.namespace) ?? ''}/${str(obj(o.metadata)?.name) ?? ''}`;
    let rv = this.store.resourceVersion;
    if (options.continue) {
      const token = decodeContinue(options.continue);
      rv = token.rv;
      items = items.filter((o) => keyOf(o) >= token.start);
    }
    const limit = options.limit && options.limit > 0 ? options.limit : undefined;
    if (limit !== undefined && items.length > limit) {
      const page = items.slice(0, limit);
      const last = page[page.length - 1] as JsonObject;
      const filtered = (options.labelSelector?.length ?? 0) > 0 || (options.fieldSelector?.length ?? 0) > 0;
      return {
        items: page,
        resourceVersion: String(rv),
        continue: encodeContinue(rv, keyOf(last)),
        ...(filtered ? {} : { remainingItemCount: items.length - limit }),
      };
    }
    return { items, resourceVersion: String(rv) };
  }

  // ------------------------------------------------------------------------------------ create

  /** POST. */
  create(
    def: ResourceDefinition,
    namespace: string | undefined,
    body: Json,
    options: WriteOptions = {},
  ): WriteResult {
    const o = this.checkBody(def, body);
    const warnings = decodeObject(def, o, options.fieldValidation ?? 'Warn');
    const meta = metaOf(o);
    if (def.namespaced) {
      const bodyNs = str(meta.namespace);
      if (bodyNs !== undefined && bodyNs !== '' && namespace !== undefined && bodyNs !== namespace) {
        throw badRequest(
          'the namespace of the provided object does not match the namespace sent on the request',
        );
      }
      meta.namespace = namespace ?? bodyNs ?? '';
    } else {
      delete meta.namespace;
    }
    if (str(meta.name) === undefined || meta.name === '') {
      const generateName = str(meta.generateName);
      if (generateName) {
        let suffix = '';
        for (let i = 0; i < 5; i++) suffix += NAME_ALPHABET[Math.floor(Math.random() * NAME_ALPHABET.length)];
        meta.name = `${generateName}${suffix}`;
      }
    }
    const name = str(meta.name) ?? '';
    if (meta.resourceVersion !== undefined && meta.resourceVersion !== '') {
      throw internalError('resourceVersion should not be set on objects to be created');
    }
    if (name === '') {
      throw invalid(def.group, def.kind, '', [
        { type: 'FieldValueRequired', field: 'metadata.name', detail: 'name or generateName is required' },
      ]);
    }
    this.checkNamespace(def, str(meta.namespace), name);
    const existing = this.store.get(def, str(meta.namespace), name);
    if (existing)
      throw alreadyExists(
        def.group,
        def.plural,
        name,
        obj(existing.metadata)?.deletionTimestamp !== undefined,
      );
    const manager = this.managerName(options, 'CreateOptions');
    let managers: Manager[];
    try {
      managers = this.clientManagers(meta.managedFields, []);
    } catch (error) {
      throw this.managedFieldsError(def, name, error);
    }
    this.resetSystemFields(def, o, undefined);
    const apiVersion = groupVersion(def);
    const created = this.finish(def, undefined, o, options.dryRun ?? false, (next) => {
      const ctx = {
        schema: def.schema,
        ignored: ignoredFields(def, undefined),
        manager,
        apiVersion,
        now: this.now(),
      };
      const tracked = withoutManaged(next);
      // Namespace finalizers are set after the field manager ran (PrepareForCreate): not owned.
      if (def.kind === 'Namespace' && isObject(tracked.spec)) delete tracked.spec.finalizers;
      const after = ssaUpdate(def.skeleton(), tracked, managers, ctx);
      return { managers: after, actor: managerKey({ manager, operation: 'Update', apiVersion }) };
    });
    return warnings.length > 0 ? { ...created, warnings } : created;
  }

  // ------------------------------------------------------------------------------------ update

  /** PUT (main resource or `/status`). */
  update(
    def: ResourceDefinition,
    namespace: string | undefined,
    name: string,
    body: Json,
    options: WriteOptions = {},
    subresource?: 'status',
  ): WriteResult {
    const o = this.checkBody(def, body);
    const warnings = decodeObject(def, o, options.fieldValidation ?? 'Warn');
    this.checkNameAndNamespace(def, o, namespace, name);
    const live = this.store.get(def, namespace, name);
    const rv = str(obj(o.metadata)?.resourceVersion);
    if (!live) {
      if (subresource || !allowsCreateOnUpdate(def)) throw notFound(def.group, def.plural, name);
      // Create on update: the object is created whatever resourceVersion the body carries.
      delete metaOf(o).resourceVersion;
      return this.create(def, namespace, o, options);
    }
    if ((rv === undefined || rv === '') && !allowsUnconditionalUpdate(def)) {
      throw invalid(def.group, def.plural, name, [
        {
          type: 'FieldValueInvalid',
          field: 'metadata.resourceVersion',
          value: new GoValue('0x0'),
          detail: 'must be specified for an update',
        },
      ]);
    }
    if (rv !== undefined && rv !== '' && rv !== str(obj(live.metadata)?.resourceVersion)) {
      throw conflict(def.group, def.plural, name);
    }
    const updated = this.updateFrom(def, live, o, options, subresource, 'UpdateOptions');
    return warnings.length > 0 ? { ...updated, warnings } : updated;
  }

  private updateFrom(
    def: ResourceDefinition,
    live: JsonObject,
    candidate: JsonObject,
    options: WriteOptions,
    subresource: 'status' | undefined,
    optionsKind: string,
  ): WriteResult {
    const name = String(obj(live.metadata)?.name);
    const manager = this.managerName(options, optionsKind);
    const liveManagers = decodeManagers(obj(live.metadata)?.managedFields);
    let managers: Manager[];
    try {
      managers = this.clientManagers(obj(candidate.metadata)?.managedFields, liveManagers);
    } catch (error) {
      throw this.managedFieldsError(def, name, error);
    }
    const next = this.restrictToSubresource(def, live, candidate, subresource);
    this.resetSystemFields(def, next, live);
    const apiVersion = groupVersion(def);
    return this.finish(
      def,
      live,
      next,
      options.dryRun ?? false,
      (final) => {
        const ctx = {
          schema: def.schema,
          ignored: ignoredFields(def, subresource),
          manager,
          apiVersion,
          ...(subresource ? { subresource } : {}),
          now: this.now(),
        };
        const after = ssaUpdate(withoutManaged(live), withoutManaged(final), managers, ctx);
        return {
          managers: after,
          actor: managerKey({
            manager,
            operation: 'Update',
            apiVersion,
            ...(subresource ? { subresource } : {}),
          }),
        };
      },
      undefined,
      subresource === 'status',
    );
  }

  /** What a write through a subresource may change: `/status` only status. */
  private restrictToSubresource(
    def: ResourceDefinition,
    live: JsonObject,
    candidate: JsonObject,
    subresource: 'status' | undefined,
  ): JsonObject {
    const next = clone(candidate);
    if (subresource === 'status') {
      for (const key of Object.keys(next))
        if (!['apiVersion', 'kind', 'metadata', 'status'].includes(key)) delete next[key];
      for (const key of Object.keys(live))
        if (!['apiVersion', 'kind', 'metadata', 'status'].includes(key)) next[key] = clone(live[key] as Json);
      const labels = obj(live.metadata)?.labels;
      const meta = metaOf(next);
      if (labels === undefined) delete meta.labels;
      else meta.labels = clone(labels);
    } else if (def.subresources.includes('status')) {
      if (live.status === undefined) delete next.status;
      else next.status = clone(live.status);
    }
    return next;
  }

  // ------------------------------------------------------------------------------------- patch

  /** PATCH with one of the four patch types. */
  patch(
    def: ResourceDefinition,
    namespace: string | undefined,
    name: string,
    contentType: string,
    body: Json,
    options: WriteOptions = {},
    subresource?: 'status',
  ): WriteResult {
    const accepted = [PatchTypes.json, PatchTypes.merge, PatchTypes.strategic, PatchTypes.apply];
    if (!accepted.includes(contentType as (typeof accepted)[number])) throw unsupportedMediaType(accepted);
    if (contentType === PatchTypes.apply) {
      if (!options.fieldManager) {
        throw invalidOptions('PatchOptions', [
          { type: 'FieldValueRequired', field: 'fieldManager', detail: 'is required for apply patch' },
        ]);
      }
      return this.apply(def, namespace, name, body, options, subresource);
    }
    if (options.force !== undefined) {
      throw invalidOptions('PatchOptions', [
        { type: 'FieldValueForbidden', field: 'force', detail: 'may not be specified for non-apply patch' },
      ]);
    }
    const live = this.store.get(def, namespace, name);
    if (!live) throw notFound(def.group, def.plural, name);
    let patched: Json | undefined;
    try {
      if (contentType === PatchTypes.json) patched = applyJsonPatch(live, decodeJsonPatch(body));
      else if (contentType === PatchTypes.merge) {
        if (!isObject(body))
          throw new PatchDecodeError(
            `json: cannot unmarshal ${Array.isArray(body) ? 'array' : typeof body} into Go value of type map[string]interface {}`,
          );
        patched = applyMergePatch(live, body);
      } else {
        if (!isObject(body))
          throw new PatchDecodeError(
            `json: cannot unmarshal ${Array.isArray(body) ? 'array' : typeof body} into Go value of type map[string]interface {}`,
          );
        patched = applyStrategicMergePatch(live, body, def.schema);
      }
    } catch (error) {
      if (error instanceof PatchDecodeError) throw badRequest(error.message);
      if (error instanceof PatchApplyError)
        throw new StatusError(422, 'Invalid', error.message, { name, group: def.group, kind: def.kind });
      throw error;
    }
    if (!isObject(patched)) throw badRequest('the patch must produce an object');
    const o = this.checkBody(def, patched);
    const warnings = decodePatched(def, o, options.fieldValidation ?? 'Warn');
    this.checkNameAndNamespace(def, o, namespace, name);
    if (str(obj(o.metadata)?.resourceVersion) !== str(obj(live.metadata)?.resourceVersion)) {
      throw conflict(def.group, def.plural, name);
    }
    const updated = this.updateFrom(def, live, o, options, subresource, 'PatchOptions');
    return warnings.length > 0 ? { ...updated, warnings } : updated;
  }

  private apply(
    def: ResourceDefinition,
    namespace: string | undefined,
    name: string,
    body: Json,
    options: WriteOptions,
    subresource: 'status' | undefined,
  ): WriteResult {
    if (!isObject(body)) throw badRequest('error decoding YAML: the apply configuration must be an object');
    const config = clone(body);
    const meta = metaOf(config);
    // Decode errors name the object as the configuration does (before the namespace is defaulted).
    const where = `${str(meta.namespace) ?? ''}/${str(meta.name) ?? ''}`;
    if (meta.managedFields !== undefined && meta.managedFields !== null)
      throw badRequest('metadata.managedFields must be nil');
    const gv = groupVersion(def);
    if (config.apiVersion !== gv) {
      throw badRequest(
        `Incorrect version specified in apply patch. Specified patch version: ${str(config.apiVersion) ?? ''}, expected: ${gv}`,
      );
    }
    if (config.kind !== def.kind) {
      throw badRequest(
        `Incorrect kind specified in apply patch. Specified patch kind: ${str(config.kind) ?? ''}, expected: ${def.kind}`,
      );
    }
    if (meta.name === undefined || meta.name === null) meta.name = name;
    if (def.namespaced && (meta.namespace === undefined || meta.namespace === null))
      meta.namespace = namespace ?? '';
    if (!def.namespaced) delete meta.namespace;
    this.checkNameAndNamespace(def, config, namespace, name);
    const typed = findTypeMismatch(config, def.schema);
    if (typed) throw typedPatchError(def, namespace, name, smdTypeError(typed));
    decodeApplyConfiguration(def, config, where);
    checkSecretData(def, config);
    const live = this.store.get(def, namespace, name);
    if (!live) this.checkNamespace(def, namespace, name);
    // A resourceVersion in the configuration is a precondition, as on update.
    const appliedVersion = str(meta.resourceVersion);
    if (live && appliedVersion && appliedVersion !== str(obj(live.metadata)?.resourceVersion)) {
      throw conflict(def.group, def.plural, name);
    }
    const liveManagers = live ? decodeManagers(obj(live.metadata)?.managedFields) : [];
    const base = live ? withoutManaged(live) : def.skeleton();
    if (!live) {
      metaOf(base).name = name;
      if (def.namespaced) metaOf(base).namespace = namespace ?? '';
    }
    const manager = options.fieldManager as string;
    const ctx = {
      schema: def.schema,
      ignored: ignoredFields(def, subresource),
      manager,
      apiVersion: gv,
      ...(subresource ? { subresource } : {}),
      now: this.now(),
    };
    let result: { object: JsonObject; managers: Manager[] };
    try {
      result = ssaApply(base, config, liveManagers, ctx, options.force === true);
    } catch (error) {
      if (error instanceof ConflictError) {
        throw new StatusError(409, 'Conflict', error.message, {
          causes: error.conflicts.map((c) => ({
            reason: 'FieldManagerConflict',
            message: `conflict with ${printManager(c.manager)}`,
            field: pathString(c.path),
          })),
        });
      }
      if (error instanceof SchemaError) throw typedPatchError(def, namespace, name, error.message);
      throw error;
    }
    const next = live ? this.restrictToSubresource(def, live, result.object, subresource) : result.object;
    if (!live) {
      if (subresource) throw notFound(def.group, def.plural, name);
      if (def.subresources.includes('status')) delete next.status;
    }
    this.resetSystemFields(def, next, live);
    const actor = managerKey({
      manager,
      operation: 'Apply',
      apiVersion: gv,
      ...(subresource ? { subresource } : {}),
    });
    return this.finish(
      def,
      live,
      next,
      options.dryRun ?? false,
      () => ({ managers: result.managers, actor }),
      liveManagers,
    );
  }

  // ------------------------------------------------------------------------------------ delete

  /** DELETE one object. Returns the response body. */
  delete(
    def: ResourceDefinition,
    namespace: string | undefined,
    name: string,
    options: DeleteOptions = {},
  ): JsonObject {
    const live = this.store.get(def, namespace, name);
    if (!live) throw notFound(def.group, def.plural, name);
    const meta = obj(live.metadata) ?? {};
    const policies = ['Foreground', 'Background', 'Orphan'];
    if (options.propagationPolicy !== undefined && !policies.includes(options.propagationPolicy)) {
      throw invalidOptions('DeleteOptions', [
        {
          type: 'FieldValueNotSupported',
          field: 'propagationPolicy',
          value: options.propagationPolicy,
          supported: [...policies, 'nil'],
        },
      ]);
    }
    const pre = options.preconditions;
    if (pre?.uid !== undefined && pre.uid !== meta.uid) {
      throw conflict(
        def.group,
        def.plural,
        name,
        `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${String(meta.uid)}`,
      );
    }
    if (pre?.resourceVersion !== undefined && pre.resourceVersion !== meta.resourceVersion) {
      throw conflict(
        def.group,
        def.plural,
        name,
        `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${String(meta.resourceVersion)}`,
      );
    }
    const current = Array.isArray(meta.finalizers) ? meta.finalizers : [];
    const finalizers = gcFinalizers(current, options.propagationPolicy);
    if (def.kind === 'Namespace' || finalizers.length > 0) {
      if (meta.deletionTimestamp !== undefined && deepEqual(finalizers, current)) return live;
      const next = clone(live);
      const m = metaOf(next);
      m.deletionTimestamp ??= this.now();
      m.deletionGracePeriodSeconds ??= 0;
      if (finalizers.length > 0) m.finalizers = finalizers;
      else delete m.finalizers;
      if (def.kind === 'Namespace') next.status = { ...(obj(next.status) ?? {}), phase: 'Terminating' };
      if (def.generation) m.generation = Number(m.generation ?? 0) + 1;
      if (options.dryRun) return orderKeys(next);
      m.resourceVersion = String(this.store.next());
      const ordered = orderKeys(next);
      this.store.put(def, ordered);
      this.hooks.afterWrite(def, ordered, live);
      return ordered;
    }
    if (options.dryRun) return def.returnDeletedObject ? live : successStatus(def, name, meta);
    this.store.remove(def, namespace, name);
    this.hooks.afterRemove(def, live);
    return def.returnDeletedObject ? live : successStatus(def, name, meta);
  }

  /** Removes an object whose deletion was pending, once nothing blocks it any more. */
  removeNow(def: ResourceDefinition, namespace: string | undefined, name: string): void {
    const live = this.store.remove(def, namespace, name);
    if (live) this.hooks.afterRemove(def, live);
  }

  // ----------------------------------------------------------------------------- internal writes

  /** A status write by a controller (manager `kube-controller-manager`, subresource status). */
  writeStatus(
    def: ResourceDefinition,
    namespace: string | undefined,
    name: string,
    mutate: (o: JsonObject) => void,
  ): void {
    const live = this.store.get(def, namespace, name);
    if (!live) return;
    const candidate = clone(live);
    mutate(candidate);
    this.updateFrom(
      def,
      live,
      candidate,
      { fieldManager: 'kube-controller-manager' },
      'status',
      'UpdateOptions',
    );
  }

  /**
   * A metadata write by a controller (manager `kube-controller-manager`): the garbage collector
   * removing its finalizers and owner references.
   */
  writeMetadata(
    def: ResourceDefinition,
    namespace: string | undefined,
    name: string,
    mutate: (metadata: JsonObject) => void,
  ): void {
    const live = this.store.get(def, namespace, name);
    if (!live) return;
    const candidate = clone(live);
    mutate(metaOf(candidate));
    this.updateFrom(
      def,
      live,
      candidate,
      { fieldManager: 'kube-controller-manager' },
      undefined,
      'UpdateOptions',
    );
  }

  // ---------------------------------------------------------------------------------- pipeline

  private finish(
    def: ResourceDefinition,
    live: JsonObject | undefined,
    candidate: JsonObject,
    dryRun: boolean,
    computeManagers: (final: JsonObject) => { managers: Manager[]; actor: string },
    liveManagersOverride?: Manager[],
    statusWrite = false,
  ): WriteResult {
    const next = clone(candidate);
    applyDefaults(def, next);
    prepare(def, next);
    const normalized = (normalize(next, def.schema) ?? {}) as JsonObject;
    const name = String(obj(normalized.metadata)?.name ?? '');
    if (live) this.carryOver(def, normalized, live);
    const errors: FieldError[] = validate(def, normalized);
    if (live) errors.push(...validateUpdate(def, normalized, live));
    if (errors.length > 0) throw invalid(def.group, def.kind, name, errors);
    const meta = metaOf(normalized);
    if (def.generation) {
      if (!live) meta.generation = 1;
      else {
        const liveGen = Number(obj(live.metadata)?.generation ?? 1);
        // Deployments also bump on annotation changes outside /status (the registry does: they are
        // copied to ReplicaSets).
        const annotationsChanged =
          def.kind === 'Deployment' &&
          !statusWrite &&
          !deepEqual(meta.annotations, obj(live.metadata)?.annotations);
        meta.generation =
          deepEqual(normalized.spec, live.spec) && !annotationsChanged ? liveGen : liveGen + 1;
      }
    }
    let computed: { managers: Manager[]; actor: string };
    try {
      computed = computeManagers(normalized);
    } catch (error) {
      if (error instanceof SchemaError) throw internalError(error.message);
      throw error;
    }
    const before = liveManagersOverride ?? (live ? decodeManagers(obj(live.metadata)?.managedFields) : []);
    const changed = !live || !deepEqual(withoutManaged(normalized), withoutManaged(live));
    const stamped = stampTimes(before, computed.managers, computed.actor, changed, this.now());
    const encoded = encodeManagers(stamped);
    if (encoded.length > 0) meta.managedFields = encoded;
    else delete meta.managedFields;
    if (!live) this.allocate(def, normalized);
    const ordered = orderKeys(normalized);
    if (live && deepEqual(ordered, live)) return { object: live, code: 200 };
    if (dryRun) return { object: ordered, code: live ? 200 : 201 };
    (ordered.metadata as JsonObject).resourceVersion = String(this.store.next());
    this.store.put(def, ordered);
    const deleting = meta.deletionTimestamp !== undefined;
    const finalizers = Array.isArray(meta.finalizers) ? meta.finalizers : [];
    if (deleting && finalizers.length === 0 && def.kind !== 'Namespace') {
      this.store.remove(def, str(meta.namespace), name);
      this.hooks.afterRemove(def, ordered);
    } else {
      this.hooks.afterWrite(def, ordered, live);
    }
    return { object: ordered, code: live ? 200 : 201 };
  }

  private checkBody(def: ResourceDefinition, body: Json): JsonObject {
    if (!isObject(body)) {
      throw badRequest(
        `${def.kind} in version "${def.version}" cannot be handled as a ${def.kind}: the body must be a JSON object`,
      );
    }
    const o = clone(body);
    const gv = groupVersion(def);
    if (o.apiVersion !== undefined && o.apiVersion !== gv) {
      throw badRequest(
        `the API version in the data (${String(o.apiVersion)}) does not match the expected API version (${gv})`,
      );
    }
    if (o.kind !== undefined && o.kind !== def.kind) {
      throw badRequest(
        `${String(o.kind)} in version "${def.version}" cannot be handled as a ${def.kind}: the kind in the data does not match the resource`,
      );
    }
    o.apiVersion = gv;
    o.kind = def.kind;
    if (o.metadata === undefined) o.metadata = {};
    if (!isObject(o.metadata))
      throw badRequest(
        `${def.kind} in version "${def.version}" cannot be handled as a ${def.kind}: metadata must be an object`,
      );
    const mismatch = findTypeMismatch(o, def.schema);
    if (mismatch) {
      throw badRequest(
        `${def.kind} in version "${def.version}" cannot be handled as a ${def.kind}: ${goDecodeError(def.kind, mismatch)}`,
      );
    }
    checkSecretData(def, o);
    return o;
  }

  private checkNameAndNamespace(
    def: ResourceDefinition,
    o: JsonObject,
    namespace: string | undefined,
    name: string,
  ): void {
    const meta = metaOf(o);
    const bodyName = str(meta.name) ?? '';
    if (bodyName !== name) {
      throw badRequest(`the name of the object (${bodyName}) does not match the name on the URL (${name})`);
    }
    if (def.namespaced) {
      const bodyNs = str(meta.namespace);
      if (bodyNs !== undefined && bodyNs !== '' && bodyNs !== namespace) {
        throw badRequest(
          'the namespace of the provided object does not match the namespace sent on the request',
        );
      }
      meta.namespace = namespace ?? '';
    } else {
      delete meta.namespace;
    }
  }

  private checkNamespace(def: ResourceDefinition, namespace: string | undefined, name: string): void {
    if (!def.namespaced) return;
    const ns = this.store.get(namespaceDef, undefined, namespace ?? '');
    if (!ns) throw notFound('', 'namespaces', namespace ?? '');
    if (obj(ns.metadata)?.deletionTimestamp !== undefined) {
      throw namespaceTerminating(def.group, def.plural, name, namespace ?? '');
    }
  }

  private managerName(options: WriteOptions, optionsKind: string): string {
    const m = options.fieldManager;
    if (m !== undefined && m !== '') {
      if (m.length > 128) {
        throw invalidOptions(optionsKind, [
          { type: 'FieldValueTooLong', field: 'fieldManager', detail: 'may not be longer than 128' },
        ]);
      }
      if ([...m].some((c) => c < ' ' || c === '\u007f')) {
        throw invalidOptions(optionsKind, [
          {
            type: 'FieldValueInvalid',
            field: 'fieldManager',
            value: m,
            detail: 'must only contain printable characters',
          },
        ]);
      }
      return m;
    }
    return managerFromUserAgent(options.userAgent);
  }

  /** managedFields sent by a client: absent or empty keeps the live ones; `[{}]` resets them. */
  private clientManagers(value: Json | undefined, live: Manager[]): Manager[] {
    if (value === undefined || value === null || (Array.isArray(value) && value.length === 0)) return live;
    if (Array.isArray(value) && value.every((e) => isObject(e) && Object.keys(e).length === 0)) return [];
    return decodeManagers(value);
  }

  private managedFieldsError(def: ResourceDefinition, name: string, error: unknown): StatusError {
    if (error instanceof ManagedFieldsError) {
      return invalid(def.group, def.kind, name, [
        { type: 'FieldValueInvalid', field: 'metadata.managedFields', value: null, detail: error.message },
      ]);
    }
    throw error;
  }

  /** System-owned metadata: copied from the live object (update) or freshly set (create). */
  private resetSystemFields(def: ResourceDefinition, o: JsonObject, live: JsonObject | undefined): void {
    const meta = metaOf(o);
    if (live) {
      const lm = obj(live.metadata) ?? {};
      for (const k of [
        'uid',
        'creationTimestamp',
        'deletionTimestamp',
        'deletionGracePeriodSeconds',
        'generation',
        'resourceVersion',
      ]) {
        if (lm[k] === undefined) delete meta[k];
        else meta[k] = clone(lm[k] as Json);
      }
      if (def.kind === 'Namespace') {
        if (isObject(live.status)) o.status = clone(live.status);
        if (isObject(live.spec)) o.spec = clone(live.spec);
      }
    } else {
      meta.uid = randomUUID();
      meta.creationTimestamp = this.now();
      for (const k of [
        'deletionTimestamp',
        'deletionGracePeriodSeconds',
        'generation',
        'resourceVersion',
        'selfLink',
      ])
        delete meta[k];
      if (def.kind === 'Namespace') {
        const spec = child(o, 'spec');
        spec.finalizers = ['kubernetes'];
        o.status = { phase: 'Active' };
      } else if (def.kind === 'Service') {
        o.status = { loadBalancer: {} };
      } else if (def.subresources.includes('status')) {
        delete o.status;
      }
    }
  }
}

const METADATA_ORDER = [
  'name',
  'generateName',
  'namespace',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'labels',
  'annotations',
  'ownerReferences',
  'finalizers',
  'managedFields',
];

/** The real API server's field order: apiVersion, kind, metadata (in ObjectMeta order), …, status last. */
function orderKeys(o: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const k of ['apiVersion', 'kind']) if (o[k] !== undefined) out[k] = o[k] as Json;
  const meta = obj(o.metadata);
  if (meta) {
    const m: JsonObject = {};
    for (const k of METADATA_ORDER) if (meta[k] !== undefined) m[k] = meta[k] as Json;
    for (const [k, v] of Object.entries(meta)) if (!(k in m)) m[k] = v;
    out.metadata = m;
  }
  for (const [k, v] of Object.entries(o)) if (!(k in out) && k !== 'status') out[k] = v;
  if (o.status !== undefined) out.status = o.status as Json;
  return out;
}

/**
 * The finalizers a delete leaves on an object: `propagationPolicy` Foreground adds
 * `foregroundDeletion` (and drops `orphan`), Orphan adds `orphan` (and drops `foregroundDeletion`),
 * Background drops both; without a policy they stay as they are.
 */
function gcFinalizers(current: readonly Json[], policy: string | undefined): Json[] {
  if (policy === undefined) return [...current];
  const rest = current.filter((f) => f !== 'foregroundDeletion' && f !== 'orphan');
  if (policy === 'Foreground') return [...rest, 'foregroundDeletion'];
  if (policy === 'Orphan') return [...rest, 'orphan'];
  return rest;
}

function successStatus(def: ResourceDefinition, name: string, meta: JsonObject): JsonObject {
  const details: JsonObject = { name, kind: def.plural };
  if (def.group) details.group = def.group;
  if (typeof meta.uid === 'string') details.uid = meta.uid;
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details };
}

/** The 500 the real server answers when an apply configuration does not fit the schema (no reason). */
function typedPatchError(
  def: ResourceDefinition,
  namespace: string | undefined,
  name: string,
  detail: string,
): StatusError {
  // GroupVersionKind.String(): the core group prints as `/v1, Kind=ConfigMap`.
  const gvk = `${def.group}/${def.version}, Kind=${def.kind}`;
  return new StatusError(
    500,
    '',
    `failed to create typed patch object (${namespace ?? ''}/${name}; ${gvk}): ${detail}`,
  );
}

function invalidOptions(kind: string, errors: FieldError[]): StatusError {
  return invalid('meta.k8s.io', kind, '', errors);
}

/** Secret `data` values are bytes on the wire: anything that is not base64 cannot be decoded. */
function checkSecretData(def: ResourceDefinition, o: JsonObject): void {
  if (def.kind !== 'Secret') return;
  for (const [k, v] of Object.entries(obj(o.data) ?? {})) {
    if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v) || v.length % 4 === 1) {
      throw badRequest(
        `Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte ${Math.max(0, String(v).search(/[^A-Za-z0-9+/=]/))} (key ${JSON.stringify(k)})`,
      );
    }
  }
}
