/**
 * The Vault fake's shared state and the helpers every part of it uses (tokens, the system engine,
 * health, the router). One {@link VaultState} per running fake.
 * @internal
 */

import { randomBytes, randomUUID } from 'node:crypto';
import type { Engine, EngineResult } from './engine.js';
import type { VaultFakeRequest } from './fake.js';
import type { VaultPolicyRules } from './policy.js';
import { type JsonObject, type Stamp, VaultHttpError } from './wire.js';

export interface TokenEntry {
  readonly id: string;
  readonly accessor: string;
  readonly policies: readonly string[];
  readonly displayName: string;
  readonly meta: Readonly<Record<string, string>> | null;
  readonly createdMs: number;
  readonly creationTtl: number;
  ttl: number;
  expireMs: number | null;
  readonly renewable: boolean;
  readonly orphan: boolean;
  readonly path: string;
}

export interface Mount {
  readonly path: string;
  readonly type: string;
  readonly description: string;
  readonly options: JsonObject | null;
  readonly accessor: string;
  readonly uuid: string;
  readonly local: boolean;
  readonly sealWrap: boolean;
  readonly engine: Engine;
}

export interface PendingFailure {
  remaining: number;
  readonly status: number;
  readonly message: string;
  readonly match: ((request: { readonly method: string; readonly path: string }) => boolean) | undefined;
}

export interface Reply {
  readonly status: number;
  readonly body?: JsonObject | string;
  readonly contentType?: string;
}

export const defaultTokenTtl = 2_764_800;
export const protectedMountPrefixes = ['audit/', 'auth/', 'sys/', 'cubbyhole/', 'identity/'];
export const kvPluginVersion = 'v0.21.0+builtin';

export function randomToken(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(24);
  let out = 'hvs.';
  for (const b of bytes) out += alphabet[b % alphabet.length];
  return out;
}

export function randomHex(length: number): string {
  return randomBytes(Math.ceil(length / 2))
    .toString('hex')
    .slice(0, length);
}

export function errorBody(errors: readonly string[]): JsonObject {
  return { errors: [...errors] };
}

/** Answers every request to an engine the fake lists in `sys/mounts` but does not implement. */
export class UnimplementedEngine implements Engine {
  constructor(readonly type: string) {}
  exists(): boolean | undefined {
    return undefined;
  }
  handle(): EngineResult {
    throw new VaultHttpError(501, [`the Vault fake does not implement the ${this.type} secrets engine`]);
  }
}

export function normalizePolicyName(name: string): string {
  return name.trim().toLowerCase();
}

/** Everything a running fake knows. */
export interface VaultState {
  readonly clock: { now(): Date };
  readonly vaultVersion: string;
  readonly clusterName: string;
  readonly clusterId: string;
  readonly rootToken: string;
  readonly unsealKey: string;
  /** Header the LIST front adds to requests it rewrote from `LIST` to `GET`. */
  readonly listMarker: string;
  sealed: boolean;
  standby: boolean;
  requestLog: VaultFakeRequest[];
  failures: PendingFailure[];
  inlineCounter: number;
  lastStamp: Stamp;
  /** The token of the request being handled (for the token and system engines). */
  currentCaller: TokenEntry | undefined;
  readonly tokens: Map<string, TokenEntry>;
  readonly policies: Map<string, VaultPolicyRules>;
  readonly mounts: Map<string, Mount>;
  /** The current time, strictly after the previous stamp. */
  now(): Stamp;
  addMount(path: string, type: string, engine: Engine, extra?: Partial<Mount>): void;
}

/** Creates the state of a fake (empty: the caller sets up mounts, tokens and policies). */
export function createVaultState(init: {
  readonly clock: { now(): Date };
  readonly vaultVersion: string;
  readonly clusterName: string;
  readonly rootToken: string;
}): VaultState {
  const s: VaultState = {
    ...init,
    clusterId: randomUUID(),
    unsealKey: randomBytes(32).toString('base64'),
    listMarker: `x-zonekeeper-vault-fake-list-${randomHex(16)}`,
    sealed: false,
    standby: false,
    requestLog: [],
    failures: [],
    inlineCounter: 0,
    lastStamp: { ms: 0, subMs: 0 },
    currentCaller: undefined,
    tokens: new Map(),
    policies: new Map(),
    mounts: new Map(),
    now,
    addMount,
  };
  const { clock, mounts } = s;

  /** The current time, strictly after the previous stamp (so a delete and a read never share an instant). */
  function now(): Stamp {
    const ms = clock.now().getTime();
    let next: Stamp;
    if (ms > s.lastStamp.ms) next = { ms, subMs: (ms * 7 + 104_729) % 1_000_000 };
    else {
      const subMs = s.lastStamp.subMs + 1_013;
      next =
        subMs < 1_000_000
          ? { ms: s.lastStamp.ms, subMs }
          : { ms: s.lastStamp.ms + 1, subMs: subMs - 1_000_000 };
    }
    s.lastStamp = next;
    return next;
  }

  function addMount(path: string, type: string, engine: Engine, extra: Partial<Mount> = {}): void {
    mounts.set(path, {
      path,
      type,
      description: extra.description ?? '',
      options: extra.options ?? null,
      accessor: `${type}_${randomHex(8)}`,
      uuid: randomUUID(),
      local: extra.local ?? false,
      sealWrap: extra.sealWrap ?? false,
      engine,
    });
  }

  return s;
}
