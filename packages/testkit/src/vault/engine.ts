/**
 * What a mounted engine of the fake looks like to the request handler (Vault's "logical backend").
 *
 * @packageDocumentation
 */

import { type EnvelopeFields, type JsonObject, multiError, type Stamp, VaultHttpError } from './wire.js';

/** Vault's logical operations. `create` and `update` come from POST/PUT after the existence check. */
export type Operation = 'read' | 'list' | 'create' | 'update' | 'patch' | 'delete';

/** A request as an engine sees it. */
export interface EngineRequest {
  readonly operation: Operation;
  /** Path relative to the mount. LIST paths end with `/` (or are empty for the mount's root). */
  readonly path: string;
  readonly query: URLSearchParams;
  /** The parsed JSON body of POST/PUT/PATCH, `null` when there was none. */
  readonly body: JsonObject | null;
  readonly now: Stamp;
}

/**
 * What an engine answers:
 * - `nil`: Vault's "no response" — 404 `{"errors":[]}` for reads and lists, 204 otherwise;
 * - `response`: 200 with the envelope;
 * - `raw`: a status with an engine-rendered envelope, or an empty body (Vault's `RespondWithStatusCode`).
 */
export type EngineResult =
  | { readonly kind: 'nil' }
  | { readonly kind: 'response'; readonly fields: EnvelopeFields }
  | { readonly kind: 'raw'; readonly status: number; readonly fields: EnvelopeFields | null };

/** A mounted engine. */
export interface Engine {
  /** The mount type reported in `mount_type` and `sys/mounts` (`kv`, `system`, `token`). */
  readonly type: string;
  /**
   * For paths where Vault distinguishes `create` from `update`: whether the target exists. `undefined`
   * means the path has no existence check, and a write needs `update`.
   */
  exists(path: string): boolean | undefined;
  handle(request: EngineRequest): EngineResult;
}

/** The answers shared by engines. */
export const nil: EngineResult = { kind: 'nil' };

/** `200` with `data`. */
export function ok(data: JsonObject | null, extra: Omit<EnvelopeFields, 'data'> = {}): EngineResult {
  return { kind: 'response', fields: { ...extra, data } };
}

/** Vault's `logical.ErrUnsupportedOperation`, as the HTTP layer reports it. */
export function unsupportedOperation(): VaultHttpError {
  return new VaultHttpError(405, [multiError(['unsupported operation'])]);
}

/** Direct children of `prefix` among `keys`: leaf names and folders (with a trailing `/`), sorted. */
export function listChildren(keys: Iterable<string>, prefix: string): string[] {
  const children = new Set<string>();
  for (const key of keys) {
    if (!key.startsWith(prefix)) continue;
    const rest = key.slice(prefix.length);
    if (rest === '') continue;
    const slash = rest.indexOf('/');
    children.add(slash < 0 ? rest : rest.slice(0, slash + 1));
  }
  return [...children].sort();
}
