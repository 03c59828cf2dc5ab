/**
 * Rotating an organisation's TSIG key without a moment in which a running ExternalDNS holds no valid
 * key. PowerDNS cannot keep two keys of one name, so the key alternates between the organisation's two
 * names ({@link tsigKeyNamesForZone}): `zonekeeper-update.<zone>` ⇄ `zonekeeper-update-b.<zone>`.
 *
 * ```
 *  step                   what it writes                                   a crash right after it
 *  ─────────────────────  ───────────────────────────────────────────────  ──────────────────────────────────
 *  delete-key             an unstored key under the new name (not ours:    nothing recorded: a re-run plans
 *    (unknown-key)          the store is written first, decision 28)         the same rotation again
 *  store-key              the new key, recording the old one as previous   the store says "rotation under
 *                                                                            way": a re-run resumes it
 *  create-key             the new key on the server (the stored secret)    resumed: the key is there
 *  set-update-keys        TSIG-ALLOW-DNSUPDATE = old + new (overlap)       resumed; both keys work
 *  set-transfer-keys      TSIG-ALLOW-AXFR = old + new (when AXFR is on)    resumed
 *  publish-key            every attached cluster's ExternalDNS gets the    resumed: published again (an
 *                           new key, rollouts waited for                     unchanged object is not written)
 *  set-update-keys        TSIG-ALLOW-DNSUPDATE = new                       resumed: the old key is deleted
 *  set-transfer-keys      TSIG-ALLOW-AXFR = new                            resumed
 *  delete-key (previous)  the old key off the server                       resumed: only forgotten
 *  forget-previous-key    the store without the previous key               rotated: a re-run rotates again
 * ```
 *
 * Until the clusters run the new key the old one stays on the server and allowed; after, the old one
 * is removed from the metadata before it is deleted. Only the organisation's two key names are ever
 * deleted; keys of other names (another organisation's, an operator's) are never touched, and a name
 * in the zone's metadata that is not the organisation's is dropped from it (as `ensure` does), not
 * deleted. Plans hold names and fingerprints, never secrets.
 *
 * @packageDocumentation
 */

import { randomBytes } from 'node:crypto';
import {
  applySteps,
  type CallOptions,
  hasErrorCode,
  rethrowIfAborted,
  signalOnly,
  ZonekeeperError,
} from '@zonekeeper/core';
import type { PowerDnsAdmin, TsigAlgorithm } from './tsig.js';
import { tsigKeyNamesForZone } from './tsig.js';
import {
  currentKeyName,
  normalise,
  type OrganizationTsigDesired,
  type OrganizationTsigState,
  otherKeyName,
  SECRET_BYTES,
  type StoredOrganizationTsigKey,
  same,
  type TsigKeyStore,
  tsigSecretFingerprint,
  USABLE_ALGORITHMS,
} from './tsig-identity.js';

/** One step of an {@link OrganizationTsigRotationPlan}. @public */
export type OrganizationTsigRotationStep =
  | {
      readonly op: 'delete-key';
      readonly name: string;
      /** `unknown-key`: nothing stored it (never adopted); `previous-key`: the key the rotation replaced. */
      readonly reason: 'unknown-key' | 'server-key-differs' | 'previous-key';
    }
  | {
      readonly op: 'store-key';
      readonly name: string;
      readonly organization: string;
      readonly algorithm: TsigAlgorithm;
      /** The version read. */
      readonly cas: number;
      /** The key it replaces, recorded until the rotation is finished. */
      readonly previousName: string;
    }
  | {
      readonly op: 'create-key';
      readonly name: string;
      readonly organization: string;
      readonly reason: 'rotation' | 'key-missing' | 'server-key-differs';
    }
  | {
      readonly op: 'set-update-keys' | 'set-transfer-keys';
      readonly zoneName: string;
      readonly keyNames: readonly string[];
      /** `overlap`: old and new allowed; `retire`: the new one alone. */
      readonly reason: 'overlap' | 'retire';
    }
  | { readonly op: 'publish-key'; readonly name: string; readonly clusterIds: readonly string[] }
  | { readonly op: 'forget-previous-key'; readonly organization: string; readonly name: string };

/** The plan: JSON data, no secrets. @public */
export interface OrganizationTsigRotationPlan {
  readonly organization: string;
  readonly zoneName: string;
  /** The key the organisation has once the plan is applied. */
  readonly keyName: string;
  /** The key it replaces. */
  readonly previousKeyName: string;
  /** `true`: the plan finishes a rotation a crash interrupted (no new key is made). */
  readonly resumed: boolean;
  readonly steps: readonly OrganizationTsigRotationStep[];
}

/** What the rotation needs besides the state: the clusters that sign with the key. @public */
export interface OrganizationTsigRotationDesired extends OrganizationTsigDesired {
  /** The clusters whose ExternalDNS runs the organisation's key (each gets the new one). */
  readonly consumers: readonly string[];
}

/**
 * Pure: the steps that replace the organisation's key, or finish a replacement a crash interrupted.
 * @throws `NOT_FOUND` when the zone does not exist or no usable key is stored (ensure the organisation
 *   first).
 * @public
 */
export function planOrganizationTsigRotation(
  state: OrganizationTsigState,
  desired: OrganizationTsigRotationDesired,
): OrganizationTsigRotationPlan {
  const n = normalise(desired);
  const stored = state.storedKey;
  const current = currentKeyName(n, stored?.name);
  if (
    !state.zoneExists ||
    stored === undefined ||
    stored.name !== current ||
    !USABLE_ALGORITHMS.includes(stored.algorithm)
  ) {
    throw new ZonekeeperError(
      'NOT_FOUND',
      `PowerDNS: organisation ${n.organization} has no TSIG key to rotate${state.zoneExists ? '' : ` (zone ${n.zoneName} does not exist)`}; run ensureOrganization first.`,
      {
        details: {
          organization: n.organization,
          remedy: { operation: 'ensureOrganization', organization: n.organization, when: 'first' },
        },
      },
    );
  }
  const consumers = [...new Set(desired.consumers)].sort();
  const transferOn = n.allowTransfer ?? (state.transferKeys ?? []).includes(current);
  const other = otherKeyName(n, current);
  const steps: OrganizationTsigRotationStep[] = [];
  const overlap = (keyNames: readonly string[]) => {
    if (!same(state.updateKeys, keyNames))
      steps.push({ op: 'set-update-keys', zoneName: n.zoneName, keyNames, reason: 'overlap' });
    if (transferOn && !same(state.transferKeys ?? [], keyNames))
      steps.push({ op: 'set-transfer-keys', zoneName: n.zoneName, keyNames, reason: 'overlap' });
  };
  const publish = (name: string) => {
    if (consumers.length > 0) steps.push({ op: 'publish-key', name, clusterIds: consumers });
  };
  const retire = (name: string, previous: string, previousOnServer: boolean) => {
    steps.push({ op: 'set-update-keys', zoneName: n.zoneName, keyNames: [name], reason: 'retire' });
    if (transferOn)
      steps.push({ op: 'set-transfer-keys', zoneName: n.zoneName, keyNames: [name], reason: 'retire' });
    if (previousOnServer) steps.push({ op: 'delete-key', name: previous, reason: 'previous-key' });
    steps.push({ op: 'forget-previous-key', organization: n.organization, name: previous });
  };

  if (stored.previousName === other) {
    // A rotation stored its new key and stopped. Whether the server has it, whether the metadata admits
    // it and whether every cluster runs it is not known: do what is missing, publish again, retire.
    const server = state.serverKey;
    const serverMatches =
      server !== undefined &&
      server.algorithm === stored.algorithm &&
      server.fingerprint === stored.fingerprint;
    if (!serverMatches) {
      if (server !== undefined) steps.push({ op: 'delete-key', name: current, reason: 'server-key-differs' });
      steps.push({
        op: 'create-key',
        name: current,
        organization: n.organization,
        reason: server === undefined ? 'key-missing' : 'server-key-differs',
      });
    }
    const previousOnServer = state.otherServerKey?.name === other;
    if (previousOnServer && !state.updateKeys.includes(current)) overlap([current, other].sort());
    publish(current);
    const updateDone = same(state.updateKeys, [current]);
    const transferDone = !transferOn || same(state.transferKeys ?? [], [current]);
    if (!updateDone)
      steps.push({ op: 'set-update-keys', zoneName: n.zoneName, keyNames: [current], reason: 'retire' });
    if (!transferDone)
      steps.push({ op: 'set-transfer-keys', zoneName: n.zoneName, keyNames: [current], reason: 'retire' });
    if (previousOnServer) steps.push({ op: 'delete-key', name: other, reason: 'previous-key' });
    steps.push({ op: 'forget-previous-key', organization: n.organization, name: other });
    return {
      organization: n.organization,
      zoneName: n.zoneName,
      keyName: current,
      previousKeyName: other,
      resumed: true,
      steps,
    };
  }

  // A new rotation: the new key takes the other name. A key already there that nothing stored is not
  // ours to adopt (decision 28): it is replaced.
  if (state.otherServerKey !== undefined)
    steps.push({ op: 'delete-key', name: other, reason: 'unknown-key' });
  steps.push({
    op: 'store-key',
    name: other,
    organization: n.organization,
    algorithm: stored.algorithm as TsigAlgorithm,
    cas: stored.version,
    previousName: current,
  });
  steps.push({ op: 'create-key', name: other, organization: n.organization, reason: 'rotation' });
  overlap([current, other].sort());
  publish(other);
  retire(other, current, true);
  return {
    organization: n.organization,
    zoneName: n.zoneName,
    keyName: other,
    previousKeyName: current,
    resumed: false,
    steps,
  };
}

/** What {@link applyOrganizationTsigRotationPlan} needs. @public */
export interface OrganizationTsigRotationDeps {
  readonly admin: PowerDnsAdmin;
  readonly store: TsigKeyStore;
  /**
   * Gives the clusters the new key and waits until they run it (their ExternalDNS rolled out). Must not
   * return before: the old key is retired right after.
   */
  publish(clusterIds: readonly string[], key: StoredOrganizationTsigKey, options: CallOptions): Promise<void>;
}

/**
 * Executes exactly the plan's steps, in order, and returns the stored key afterwards. `stored` is the
 * stored key the plan was made from (with its secret). A new secret is generated here, stored first,
 * and then given to the server and the clusters; it goes nowhere else.
 * @throws `CONFLICT` when the stored key changed since it was read (run again); `INTERNAL` when a step
 *   would delete a key that is not one of the organisation's two names (a bug, never a foreign key).
 * @public
 */
export async function applyOrganizationTsigRotationPlan(
  plan: OrganizationTsigRotationPlan,
  stored: StoredOrganizationTsigKey,
  deps: OrganizationTsigRotationDeps,
  options: CallOptions = {},
): Promise<StoredOrganizationTsigKey> {
  const call = signalOnly(options);
  const ours: readonly string[] = tsigKeyNamesForZone(plan.zoneName);
  let record: StoredOrganizationTsigKey = stored;
  const changed = () =>
    new ZonekeeperError(
      'CONFLICT',
      `PowerDNS: the stored TSIG key of ${plan.organization} changed during its rotation; run again.`,
      { retry: 'transient', details: { keyName: plan.keyName } },
    );
  await applySteps(
    plan.steps,
    async (step) => {
      switch (step.op) {
        case 'delete-key':
          if (!ours.includes(step.name))
            throw new ZonekeeperError(
              'INTERNAL',
              `zonekeeper: refusing to delete TSIG key ${step.name}: it is not a key of ${plan.zoneName}.`,
            );
          await deps.admin.deleteTsigKey(step.name, call);
          return;
        case 'store-key': {
          const secret = randomBytes(SECRET_BYTES[step.algorithm] ?? 32).toString('base64');
          const key = { name: step.name, algorithm: step.algorithm, secret, previousName: step.previousName };
          const { version } = await deps.store.write(step.organization, key, { ...call, cas: step.cas });
          record = { ...key, version };
          return;
        }
        case 'create-key': {
          if (record.name !== step.name) throw changed();
          try {
            await deps.admin.createTsigKey(
              { name: record.name, algorithm: record.algorithm as TsigAlgorithm, secret: record.secret },
              call,
            );
          } catch (error) {
            rethrowIfAborted(call.signal);
            if (!hasErrorCode(error, 'ALREADY_EXISTS')) throw error;
            // A create whose answer was lost: fine if the server holds exactly the stored key.
            const there = await deps.admin.getTsigKey(step.name, call);
            if (
              there === undefined ||
              there.algorithm !== record.algorithm ||
              tsigSecretFingerprint(there.secret) !== tsigSecretFingerprint(record.secret)
            )
              throw error;
          }
          return;
        }
        case 'set-update-keys':
          await deps.admin.setZoneUpdateKeys(step.zoneName, step.keyNames, call);
          return;
        case 'set-transfer-keys':
          await deps.admin.setZoneTransferKeys(step.zoneName, step.keyNames, call);
          return;
        case 'publish-key':
          if (record.name !== step.name) throw changed();
          await deps.publish(step.clusterIds, record, call);
          return;
        case 'forget-previous-key': {
          if (record.previousName !== step.name) throw changed();
          const { previousName: _forgotten, version, ...rest } = record;
          const written = await deps.store.write(step.organization, rest, { ...call, cas: version });
          record = { ...rest, version: written.version };
          return;
        }
      }
    },
    call,
  );
  return record;
}
