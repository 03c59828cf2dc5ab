/**
 * The KV secrets engines of the fake: version 2 (versioned, check-and-set, metadata, soft delete,
 * destroy) and version 1 (plain key/value), following `hashicorp/vault-plugin-secrets-kv`.
 *
 * @packageDocumentation
 */

import {
  type Engine,
  type EngineRequest,
  type EngineResult,
  listChildren,
  nil,
  ok,
  unsupportedOperation,
} from './engine.js';
import {
  addSeconds,
  badRequest,
  cloneJson,
  compareStamps,
  fieldBool,
  fieldError,
  fieldInt,
  formatGoDuration,
  formatStamp,
  isJsonObject,
  type Json,
  type JsonObject,
  multiError,
  parseDurationSeconds,
  type Stamp,
} from './wire.js';

/**
 * One stored version of a KV v2 secret, as {@link VaultFake.peek} shows it.
 * @public
 */
export interface VaultFakeKvVersion {
  readonly version: number;
  /** The stored key/value map (a copy), or `null` once the version is destroyed. */
  readonly data: Readonly<Record<string, unknown>> | null;
  /** RFC 3339 with up to nine fraction digits, as Vault prints it. */
  readonly createdTime: string;
  /** `''` unless the version is (or is scheduled to be) soft-deleted. */
  readonly deletionTime: string;
  readonly destroyed: boolean;
  /** True when a read of this version answers 404: soft-deleted (deletion time passed) or destroyed. */
  readonly deleted: boolean;
}

/**
 * A KV v2 key with its metadata and every version still kept, as {@link VaultFake.peek} shows it.
 * @public
 */
export interface VaultFakeKvV2Secret {
  readonly engine: 'kv-v2';
  readonly path: string;
  /** 0 when only metadata was written. */
  readonly currentVersion: number;
  readonly oldestVersion: number;
  /** The key's own `max_versions` (0 = use the engine's, default 10). */
  readonly maxVersions: number;
  readonly casRequired: boolean;
  /** The key's own `delete_version_after` in seconds (0 = unset). */
  readonly deleteVersionAfterSeconds: number;
  readonly customMetadata: Readonly<Record<string, string>> | null;
  readonly createdTime: string;
  readonly updatedTime: string;
  /** Versions still kept (pruned ones are gone), ascending. */
  readonly versions: readonly VaultFakeKvVersion[];
}

/**
 * A KV v1 key, as {@link VaultFake.peek} shows it.
 * @public
 */
export interface VaultFakeKvV1Secret {
  readonly engine: 'kv-v1';
  readonly path: string;
  readonly data: Readonly<Record<string, unknown>>;
}

/**
 * What {@link VaultFake.peek} returns for an existing key.
 * @public
 */
export type VaultFakeSecret = VaultFakeKvV2Secret | VaultFakeKvV1Secret;

interface KvVersion {
  readonly created: Stamp;
  deletion: Stamp | null;
  destroyed: boolean;
  data: JsonObject | null;
}

interface KvKey {
  readonly created: Stamp;
  updated: Stamp;
  currentVersion: number;
  oldestVersion: number;
  maxVersions: number;
  casRequired: boolean;
  /** Seconds; 0 = unset. */
  deleteVersionAfter: number;
  customMetadata: Record<string, string> | null;
  readonly versions: Map<number, KvVersion>;
}

interface KvConfig {
  maxVersions: number;
  casRequired: boolean;
  /** Seconds; 0 = unset, negative = disabled for every key. */
  deleteVersionAfter: number;
}

const defaultMaxVersions = 10;
const maxCustomMetadataKeys = 64;
const maxCustomMetadataKeyLength = 128;
const maxCustomMetadataValueLength = 512;
const customMetadataPrefix = 'custom_metadata validation failed';
const kv1LeaseSeconds = 2_764_800;

/** RFC 7386 JSON merge patch. */
function mergePatch(target: Json, patch: Json): Json {
  if (!isJsonObject(patch)) return cloneJson(patch);
  const result: JsonObject = isJsonObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key] ?? null, value);
  }
  return result;
}

/** Go's `mapstructure.WeakDecode` of a JSON value into a string (custom metadata values). */
function weakString(value: Json): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  if (typeof value === 'boolean') return value ? '1' : '0';
  if (value === null) return '';
  return undefined;
}

function printable(text: string): boolean {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  return !/[\u0000-\u001f\u007f-\u009f]/.test(text);
}

function parseCustomMetadata(raw: Json | undefined, filterNulls: boolean): Record<string, string> {
  if (!isJsonObject(raw)) throw fieldError('custom_metadata', raw, 'map');
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (filterNulls && value === null) continue;
    const text = weakString(value);
    if (text === undefined) {
      throw badRequest(`${customMetadataPrefix}: '' expected type 'string', got unconvertible type`);
    }
    out[key] = text;
  }
  return out;
}

function validateCustomMetadata(metadata: Readonly<Record<string, string>>): void {
  const keys = Object.keys(metadata);
  if (keys.length > maxCustomMetadataKeys) {
    throw badRequest(
      multiError([
        `${customMetadataPrefix}: payload must contain at most ${maxCustomMetadataKeys} keys, provided ${keys.length}`,
      ]),
    );
  }
  const problems: string[] = [];
  for (const [key, value] of Object.entries(metadata)) {
    const keyLength = Buffer.byteLength(key);
    const valueLength = Buffer.byteLength(value);
    if (keyLength === 0 || keyLength > maxCustomMetadataKeyLength) {
      problems.push(
        `${customMetadataPrefix}: length of key ${JSON.stringify(key)} is ${keyLength} but must be 0 < len(key) <= ${maxCustomMetadataKeyLength}`,
      );
    }
    if (valueLength === 0 || valueLength > maxCustomMetadataValueLength) {
      problems.push(
        `${customMetadataPrefix}: length of value for key ${JSON.stringify(key)} is ${valueLength} but must be 0 < len(value) <= ${maxCustomMetadataValueLength}`,
      );
    }
    if (!printable(key)) {
      problems.push(
        `${customMetadataPrefix}: key ${JSON.stringify(key)} (${key}) contains unprintable characters`,
      );
    }
    if (!printable(value)) {
      problems.push(
        `${customMetadataPrefix}: value for key ${JSON.stringify(key)} contains unprintable characters`,
      );
    }
  }
  if (problems.length > 0) throw badRequest(multiError(problems));
}

/** `TypeCommaIntSlice`: `[1, 2]`, `["1", "2"]` or `"1,2"`. */
function parseVersions(raw: Json | undefined): number[] {
  if (raw === undefined || raw === null) return [];
  const items = typeof raw === 'string' ? raw.split(',').filter((s) => s.trim() !== '') : raw;
  if (!Array.isArray(items)) {
    const single = fieldInt(raw);
    if (single === undefined) throw fieldError('versions', raw, 'comma-separated list of integers');
    return [single];
  }
  return items.map((item) => {
    const value = fieldInt(typeof item === 'string' ? item.trim() : item);
    if (value === undefined) throw fieldError('versions', raw, 'comma-separated list of integers');
    return value;
  });
}

function queryInt(query: URLSearchParams, name: string): number {
  const text = query.get(name);
  if (text === null || text === '') return 0;
  const value = fieldInt(text);
  if (value === undefined) throw fieldError(name, text, 'int');
  return value;
}

/** Vault's warning for paths a KV v2 mount does not serve, naming the `vault kv` subcommand to use. */
function invalidPath(request: EngineRequest): EngineResult {
  const path = request.path;
  if (['metadata', 'data', 'delete', 'undelete', 'destroy'].includes(path)) {
    return {
      kind: 'raw',
      status: 404,
      fields: { warnings: ['Non-listing operations on the root of a K/V v2 mount are not supported.'] },
    };
  }
  const subcommand = {
    read: 'get',
    list: 'list',
    create: 'put',
    update: 'put',
    patch: 'patch',
    delete: 'delete',
  }[request.operation];
  return {
    kind: 'raw',
    status: 404,
    fields: {
      warnings: [
        `Invalid path for a versioned K/V secrets engine. See the API docs for the appropriate API endpoints to use. If using the Vault CLI, use 'vault kv ${subcommand}' for this operation.`,
      ],
    },
  };
}

/** Per-path routing of a KV v2 mount. */
type V2Route =
  | { readonly kind: 'config' }
  | {
      readonly kind: 'data' | 'metadata' | 'delete' | 'undelete' | 'destroy' | 'subkeys';
      readonly key: string;
    }
  | { readonly kind: 'invalid' };

function routeV2(path: string): V2Route {
  if (path === 'config') return { kind: 'config' };
  if (path.startsWith('data/') && path.length > 5 && !path.endsWith('/'))
    return { kind: 'data', key: path.slice(5) };
  for (const kind of ['metadata', 'delete', 'undelete', 'destroy', 'subkeys'] as const) {
    if (path.startsWith(`${kind}/`)) return { kind, key: path.slice(kind.length + 1) };
  }
  return { kind: 'invalid' };
}

/**
 * A KV version 2 engine. `clockNow` is called only by {@link KvV2Engine.seed}; requests carry their time.
 */
export class KvV2Engine implements Engine {
  readonly type = 'kv';
  private readonly keys = new Map<string, KvKey>();
  private readonly config: KvConfig = { maxVersions: 0, casRequired: false, deleteVersionAfter: 0 };

  exists(path: string): boolean | undefined {
    const route = routeV2(path);
    if (route.kind === 'data' || route.kind === 'metadata') return this.keys.has(route.key);
    return undefined;
  }

  handle(request: EngineRequest): EngineResult {
    const route = routeV2(request.path);
    const op = request.operation;
    switch (route.kind) {
      case 'config':
        if (op === 'read') return this.readConfig();
        if (op === 'create' || op === 'update') return this.writeConfig(request.body ?? {});
        throw unsupportedOperation();
      case 'data':
        if (op === 'read') return this.readData(route.key, request);
        if (op === 'create' || op === 'update') return this.writeData(route.key, request);
        if (op === 'patch') return this.patchData(route.key, request);
        if (op === 'delete') return this.deleteLatest(route.key, request.now);
        throw unsupportedOperation();
      case 'metadata':
        if (op === 'read') return this.readMetadata(route.key);
        if (op === 'list') return this.list(route.key);
        if (op === 'create' || op === 'update') return this.writeMetadata(route.key, request);
        if (op === 'patch') return this.patchMetadata(route.key, request);
        if (op === 'delete') return this.deleteMetadata(route.key);
        throw unsupportedOperation();
      case 'delete':
      case 'undelete':
      case 'destroy':
        if (op === 'create' || op === 'update') return this.versionsOp(route.kind, route.key, request);
        throw unsupportedOperation();
      case 'subkeys':
        if (op === 'read') return this.readSubkeys(route.key, request);
        throw unsupportedOperation();
      case 'invalid':
        return invalidPath(request);
    }
  }

  /** Writes a new version directly (no CAS), as if a client had written it. For test setup. */
  seed(key: string, data: JsonObject, now: Stamp): number {
    const meta = this.keys.get(key) ?? this.newKey(now);
    this.keys.set(key, meta);
    return this.addVersion(meta, cloneJson(data), now).version;
  }

  /** A copy of a key's state, or `undefined`. */
  peek(key: string, path: string, now: Stamp): VaultFakeKvV2Secret | undefined {
    const meta = this.keys.get(key);
    if (meta === undefined) return undefined;
    return {
      engine: 'kv-v2',
      path,
      currentVersion: meta.currentVersion,
      oldestVersion: meta.oldestVersion,
      maxVersions: meta.maxVersions,
      casRequired: meta.casRequired,
      deleteVersionAfterSeconds: meta.deleteVersionAfter,
      customMetadata: meta.customMetadata === null ? null : { ...meta.customMetadata },
      createdTime: formatStamp(meta.created),
      updatedTime: formatStamp(meta.updated),
      versions: [...meta.versions.entries()]
        .sort(([a], [b]) => a - b)
        .map(([version, v]) => ({
          version,
          data: v.data === null ? null : cloneJson(v.data),
          createdTime: formatStamp(v.created),
          deletionTime: v.deletion === null ? '' : formatStamp(v.deletion),
          destroyed: v.destroyed,
          deleted: v.destroyed || this.isDeleted(v, now),
        })),
    };
  }

  private newKey(now: Stamp): KvKey {
    return {
      created: now,
      updated: now,
      currentVersion: 0,
      oldestVersion: 0,
      maxVersions: 0,
      casRequired: false,
      deleteVersionAfter: 0,
      customMetadata: null,
      versions: new Map(),
    };
  }

  private isDeleted(version: KvVersion, now: Stamp): boolean {
    return version.deletion !== null && compareStamps(version.deletion, now) < 0;
  }

  private versionMetadata(meta: KvKey, version: number, v: KvVersion): JsonObject {
    return {
      created_time: formatStamp(v.created),
      custom_metadata: meta.customMetadata === null ? null : { ...meta.customMetadata },
      deletion_time: v.deletion === null ? '' : formatStamp(v.deletion),
      destroyed: v.destroyed,
      version,
    };
  }

  /** The deletion time of a version created at `created`, from the engine's and key's settings. */
  private deletionFor(meta: KvKey, created: Stamp): Stamp | null {
    const mount = this.config.deleteVersionAfter;
    if (mount < 0) return null;
    const own = meta.deleteVersionAfter;
    if (mount === 0 && own === 0) return null;
    let min = own;
    if ((mount !== 0 && mount < min) || min === 0) min = mount;
    return addSeconds(created, min);
  }

  private addVersion(meta: KvKey, data: JsonObject, now: Stamp): { version: number; entry: KvVersion } {
    const entry: KvVersion = { created: now, deletion: this.deletionFor(meta, now), destroyed: false, data };
    meta.currentVersion += 1;
    meta.versions.set(meta.currentVersion, entry);
    meta.updated = now;
    const limit = Math.max(meta.maxVersions, this.config.maxVersions) || defaultMaxVersions;
    if (meta.currentVersion - meta.oldestVersion >= limit) {
      const toDelete = meta.currentVersion - limit;
      for (let v = meta.oldestVersion; v < toDelete + 1; v++) meta.versions.delete(v);
      meta.oldestVersion = toDelete + 1;
    }
    return { version: meta.currentVersion, entry };
  }

  private checkCas(body: JsonObject, meta: KvKey | undefined): void {
    const options = body.options;
    if (options !== undefined && options !== null && !isJsonObject(options))
      throw fieldError('options', options, 'map');
    const hasCas = isJsonObject(options) && Object.hasOwn(options, 'cas');
    if (hasCas) {
      const raw = options.cas ?? null;
      const cas = raw === null ? 0 : typeof raw === 'boolean' ? Number(raw) : fieldInt(raw);
      if (cas === undefined) throw badRequest('error parsing check-and-set parameter');
      if (cas !== (meta?.currentVersion ?? 0))
        throw badRequest('check-and-set parameter did not match the current version');
    } else if (this.config.casRequired || meta?.casRequired === true) {
      throw badRequest('check-and-set parameter required for this call');
    }
  }

  private readConfig(): EngineResult {
    return ok({
      cas_required: this.config.casRequired,
      delete_version_after: formatGoDuration(
        this.config.deleteVersionAfter < 0 ? -1 : this.config.deleteVersionAfter,
      ),
      max_versions: this.config.maxVersions,
    });
  }

  private writeConfig(body: JsonObject): EngineResult {
    const { max_versions: max, cas_required: cas, delete_version_after: dva } = body;
    if (max !== undefined) {
      const value = fieldInt(max);
      if (value === undefined || value < 0) throw fieldError('max_versions', max, 'int');
      this.config.maxVersions = value;
    }
    if (cas !== undefined) {
      const value = fieldBool(cas);
      if (value === undefined) throw fieldError('cas_required', cas, 'bool');
      this.config.casRequired = value;
    }
    if (dva !== undefined) {
      const value = parseDurationSeconds(dva);
      if (value === undefined) throw fieldError('delete_version_after', dva, 'duration');
      this.config.deleteVersionAfter = value < 0 ? -1 : value;
    }
    return nil;
  }

  private readData(key: string, request: EngineRequest): EngineResult {
    const meta = this.keys.get(key);
    const wanted = queryInt(request.query, 'version');
    if (meta === undefined) return nil;
    const version = wanted > 0 ? wanted : meta.currentVersion;
    const v = meta.versions.get(version);
    if (v === undefined) return nil;
    const metadata = this.versionMetadata(meta, version, v);
    if (v.destroyed || this.isDeleted(v, request.now) || v.data === null) {
      return { kind: 'raw', status: 404, fields: { data: { data: null, metadata } } };
    }
    return ok({ data: cloneJson(v.data), metadata });
  }

  private writeData(key: string, request: EngineRequest): EngineResult {
    const body = request.body ?? {};
    const data = body.data;
    if (data === undefined || data === null) throw badRequest('no data provided');
    if (!isJsonObject(data)) throw fieldError('data', data, 'map');
    const existing = this.keys.get(key);
    this.checkCas(body, existing);
    const meta = existing ?? this.newKey(request.now);
    this.keys.set(key, meta);
    const { version, entry } = this.addVersion(meta, cloneJson(data), request.now);
    return ok(this.versionMetadata(meta, version, entry));
  }

  private patchData(key: string, request: EngineRequest): EngineResult {
    const body = request.body ?? {};
    const patch = body.data;
    if (patch === undefined || patch === null) throw badRequest('no data provided');
    const meta = this.keys.get(key);
    if (meta === undefined) return { kind: 'raw', status: 404, fields: null };
    this.checkCas(body, meta);
    const current = meta.versions.get(meta.currentVersion);
    if (current === undefined) return { kind: 'raw', status: 404, fields: null };
    if (current.destroyed || this.isDeleted(current, request.now) || current.data === null) {
      return {
        kind: 'raw',
        status: 404,
        fields: { data: this.versionMetadata(meta, meta.currentVersion, current) },
      };
    }
    if (!isJsonObject(patch)) throw fieldError('data', patch, 'map');
    const merged = mergePatch(current.data, patch);
    const { version, entry } = this.addVersion(meta, isJsonObject(merged) ? merged : {}, request.now);
    return ok(this.versionMetadata(meta, version, entry));
  }

  private deleteLatest(key: string, now: Stamp): EngineResult {
    const meta = this.keys.get(key);
    const latest = meta?.versions.get(meta.currentVersion);
    if (latest === undefined || latest.destroyed || this.isDeleted(latest, now)) return nil;
    latest.deletion = now;
    return nil;
  }

  private readMetadata(key: string): EngineResult {
    const meta = this.keys.get(key);
    if (meta === undefined) return nil;
    const versions: JsonObject = {};
    for (const [version, v] of meta.versions) {
      versions[String(version)] = {
        created_time: formatStamp(v.created),
        deletion_time: v.deletion === null ? '' : formatStamp(v.deletion),
        destroyed: v.destroyed,
      };
    }
    return ok({
      cas_required: meta.casRequired,
      created_time: formatStamp(meta.created),
      current_version: meta.currentVersion,
      custom_metadata: meta.customMetadata === null ? null : { ...meta.customMetadata },
      delete_version_after: formatGoDuration(meta.deleteVersionAfter),
      max_versions: meta.maxVersions,
      oldest_version: meta.oldestVersion,
      updated_time: formatStamp(meta.updated),
      versions,
    });
  }

  private list(prefix: string): EngineResult {
    const keys = listChildren(this.keys.keys(), prefix);
    return keys.length === 0 ? nil : ok({ keys });
  }

  /** Parses the metadata fields of a write or patch; returns the warning Vault adds, if any. */
  private metadataFields(body: JsonObject, patch: boolean) {
    const fields: {
      maxVersions?: number;
      casRequired?: boolean;
      deleteVersionAfter?: number;
      customMetadata?: Record<string, string>;
    } = {};
    const { max_versions: max, cas_required: cas, delete_version_after: dva, custom_metadata: custom } = body;
    if (max !== undefined) {
      const value = fieldInt(max);
      if (value === undefined || value < 0) throw fieldError('max_versions', max, 'int');
      fields.maxVersions = value;
    }
    if (cas !== undefined) {
      const value = fieldBool(cas);
      if (value === undefined) throw fieldError('cas_required', cas, 'bool');
      fields.casRequired = value;
    }
    if (dva !== undefined) {
      const value = parseDurationSeconds(dva);
      if (value === undefined) throw fieldError('delete_version_after', dva, 'duration');
      if (value < 0)
        throw badRequest(
          `error converting input ${JSON.stringify(dva)} for field "delete_version_after": cannot provide negative value`,
        );
      fields.deleteVersionAfter = value;
    }
    if (custom !== undefined) {
      const parsed = parseCustomMetadata(custom, patch);
      validateCustomMetadata(parsed);
      fields.customMetadata = parsed;
    }
    const warning =
      fields.casRequired === false && this.config.casRequired
        ? '"cas_required" set to false, but is mandated by backend config. This value will be ignored.'
        : undefined;
    return { fields, warning };
  }

  private writeMetadata(key: string, request: EngineRequest): EngineResult {
    if (key === '') throw badRequest('missing path');
    const body = request.body ?? {};
    const { fields, warning } = this.metadataFields(body, false);
    if (Object.keys(fields).length === 0) return nil;
    const meta = this.keys.get(key) ?? this.newKey(request.now);
    this.keys.set(key, meta);
    if (fields.maxVersions !== undefined) meta.maxVersions = fields.maxVersions;
    if (fields.casRequired !== undefined) meta.casRequired = fields.casRequired;
    if (fields.deleteVersionAfter !== undefined) meta.deleteVersionAfter = fields.deleteVersionAfter;
    if (fields.customMetadata !== undefined) {
      meta.customMetadata = Object.keys(fields.customMetadata).length === 0 ? null : fields.customMetadata;
    }
    return warning === undefined ? nil : ok(null, { warnings: [warning] });
  }

  private patchMetadata(key: string, request: EngineRequest): EngineResult {
    if (key === '') throw badRequest('missing path');
    const body = request.body ?? {};
    const { fields, warning } = this.metadataFields(body, true);
    const meta = this.keys.get(key);
    if (meta === undefined) return { kind: 'raw', status: 404, fields: null };
    if (fields.maxVersions !== undefined) meta.maxVersions = fields.maxVersions;
    if (fields.casRequired !== undefined) meta.casRequired = fields.casRequired;
    if (fields.deleteVersionAfter !== undefined) meta.deleteVersionAfter = fields.deleteVersionAfter;
    if (isJsonObject(body.custom_metadata)) {
      const merged = mergePatch(meta.customMetadata ?? {}, body.custom_metadata);
      const next: Record<string, string> = {};
      if (isJsonObject(merged)) for (const [k, v] of Object.entries(merged)) next[k] = weakString(v) ?? '';
      meta.customMetadata = Object.keys(next).length === 0 ? null : next;
    }
    return warning === undefined ? nil : ok(null, { warnings: [warning] });
  }

  private deleteMetadata(key: string): EngineResult {
    this.keys.delete(key);
    return nil;
  }

  private versionsOp(
    kind: 'delete' | 'undelete' | 'destroy',
    key: string,
    request: EngineRequest,
  ): EngineResult {
    const versions = parseVersions(request.body?.versions);
    if (versions.length === 0) throw badRequest('No version number provided');
    const meta = this.keys.get(key);
    if (meta === undefined) return nil;
    for (const number of versions) {
      const v = meta.versions.get(number);
      if (v === undefined) continue;
      if (kind === 'destroy') {
        v.destroyed = true;
        v.data = null;
        continue;
      }
      if (v.destroyed) continue;
      if (kind === 'delete') {
        if (!this.isDeleted(v, request.now)) v.deletion = request.now;
      } else {
        v.deletion = this.deletionFor(meta, request.now);
      }
    }
    return nil;
  }

  private readSubkeys(key: string, request: EngineRequest): EngineResult {
    const meta = this.keys.get(key);
    const wanted = queryInt(request.query, 'version');
    const depth = queryInt(request.query, 'depth');
    if (depth < 0) throw badRequest('depth must be a non-negative integer');
    if (meta === undefined) return nil;
    const version = wanted > 0 ? wanted : meta.currentVersion;
    const v = meta.versions.get(version);
    if (v === undefined) return nil;
    const metadata = this.versionMetadata(meta, version, v);
    if (v.destroyed || this.isDeleted(v, request.now) || v.data === null) {
      return { kind: 'raw', status: 404, fields: { data: { subkeys: null, metadata } } };
    }
    const strip = (value: JsonObject, level: number): JsonObject => {
      const out: JsonObject = {};
      for (const [k, child] of Object.entries(value)) {
        const nested = isJsonObject(child) && Object.keys(child).length > 0 && (depth === 0 || level < depth);
        out[k] = nested ? strip(child as JsonObject, level + 1) : null;
      }
      return out;
    };
    return ok({ subkeys: strip(v.data, 1), metadata });
  }
}

/** A KV version 1 engine: unversioned key/value pairs. */
export class KvV1Engine implements Engine {
  readonly type = 'kv';
  private readonly keys = new Map<string, JsonObject>();

  exists(path: string): boolean | undefined {
    return this.keys.has(path);
  }

  handle(request: EngineRequest): EngineResult {
    const { operation: op, path } = request;
    if (op === 'read') {
      const data = this.keys.get(path);
      if (data === undefined) return nil;
      const ttl = parseDurationSeconds(data.ttl ?? data.lease);
      return ok(cloneJson(data), { leaseDuration: ttl !== undefined && ttl > 0 ? ttl : kv1LeaseSeconds });
    }
    if (op === 'list') {
      const keys = listChildren(this.keys.keys(), path);
      return keys.length === 0 ? nil : ok({ keys });
    }
    if (op === 'create' || op === 'update') {
      const body = request.body;
      if (body === null || Object.keys(body).length === 0) throw badRequest('missing data fields');
      if (path === '') throw badRequest('missing path');
      this.keys.set(path, cloneJson(body));
      return nil;
    }
    if (op === 'delete') {
      this.keys.delete(path);
      return nil;
    }
    throw unsupportedOperation();
  }

  /** Writes a key directly. For test setup. */
  seed(key: string, data: JsonObject): void {
    this.keys.set(key, cloneJson(data));
  }

  /** A copy of a key, or `undefined`. */
  peek(key: string, path: string): VaultFakeKvV1Secret | undefined {
    const data = this.keys.get(key);
    return data === undefined ? undefined : { engine: 'kv-v1', path, data: cloneJson(data) };
  }
}
