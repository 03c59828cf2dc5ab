/**
 * The identity of an organisation on PowerDNS: **one TSIG key per organisation**, created over the
 * HTTP API, kept in the secret store, and the only key allowed to update the organisation's zone
 * (`TSIG-ALLOW-DNSUPDATE`). What the IAM user, its inline policy and its access key are on Route 53.
 *
 * Gather → pure plan → apply, like every `ensure*`:
 *
 * ```
 *  observed                                        steps                           reason
 *  ──────────────────────────────────────────────  ──────────────────────────────  ───────────────────────────
 *  nothing stored (or stored for another name,     store-key (a new secret)        not-stored,
 *    or hmac-md5, which ExternalDNS cannot use)                                    stored-key-unusable
 *  no key zonekeeper-update.<zone> on the server   create-key (the stored secret)  key-missing
 *  a server key, but nothing usable was stored     delete-key, create-key          unknown-key
 *  the server key is not the stored one            delete-key, create-key          server-key-differs
 *  TSIG-ALLOW-DNSUPDATE unset / lists other keys   set-update-keys                 update-keys-missing/-differ
 *  ALLOW-DNSUPDATE-FROM ≠ the configured networks  set-update-sources              update-sources-differ
 *  TSIG-ALLOW-AXFR ≠ the key (allowTransfer true)  set-transfer-keys               transfer-keys-differ
 *  TSIG-ALLOW-AXFR set (allowTransfer false)       set-transfer-keys               transfer-not-allowed
 *  the zone does not exist                         NOT_FOUND (thrown)
 * ```
 *
 * **The store is the source of truth, and it is written first.** zonekeeper generates the secret, stores
 * it (check-and-set), then creates the server key with it. A run that dies in between leaves a stored
 * key and no server key, which the next run creates. So a key on the server that nothing stored is not
 * ours to adopt: it may be a deleted organisation's, whose former tenant still holds it, under a zone
 * name that now belongs to someone else. It is replaced, and its secret stops working. Plans and
 * gathered state carry fingerprints of secrets, never secrets.
 *
 * What this cannot give, unlike the IAM policy: `TSIG-ALLOW-DNSUPDATE` lets the key change **every
 * record type** in the zone, apex NS and SOA included; only a Lua policy script
 * (`renderDnsUpdatePolicy`) restricts types, and per-cluster names cannot be expressed at all. See
 * docs/powerdns.md.
 *
 * @packageDocumentation
 */

import { createHash, randomBytes } from 'node:crypto';
import {
  applySteps,
  type CallOptions,
  type EnsureOptions,
  ensure,
  invalidInput,
  normalizeDomainName,
  signalOnly,
  validateOrganizationName,
  ZonekeeperError,
} from '@zonekeeper/core';
import {
  type PowerDnsAdmin,
  TSIG_ALGORITHMS,
  type TsigAlgorithm,
  type TsigKey,
  tsigKeyNameForZone,
  tsigKeyNamesForZone,
} from './tsig.js';

/** A TSIG key as the store holds it. @public */
export interface StoredOrganizationTsigKey extends TsigKey {
  /** The stored version (check-and-set). */
  readonly version: number;
  /**
   * The key this one replaces, while a rotation is under way (`rotateOrganizationTsigKey`): the other
   * of {@link tsigKeyNamesForZone}, still on the server and still allowed until every cluster runs
   * this key. Absent outside a rotation.
   */
  readonly previousName?: string;
}

/**
 * Where the organisation's key is kept: a narrow view of the secret store. vault-keys' `readTsigKey`
 * and `writeTsigKey` fit it:
 * `{ read: (org, o) => readTsigKey(store, { organization: org }, o), write: (org, key, o) => writeTsigKey(store, { organization: org }, key, o) }`.
 * @public
 */
export interface TsigKeyStore {
  /** The stored key, or `undefined`. */
  read(organization: string, options?: CallOptions): Promise<StoredOrganizationTsigKey | undefined>;
  /** Stores with check-and-set (`cas`: the version read, 0 to create); a mismatch is `CONFLICT`. */
  write(
    organization: string,
    key: TsigKey & { readonly previousName?: string },
    options: CallOptions & { readonly cas: number },
  ): Promise<{ readonly version: number }>;
}

/** What the organisation should have. @public */
export interface OrganizationTsigDesired {
  readonly organization: string;
  /** The organisation's zone on the server, e.g. `acme.example.com`. */
  readonly zoneName: string;
  /** The algorithm of a new key (an existing key keeps its own). Default `hmac-sha256`. */
  readonly algorithm?: TsigAlgorithm;
  /**
   * `ALLOW-DNSUPDATE-FROM` of the zone: the networks updates may come from (the clusters' egress).
   * Default: left as it is. `[]` removes the restriction (then the server's `allow-dnsupdate-from` decides).
   */
  readonly updateSources?: readonly string[];
  /**
   * `TSIG-ALLOW-AXFR` of the zone: `true` lets the key (only it) transfer the zone, which ExternalDNS
   * needs to read records (`rfc2136.axfr`); `false` removes the metadata. Default: left as it is.
   */
  readonly allowTransfer?: boolean;
}

/** Secret sizes by algorithm: the hash's output length (RFC 2104's recommended key size). @internal */
export const SECRET_BYTES: Readonly<Record<string, number>> = {
  'hmac-sha1': 20,
  'hmac-sha224': 28,
  'hmac-sha256': 32,
  'hmac-sha384': 48,
  'hmac-sha512': 64,
};

/** A secret's fingerprint: 16 hex characters of SHA-256, never the secret. @public */
export function tsigSecretFingerprint(secret: string): string {
  return createHash('sha256')
    .update('zonekeeper.io/tsig-secret/v1\n')
    .update(secret)
    .digest('hex')
    .slice(0, 16);
}

/** What {@link gatherOrganizationTsig} read. Secret-free. @public */
export interface OrganizationTsigState {
  readonly zoneExists: boolean;
  /** The key named {@link tsigKeyNameForZone} on the server. */
  readonly serverKey?: { readonly name: string; readonly algorithm: string; readonly fingerprint: string };
  /** The stored key. */
  readonly storedKey?: {
    readonly name: string;
    readonly algorithm: string;
    readonly fingerprint: string;
    readonly version: number;
    /** The key a rotation under way replaces (see {@link StoredOrganizationTsigKey.previousName}). */
    readonly previousName?: string;
  };
  /**
   * The key on the server under the organisation's other key name (of {@link tsigKeyNamesForZone}):
   * the previous key of a rotation under way, or a key nothing stored. Absent when there is none (or in
   * older state).
   */
  readonly otherServerKey?: {
    readonly name: string;
    readonly algorithm: string;
    readonly fingerprint: string;
  };
  /** `TSIG-ALLOW-DNSUPDATE` of the zone (canonical names). */
  readonly updateKeys: readonly string[];
  /** `ALLOW-DNSUPDATE-FROM` of the zone. */
  readonly updateSources: readonly string[];
  /** `TSIG-ALLOW-AXFR` of the zone (canonical names); absent when not read (older state). */
  readonly transferKeys?: readonly string[];
}

/** One step of an {@link OrganizationTsigPlan}. @public */
export type OrganizationTsigStep =
  | {
      readonly op: 'store-key';
      readonly name: string;
      readonly organization: string;
      /** Of the new key (its secret is generated when the step runs). */
      readonly algorithm: TsigAlgorithm;
      /** The version read (0: nothing stored). */
      readonly cas: number;
      readonly reason: 'not-stored' | 'stored-key-unusable';
    }
  | {
      readonly op: 'delete-key';
      readonly name: string;
      readonly reason: 'unknown-key' | 'server-key-differs';
    }
  | {
      readonly op: 'create-key';
      readonly name: string;
      /** Whose stored key the server gets. */
      readonly organization: string;
      readonly reason: 'key-missing' | 'unknown-key' | 'server-key-differs';
    }
  | {
      readonly op: 'set-update-keys';
      readonly zoneName: string;
      readonly keyNames: readonly string[];
      readonly reason: 'update-keys-missing' | 'update-keys-differ';
    }
  | {
      readonly op: 'set-update-sources';
      readonly zoneName: string;
      readonly networks: readonly string[];
      readonly reason: 'update-sources-differ';
    }
  | {
      readonly op: 'set-transfer-keys';
      readonly zoneName: string;
      /** `[]` removes the metadata. */
      readonly keyNames: readonly string[];
      readonly reason: 'transfer-keys-differ' | 'transfer-not-allowed';
    };

/** The plan: JSON data, no secrets. @public */
export interface OrganizationTsigPlan {
  readonly organization: string;
  readonly zoneName: string;
  readonly keyName: string;
  readonly steps: readonly OrganizationTsigStep[];
}

/** @internal */
export interface Normalised {
  readonly organization: string;
  readonly zoneName: string;
  /** The first of the organisation's two key names (a first key's). */
  readonly keyName: string;
  readonly keyNames: readonly [string, string];
  readonly algorithm: TsigAlgorithm;
  readonly updateSources: readonly string[] | undefined;
  readonly allowTransfer: boolean | undefined;
}

/** Validates and normalises the desired state (`INVALID_INPUT`). @internal */
export function normalise(desired: OrganizationTsigDesired): Normalised {
  const organization = validateOrganizationName(desired.organization);
  const zoneName = normalizeDomainName(desired.zoneName, 'Zone name');
  const algorithm = desired.algorithm ?? 'hmac-sha256';
  if (!(TSIG_ALGORITHMS as readonly string[]).includes(algorithm) || algorithm === 'hmac-md5') {
    throw invalidInput(
      `TSIG algorithm ${JSON.stringify(algorithm)} is not one of ${TSIG_ALGORITHMS.filter((a) => a !== 'hmac-md5').join(', ')} (ExternalDNS cannot use hmac-md5).`,
    );
  }
  const sources = desired.updateSources;
  if (sources !== undefined && (!Array.isArray(sources) || sources.some((s) => typeof s !== 'string')))
    throw invalidInput('updateSources must be an array of networks (CIDR).');
  if (desired.allowTransfer !== undefined && typeof desired.allowTransfer !== 'boolean')
    throw invalidInput('allowTransfer must be a boolean.');
  return {
    organization,
    zoneName,
    keyName: tsigKeyNameForZone(zoneName),
    keyNames: tsigKeyNamesForZone(zoneName),
    algorithm: algorithm as TsigAlgorithm,
    updateSources: sources === undefined ? undefined : [...new Set(sources)].sort(),
    allowTransfer: desired.allowTransfer,
  };
}

/** The organisation's key name in use: the stored key's when it is one of its two names, else the first. @internal */
export function currentKeyName(n: Normalised, storedName: string | undefined): string {
  return storedName !== undefined && (n.keyNames as readonly string[]).includes(storedName)
    ? storedName
    : n.keyName;
}

/** The other of the organisation's two key names. @internal */
export function otherKeyName(n: Normalised, current: string): string {
  return current === n.keyNames[0] ? n.keyNames[1] : n.keyNames[0];
}

/**
 * Reads the organisation's key on the server and in the store, and the zone's update metadata.
 * Reads only. The state holds fingerprints, never secrets.
 * @public
 */
export async function gatherOrganizationTsig(
  deps: { readonly admin: PowerDnsAdmin; readonly store: TsigKeyStore },
  desired: OrganizationTsigDesired,
  options: CallOptions = {},
): Promise<OrganizationTsigState> {
  const n = normalise(desired);
  const call = signalOnly(options);
  let updateKeys: readonly string[];
  try {
    updateKeys = await deps.admin.getZoneUpdateKeys(n.zoneName, call);
  } catch (error) {
    if (error instanceof ZonekeeperError && error.code === 'NOT_FOUND') {
      return { zoneExists: false, updateKeys: [], updateSources: [] };
    }
    throw error;
  }
  const updateSources = await deps.admin.getZoneUpdateSources(n.zoneName, call);
  const transferKeys = await deps.admin.getZoneTransferKeys(n.zoneName, call);
  const stored = await deps.store.read(n.organization, call);
  const current = currentKeyName(n, stored?.name);
  const server = await deps.admin.getTsigKey(current, call);
  const other = await deps.admin.getTsigKey(otherKeyName(n, current), call);
  return {
    zoneExists: true,
    ...(other
      ? {
          otherServerKey: {
            name: other.name,
            algorithm: other.algorithm,
            fingerprint: tsigSecretFingerprint(other.secret),
          },
        }
      : {}),
    ...(server
      ? {
          serverKey: {
            name: server.name,
            algorithm: server.algorithm,
            fingerprint: tsigSecretFingerprint(server.secret),
          },
        }
      : {}),
    ...(stored
      ? {
          storedKey: {
            name: stored.name,
            algorithm: stored.algorithm,
            fingerprint: tsigSecretFingerprint(stored.secret),
            version: stored.version,
            ...(stored.previousName ? { previousName: stored.previousName } : {}),
          },
        }
      : {}),
    updateKeys: [...updateKeys].sort(),
    updateSources: [...updateSources].sort(),
    transferKeys: [...transferKeys].sort(),
  };
}

/** Algorithms a stored key may have: every one ExternalDNS can sign with (not hmac-md5). @internal */
export const USABLE_ALGORITHMS: readonly string[] = TSIG_ALGORITHMS.filter((a) => a !== 'hmac-md5');

/** @internal */
export const same = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((v, i) => v === b[i]);

/**
 * Pure: the steps that give the organisation exactly one key on the server, stored, and alone allowed
 * to update its zone. Planning again after the steps are applied gives none.
 * @throws `NOT_FOUND` when the zone does not exist.
 * @public
 */
export function planOrganizationTsig(
  state: OrganizationTsigState,
  desired: OrganizationTsigDesired,
): OrganizationTsigPlan {
  const n = normalise(desired);
  if (!state.zoneExists) {
    throw new ZonekeeperError(
      'NOT_FOUND',
      `PowerDNS: zone ${n.zoneName} of organisation ${n.organization} does not exist; create the zone first.`,
      { details: { zoneName: n.zoneName } },
    );
  }
  const steps: OrganizationTsigStep[] = [];
  const stored = state.storedKey;
  const server = state.serverKey;
  const keyName = currentKeyName(n, stored?.name);
  const usable =
    stored !== undefined && stored.name === keyName && USABLE_ALGORITHMS.includes(stored.algorithm);
  if (!usable) {
    steps.push({
      op: 'store-key',
      name: keyName,
      organization: n.organization,
      algorithm: n.algorithm,
      cas: stored?.version ?? 0,
      reason: stored === undefined ? 'not-stored' : 'stored-key-unusable',
    });
  }
  // After a new secret is stored, no server key can match it.
  const serverMatches =
    usable &&
    server !== undefined &&
    server.algorithm === stored.algorithm &&
    server.fingerprint === stored.fingerprint;
  if (!serverMatches) {
    const reason = server === undefined ? 'key-missing' : usable ? 'server-key-differs' : 'unknown-key';
    if (server !== undefined && reason !== 'key-missing')
      steps.push({ op: 'delete-key', name: keyName, reason });
    steps.push({ op: 'create-key', name: keyName, organization: n.organization, reason });
  }
  // A rotation under way (its previous key still on the server): the clusters may still sign with the
  // previous key, so it stays allowed beside the new one until the rotation retires it.
  const previous =
    usable &&
    stored.previousName !== undefined &&
    stored.previousName === otherKeyName(n, keyName) &&
    state.otherServerKey?.name === stored.previousName
      ? stored.previousName
      : undefined;
  const alone = [keyName];
  const overlap = previous === undefined ? alone : [keyName, previous].sort();
  const accepted = (keys: readonly string[]) => same(keys, alone) || same(keys, overlap);
  if (!accepted(state.updateKeys)) {
    steps.push({
      op: 'set-update-keys',
      zoneName: n.zoneName,
      keyNames: overlap,
      reason: state.updateKeys.length === 0 ? 'update-keys-missing' : 'update-keys-differ',
    });
  }
  if (n.updateSources !== undefined && !same(state.updateSources, n.updateSources)) {
    steps.push({
      op: 'set-update-sources',
      zoneName: n.zoneName,
      networks: n.updateSources,
      reason: 'update-sources-differ',
    });
  }
  const transferKeys = state.transferKeys ?? [];
  if (n.allowTransfer === true && !accepted(transferKeys)) {
    steps.push({
      op: 'set-transfer-keys',
      zoneName: n.zoneName,
      keyNames: overlap,
      reason: 'transfer-keys-differ',
    });
  }
  if (n.allowTransfer === false && transferKeys.length > 0) {
    steps.push({
      op: 'set-transfer-keys',
      zoneName: n.zoneName,
      keyNames: [],
      reason: 'transfer-not-allowed',
    });
  }
  return { organization: n.organization, zoneName: n.zoneName, keyName, steps };
}

/**
 * Executes exactly the plan's steps, in order. A new secret is generated here, stored first, and then
 * given to the server; it goes nowhere else.
 * @public
 */
export async function applyOrganizationTsigPlan(
  plan: OrganizationTsigPlan,
  deps: { readonly admin: PowerDnsAdmin; readonly store: TsigKeyStore },
  options: CallOptions = {},
): Promise<void> {
  const call = signalOnly(options);
  let stored: TsigKey | undefined;
  await applySteps(
    plan.steps,
    async (step) => {
      switch (step.op) {
        case 'store-key': {
          const secret = randomBytes(SECRET_BYTES[step.algorithm] ?? 32).toString('base64');
          const key = { name: step.name, algorithm: step.algorithm, secret };
          await deps.store.write(step.organization, key, { ...call, cas: step.cas });
          stored = key;
          return;
        }
        case 'delete-key':
          await deps.admin.deleteTsigKey(step.name, call);
          return;
        case 'create-key': {
          const key = stored ?? (await deps.store.read(step.organization, call));
          if (!key || key.name !== step.name) {
            throw new ZonekeeperError(
              'CONFLICT',
              `PowerDNS: the stored TSIG key of ${step.organization} changed while it was being set up; run again.`,
              { retry: 'transient', details: { keyName: step.name } },
            );
          }
          await deps.admin.createTsigKey(
            { name: key.name, algorithm: key.algorithm as TsigAlgorithm, secret: key.secret },
            call,
          );
          return;
        }
        case 'set-update-keys':
          await deps.admin.setZoneUpdateKeys(step.zoneName, step.keyNames, call);
          return;
        case 'set-update-sources':
          await deps.admin.setZoneUpdateSources(step.zoneName, step.networks, call);
          return;
        case 'set-transfer-keys':
          await deps.admin.setZoneTransferKeys(step.zoneName, step.keyNames, call);
          return;
      }
    },
    call,
  );
}

/** What {@link ensureOrganizationTsigKey} returns. Secret-free. @public */
export interface OrganizationTsigResult {
  readonly dryRun: boolean;
  readonly plan: OrganizationTsigPlan;
  /** The key name ExternalDNS signs with (`--rfc2136-tsig-keyname`). */
  readonly keyName: string;
}

/**
 * Ensures the organisation's TSIG key: on the server, in the store, and alone allowed to update the
 * organisation's zone. Idempotent; a dry run returns the plan and changes nothing. The secret is read
 * back from the store ({@link TsigKeyStore.read}) by whoever renders ExternalDNS.
 *
 * @example
 * ```ts
 * const { keyName } = await ensureOrganizationTsigKey(
 *   { admin: createPowerDnsAdmin(dns.api), store: tsigStore },
 *   { organization: 'acme', zoneName: 'acme.example.com', updateSources: ['10.0.0.0/8'] },
 * );
 * ```
 * @throws `INVALID_INPUT` (before any request); `NOT_FOUND` (no zone); `CONFLICT` (another writer
 *   stored a key first: run again); the server's and the store's errors.
 * @public
 */
export async function ensureOrganizationTsigKey(
  deps: { readonly admin: PowerDnsAdmin; readonly store: TsigKeyStore },
  desired: OrganizationTsigDesired,
  options: EnsureOptions = {},
): Promise<OrganizationTsigResult> {
  normalise(desired); // INVALID_INPUT before any request
  const outcome = await ensure(
    {
      gather: (call) => gatherOrganizationTsig(deps, desired, call),
      plan: (state) => planOrganizationTsig(state, desired),
      apply: (plan, _state, call) => applyOrganizationTsigPlan(plan, deps, call),
    },
    options,
  );
  return { dryRun: outcome.dryRun, plan: outcome.plan, keyName: outcome.plan.keyName };
}

/** What {@link removeOrganizationTsigKey} did. @public */
export interface RemovedOrganizationTsigKey {
  readonly keyName: string;
  /** The key was on the server and is gone now. */
  readonly deletedKey: boolean;
  /** The zone existed, and its `ALLOW-DNSUPDATE-FROM`, `TSIG-ALLOW-DNSUPDATE` and `TSIG-ALLOW-AXFR` were cleared. */
  readonly clearedZone: boolean;
}

/**
 * Offboarding: removes the organisation's key from the server, after clearing the zone's
 * `ALLOW-DNSUPDATE-FROM`, `TSIG-ALLOW-DNSUPDATE` and `TSIG-ALLOW-AXFR` (when the zone still exists), so
 * its secret stops working at once and the zone takes no update at all (without the key metadata,
 * PowerDNS would take unsigned updates from the listed networks). Idempotent. The stored secret is the caller's to delete with the organisation's other
 * secrets (vault-keys' `deleteOrganizationSecrets` removes `<prefix>/orgs/<org>/tsig-key`).
 * @throws `INVALID_INPUT` for a bad zone name (before any request); the server's errors.
 * @public
 */
export async function removeOrganizationTsigKey(
  deps: { readonly admin: PowerDnsAdmin },
  input: { readonly zoneName: string },
  options: CallOptions = {},
): Promise<RemovedOrganizationTsigKey> {
  const zoneName = normalizeDomainName(input.zoneName, 'Zone name');
  const keyNames = tsigKeyNamesForZone(zoneName);
  const call = signalOnly(options);
  let clearedZone = false;
  try {
    // The networks first: with TSIG-ALLOW-DNSUPDATE gone and ALLOW-DNSUPDATE-FROM left, PowerDNS
    // would accept unsigned updates from those networks.
    await deps.admin.setZoneUpdateSources(zoneName, [], call);
    await deps.admin.setZoneUpdateKeys(zoneName, [], call);
    await deps.admin.setZoneTransferKeys(zoneName, [], call);
    clearedZone = true;
  } catch (error) {
    if (!(error instanceof ZonekeeperError && error.code === 'NOT_FOUND')) throw error;
  }
  let existed = false;
  // Both of the organisation's key names: a rotation may have stopped with two keys on the server.
  for (const keyName of keyNames) {
    if ((await deps.admin.getTsigKey(keyName, call)) === undefined) continue;
    existed = true;
    await deps.admin.deleteTsigKey(keyName, call);
  }
  return { keyName: keyNames[0], deletedKey: existed, clearedZone };
}
