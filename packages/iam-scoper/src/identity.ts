/**
 * The identity operations: an IAM user per organisation (or per cluster) carrying the zone policy, and
 * its access keys. Each one validates everything first (`INVALID_INPUT` before any remote call), then
 * gathers, plans with a pure planner (`identity-plan.ts`) and applies with `applySteps`.
 *
 * Ownership: a user without the tag `zonekeeper:managed-by=zonekeeper` is never modified, given a key or
 * deleted (`NOT_OWNED`).
 *
 * Crash safety of access keys (the invariant "no IAM access key that Vault does not know"): the secret of
 * a key exists only in the return value of `createAccessKey`. If the process dies after IAM created a key
 * and before the caller stored it, that key is unknown. {@link reconcileAccessKeys} with the ids the
 * caller knows (those in Vault) deletes every other key; run it before issuing or rotating.
 *
 * @packageDocumentation
 */

import {
  applySteps,
  type CallOptions,
  describeValue,
  type EnsureOptions,
  ensure,
  hasErrorCode,
  invalidInput,
  type Logger,
  noopLogger,
  normalizeBaseDomain,
  normalizeDomainName,
  type RuntimeDeps,
  signalOnly,
  throwIfAborted,
  validateClusterId,
  validateOrganizationName,
  ZonekeeperError,
} from '@zonekeeper/core';
import { buildAcmeChallengePolicy } from './acme-policy.js';
import {
  ACME_IDENTITY_PURPOSE,
  type AccessKeyReconciliationPlan,
  type CurrentZoneIdentity,
  type DesiredZoneIdentity,
  IDENTITY_TAGS,
  isManagedIdentity,
  MANAGED_BY_VALUE,
  planAccessKeyReconciliation,
  planZoneIdentity,
  planZoneIdentityDeletion,
  type ZoneIdentityDeletionPlan,
  type ZoneIdentityPlan,
} from './identity-plan.js';
import type { AccessKey, AccessKeyMetadata, IdentityProvider, IdentityUser } from './identity-ports.js';
import { validateAccessKeyId, validateUserName } from './identity-validation.js';
import {
  acmeIdentityPolicyName,
  acmeIdentityUserName,
  IDENTITY_PATH,
  identityPolicyName,
  identityUserName,
  identityUserNamePrefix,
} from './naming.js';
import {
  buildZonePolicy,
  clusterRecordNames,
  minifyPolicy,
  normalizeHostedZoneId,
  type WritableRecordType,
} from './policy.js';

/** Dependencies of the identity operations. @public */
export interface IdentityDeps extends RuntimeDeps {
  /** The IAM port: `createIamIdentityProvider()` (`@zonekeeper/iam-scoper/iam`) or `createMemoryIdentityProvider()`. */
  readonly identity: IdentityProvider;
}

/** Input of {@link ensureZoneIdentity}. @public */
export interface EnsureZoneIdentityInput {
  /** The platform's base domain, e.g. `example.com`. */
  readonly baseDomain: string;
  /** The organisation, a lowercase DNS label. */
  readonly organization: string;
  /**
   * Omit for the organisation's identity (Pipeline's model: the whole zone). Set it for a per-cluster
   * identity whose policy covers only `<cluster>.<zone>` and the names below it ({@link clusterRecordNames}).
   */
  readonly clusterId?: string | undefined;
  /** The organisation's hosted zone id (`Z…` or `/hostedzone/Z…`). */
  readonly zoneId: string;
  /** The organisation's zone name; must be `<organization>.<baseDomain>`. */
  readonly zoneName: string;
  /** Record types the identity may change (default `A`, `AAAA`, `CNAME`, `TXT`). */
  readonly recordTypes?: readonly WritableRecordType[] | undefined;
}

/** Result of {@link ensureZoneIdentity}. @public */
export interface EnsureZoneIdentityResult {
  /** The steps planned (and applied, unless `dryRun`). Empty when the identity was already as desired. */
  readonly plan: ZoneIdentityPlan;
  readonly userName: string;
  readonly policyName: string;
  readonly dryRun: boolean;
}

/** Options of the operations that only read or create secrets (no plan to dry-run). @public */
export type IdentityCallOptions = CallOptions;

function loggerOf(deps: IdentityDeps): Logger {
  return deps.logger ?? noopLogger;
}

function requireObject(value: unknown, what: string): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidInput(`${what} must be an object, got ${describeValue(value)}.`);
  }
}

function validateDeps(deps: unknown, fn: string): IdentityDeps {
  const identity = (deps as { identity?: unknown } | null | undefined)?.identity as
    | Partial<IdentityProvider>
    | undefined;
  if (typeof identity !== 'object' || identity === null || typeof identity.getUser !== 'function') {
    throw invalidInput(
      `${fn}: deps.identity must be an IdentityProvider (createIamIdentityProvider() or createMemoryIdentityProvider()).`,
    );
  }
  return deps as IdentityDeps;
}

/**
 * The desired identity of {@link ensureZoneIdentity}'s input, fully validated (`INVALID_INPUT`). Pure.
 * With `zoneId: null` (a caller that plans the zone's creation in the same plan), the policy and the
 * zone-id tag are `null`: see {@link DesiredZoneIdentity}.
 * @public
 */
export function desiredZoneIdentity(
  input: Omit<EnsureZoneIdentityInput, 'zoneId'> & { readonly zoneId: string | null },
): DesiredZoneIdentity {
  requireObject(input, 'ensureZoneIdentity input');
  const baseDomain = normalizeBaseDomain(input.baseDomain);
  const organization = validateOrganizationName(input.organization);
  const clusterId = input.clusterId === undefined ? undefined : validateClusterId(input.clusterId);
  const zoneId = input.zoneId === null ? null : normalizeHostedZoneId(input.zoneId);
  const zoneName = normalizeDomainName(input.zoneName, 'Zone name');
  if (zoneName !== `${organization}.${baseDomain}`) {
    throw invalidInput(
      `Zone name ${JSON.stringify(zoneName)} is not the zone of organisation ${JSON.stringify(organization)} under ${JSON.stringify(baseDomain)}; expected ${JSON.stringify(`${organization}.${baseDomain}`)}.`,
      { zoneName, organization, baseDomain },
    );
  }
  const recordNames = clusterId === undefined ? undefined : clusterRecordNames(zoneName, clusterId);
  // Built (and so validated: record names, types, the size budget) even when the zone id is not known
  // yet; then with a syntactically valid stand-in id that is discarded, never planned or sent.
  const policy = buildZonePolicy({
    zoneId: zoneId ?? 'ZVALIDATIONONLY',
    zoneName,
    recordNames,
    recordTypes: input.recordTypes,
  });
  const who = { baseDomain, organization, clusterId };
  return {
    userName: identityUserName(who),
    path: IDENTITY_PATH,
    policyName: identityPolicyName(who),
    policy: zoneId === null ? null : policy,
    tags: {
      [IDENTITY_TAGS.managedBy]: MANAGED_BY_VALUE,
      [IDENTITY_TAGS.organization]: organization,
      ...(clusterId === undefined ? {} : { [IDENTITY_TAGS.cluster]: clusterId }),
      [IDENTITY_TAGS.zoneId]: zoneId,
      [IDENTITY_TAGS.baseDomain]: baseDomain,
    },
  };
}

/** Input of {@link desiredAcmeIdentity}. @public */
export interface DesiredAcmeIdentityInput {
  readonly baseDomain: string;
  readonly organization: string;
  /** The organisation's zone, `<organization>.<baseDomain>`. */
  readonly zoneName: string;
  /** The zone's id; `null` when the surrounding plan creates the zone (see {@link DesiredZoneIdentity}). */
  readonly zoneId: string | null;
}

/**
 * The desired ACME identity of an organisation: the IAM user `acmeIdentityUserName(…)` under
 * `/zonekeeper/`, tagged like the organisation's identity plus `zonekeeper:purpose=acme-challenge`,
 * carrying exactly one inline policy, the TXT-only `buildAcmeChallengePolicy` of the zone. Plan and
 * apply it with {@link planZoneIdentity} and {@link applyZoneIdentityPlan}, like any zone identity: a user
 * at that name without zonekeeper's tag is `NOT_OWNED`, one of another organisation, platform or
 * purpose a `CONFLICT`. Pure; `INVALID_INPUT` for invalid input.
 * @public
 */
export function desiredAcmeIdentity(input: DesiredAcmeIdentityInput): DesiredZoneIdentity {
  requireObject(input, 'desiredAcmeIdentity input');
  const baseDomain = normalizeBaseDomain(input.baseDomain);
  const organization = validateOrganizationName(input.organization);
  const zoneId = input.zoneId === null ? null : normalizeHostedZoneId(input.zoneId);
  const zoneName = normalizeDomainName(input.zoneName, 'Zone name');
  if (zoneName !== `${organization}.${baseDomain}`) {
    throw invalidInput(
      `Zone name ${JSON.stringify(zoneName)} is not the zone of organisation ${JSON.stringify(organization)} under ${JSON.stringify(baseDomain)}; expected ${JSON.stringify(`${organization}.${baseDomain}`)}.`,
      { zoneName, organization, baseDomain },
    );
  }
  // Built (and so validated) even before the zone exists, with a stand-in id that is discarded.
  const policy = buildAcmeChallengePolicy({ zoneId: zoneId ?? 'ZVALIDATIONONLY', zoneName });
  const who = { baseDomain, organization };
  return {
    userName: acmeIdentityUserName(who),
    path: IDENTITY_PATH,
    policyName: acmeIdentityPolicyName(who),
    policy: zoneId === null ? null : policy,
    tags: {
      [IDENTITY_TAGS.managedBy]: MANAGED_BY_VALUE,
      [IDENTITY_TAGS.organization]: organization,
      [IDENTITY_TAGS.zoneId]: zoneId,
      [IDENTITY_TAGS.baseDomain]: baseDomain,
      [IDENTITY_TAGS.purpose]: ACME_IDENTITY_PURPOSE,
    },
  };
}

/**
 * Reads what {@link planZoneIdentity} needs: the user, its inline policy names and the desired policy's
 * stored document (only for a user that carries zonekeeper's tag).
 * @public
 */
export async function gatherZoneIdentity(
  desired: Pick<DesiredZoneIdentity, 'userName' | 'policyName'>,
  identity: IdentityProvider,
  options: CallOptions = {},
): Promise<CurrentZoneIdentity> {
  const call = signalOnly(options);
  const user = await identity.getUser(desired.userName, call);
  let policyNames: readonly string[] = [];
  let policyDocument: string | undefined;
  if (user && isManagedIdentity(user.tags)) {
    policyNames = await identity.listUserPolicies(desired.userName, call);
    if (policyNames.includes(desired.policyName)) {
      policyDocument = await identity.getUserPolicy(desired.userName, desired.policyName, call);
    }
  }
  return {
    ...(user ? { user: { userName: user.userName, path: user.path, tags: user.tags } } : {}),
    policyNames,
    ...(policyDocument === undefined ? {} : { policyDocument }),
  };
}

/** A desired identity without `null`s: the zone is known. */
function resolvedDesired(desired: DesiredZoneIdentity): {
  tags: Readonly<Record<string, string>>;
  document: string;
} {
  if (desired.policy === null || Object.values(desired.tags).some((v) => v === null))
    throw new ZonekeeperError(
      'INTERNAL',
      `IAM identity ${desired.userName}: applying needs the zone id, and the desired identity has none.`,
    );
  return { tags: desired.tags as Readonly<Record<string, string>>, document: minifyPolicy(desired.policy) };
}

/**
 * Executes a plan of {@link planZoneIdentity} exactly as planned. `desired` is the identity with every
 * value known: a plan made before its zone existed carries `null`s, which are taken from it.
 * @public
 */
export async function applyZoneIdentityPlan(
  plan: ZoneIdentityPlan,
  desired: DesiredZoneIdentity,
  deps: IdentityDeps,
  options: CallOptions = {},
): Promise<void> {
  const { identity } = validateDeps(deps, 'applyZoneIdentityPlan');
  const logger = loggerOf(deps);
  const call = signalOnly(options);
  const known = resolvedDesired(desired);
  const fill = (tags: Readonly<Record<string, string | null>>): Record<string, string> =>
    Object.fromEntries(Object.entries(tags).map(([k, v]) => [k, v ?? (known.tags[k] as string)]));
  await applySteps(
    plan.steps,
    async (step) => {
      switch (step.op) {
        case 'create-user':
          try {
            await identity.createUser(
              { userName: step.userName, path: step.path, tags: fill(step.tags) },
              call,
            );
          } catch (error) {
            if (!hasErrorCode(error, 'ALREADY_EXISTS')) throw error;
            await adoptUser(identity, { ...desired, tags: known.tags }, call);
          }
          break;
        case 'tag-user':
          await identity.tagUser(step.userName, fill(step.tags), call);
          break;
        case 'delete-stale-policies':
          for (const name of step.policyNames) {
            throwIfAborted(options.signal);
            await ignoreNotFound(identity.deleteUserPolicy(step.userName, name, call));
          }
          break;
        case 'put-policy':
          await identity.putUserPolicy(step.userName, step.policyName, step.document ?? known.document, call);
          break;
      }
    },
    { ...call, logger },
  );
  if (plan.steps.length > 0) {
    logger.info(
      `IAM identity ${desired.userName}: applied ${plan.steps.map((s) => s.op).join(', ')} (${identity.kind}).`,
    );
  }
}

/**
 * Creates or repairs the IAM identity of an organisation (or of one of its clusters): the user
 * `identityUserName(…)` under `/zonekeeper/` with zonekeeper's tags, carrying exactly one inline policy,
 * `buildZonePolicy(…)`, named `identityPolicyName(…)`.
 *
 * Steps: `create-user`, `tag-user` (missing or changed tags, e.g. a new zone id), `delete-stale-policies`
 * (other inline policies on the user), `put-policy` (only if the stored document differs semantically).
 * A second run plans nothing and makes no write call. A `create-user` that meets an existing user (a
 * concurrent run, or a retried request IAM had already applied) adopts it if it carries zonekeeper's tag.
 *
 * @throws `INVALID_INPUT` (before any remote call) for an invalid base domain, organisation, cluster id,
 *   zone id, zone name (it must be `<organization>.<baseDomain>`) or record type; `NOT_OWNED` if a user of
 *   that name exists without zonekeeper's tag; `CONFLICT` if it is zonekeeper's but tagged for another
 *   organisation, cluster or platform, or lives at another path; adapter errors (`THROTTLED`,
 *   `UNAVAILABLE`, `PERMISSION_DENIED`, …) as thrown by the provider. Re-run after a failure: it converges.
 * @public
 */
export async function ensureZoneIdentity(
  input: EnsureZoneIdentityInput,
  deps: IdentityDeps,
  options: EnsureOptions = {},
): Promise<EnsureZoneIdentityResult> {
  const desired = desiredZoneIdentity(input);
  const { identity } = validateDeps(deps, 'ensureZoneIdentity');
  const outcome = await ensure(
    {
      gather: (call) => gatherZoneIdentity(desired, identity, call),
      plan: (current) => planZoneIdentity(current, desired),
      apply: (plan, _current, call) => applyZoneIdentityPlan(plan, desired, deps, call),
    },
    options,
  );
  return {
    plan: outcome.plan,
    userName: desired.userName,
    policyName: desired.policyName,
    dryRun: outcome.dryRun,
  };
}

/** `create-user` met an existing user: adopt it if it is ours and matches, else refuse. */
async function adoptUser(
  identity: IdentityProvider,
  desired: DesiredZoneIdentity,
  call: CallOptions,
): Promise<void> {
  const existing = await identity.getUser(desired.userName, call);
  if (!existing) {
    throw new ZonekeeperError(
      'CONFLICT',
      `IAM: user ${desired.userName} was reported to exist, then could not be read (it is being created or deleted concurrently). Run ensureZoneIdentity again.`,
      {
        retry: 'transient',
        details: { userName: desired.userName, remedy: { operation: 'ensureZoneIdentity', when: 'again' } },
      },
    );
  }
  // Throws NOT_OWNED / CONFLICT exactly like a fresh plan would.
  const plan = planZoneIdentity(
    { user: { userName: existing.userName, path: existing.path, tags: existing.tags }, policyNames: [] },
    desired,
  );
  const tagStep = plan.steps.find((s) => s.op === 'tag-user');
  // `desired` has every value known here, so the tags hold no null.
  if (tagStep) await identity.tagUser(desired.userName, tagStep.tags as Record<string, string>, call);
}

async function ignoreNotFound(promise: Promise<void>): Promise<boolean> {
  try {
    await promise;
    return true;
  } catch (error) {
    if (hasErrorCode(error, 'NOT_FOUND')) return false;
    throw error;
  }
}

/** Reads the user and checks zonekeeper owns it. */
async function ownedUser(
  identity: IdentityProvider,
  userName: string,
  action: string,
  call: CallOptions,
): Promise<IdentityUser> {
  const user = await identity.getUser(userName, call);
  if (!user) {
    throw new ZonekeeperError(
      'NOT_FOUND',
      `IAM user ${userName} does not exist, so zonekeeper cannot ${action}. Create it with ensureZoneIdentity first.`,
      { details: { userName, remedy: { operation: 'ensureZoneIdentity', when: 'first' } } },
    );
  }
  if (!isManagedIdentity(user.tags)) {
    throw new ZonekeeperError(
      'NOT_OWNED',
      `IAM user ${userName} does not carry the tag ${IDENTITY_TAGS.managedBy}=${MANAGED_BY_VALUE}, so zonekeeper will not ${action}.`,
      { details: { userName } },
    );
  }
  return user;
}

function keyLimitError(userName: string, keys: readonly AccessKeyMetadata[], next: string): ZonekeeperError {
  return new ZonekeeperError(
    'CONFLICT',
    `IAM user ${userName} already has ${keys.length} access keys (${keys.map((k) => k.accessKeyId).join(', ')}), IAM's maximum of 2. ${next}`,
    { details: { userName, accessKeyIds: keys.map((k) => k.accessKeyId) } },
  );
}

/**
 * Creates an access key for a zonekeeper user. The secret is only in the returned object (IAM never shows
 * it again): store it (Vault) before anything else, and never log it. Not a plan: there is no dry run.
 *
 * Crash safety: if the process dies before the caller stored the key, the key is unknown to the caller;
 * {@link reconcileAccessKeys} with the known ids deletes it. When IAM's answer is lost (network, 5xx) the
 * IAM adapter does not retry `CreateAccessKey`, so at most one unknown key is created per call.
 *
 * @throws `INVALID_INPUT` (before any remote call); `NOT_FOUND` if the user does not exist; `NOT_OWNED`
 *   without zonekeeper's tag; `CONFLICT` if the user already has two keys (IAM's limit; reconcile first).
 * @public
 */
export async function issueAccessKey(
  input: { readonly userName: string },
  deps: IdentityDeps,
  options: IdentityCallOptions = {},
): Promise<AccessKey> {
  requireObject(input, 'issueAccessKey input');
  const userName = validateUserName(input.userName);
  const { identity } = validateDeps(deps, 'issueAccessKey');
  const call = signalOnly(options);
  await ownedUser(identity, userName, 'issue it an access key', call);
  const keys = await identity.listAccessKeys(userName, call);
  if (keys.length >= 2) {
    throw keyLimitError(
      userName,
      keys,
      'Delete the keys zonekeeper does not know with reconcileAccessKeys (pass the ids stored in Vault), then issue again.',
    );
  }
  throwIfAborted(options.signal);
  const key = await identity.createAccessKey(userName, call);
  loggerOf(deps).info(`IAM user ${userName}: issued access key ${key.accessKeyId}.`);
  return key;
}

/** Result of {@link revokeAccessKey}. @public */
export interface RevokeAccessKeyResult {
  /** True if the key existed (and, unless `dryRun`, was deleted). */
  readonly revoked: boolean;
  readonly dryRun: boolean;
}

/**
 * Deletes one access key of a zonekeeper user. Idempotent: a key that is already gone is fine
 * (`revoked: false`). A dry run lists the user's keys and says whether a real run would delete one.
 * @throws `INVALID_INPUT` (before any remote call); `NOT_FOUND` if the user does not exist; `NOT_OWNED`.
 * @public
 */
export async function revokeAccessKey(
  input: { readonly userName: string; readonly accessKeyId: string },
  deps: IdentityDeps,
  options: EnsureOptions = {},
): Promise<RevokeAccessKeyResult> {
  requireObject(input, 'revokeAccessKey input');
  const userName = validateUserName(input.userName);
  const accessKeyId = validateAccessKeyId(input.accessKeyId);
  const { identity } = validateDeps(deps, 'revokeAccessKey');
  const outcome = await ensure(
    {
      gather: async (call) => {
        await ownedUser(identity, userName, 'revoke its access key', call);
        return (await identity.listAccessKeys(userName, call)).map((k) => k.accessKeyId);
      },
      // Every listed key except the one to revoke counts as known: the plan deletes that one only.
      plan: (accessKeyIds) =>
        planAccessKeyReconciliation({
          userName,
          accessKeyIds: accessKeyIds.filter((id) => id === accessKeyId),
          knownAccessKeyIds: [],
        }),
      apply: (plan, _ids, call) => deleteAccessKeys(identity, plan, loggerOf(deps), call),
    },
    options,
  );
  const revoked = outcome.dryRun ? outcome.plan.steps.length > 0 : outcome.applied.length > 0;
  if (!outcome.dryRun && revoked)
    loggerOf(deps).info(`IAM user ${userName}: revoked access key ${accessKeyId}.`);
  return { revoked, dryRun: outcome.dryRun };
}

/** Executes a reconciliation plan; returns the ids actually deleted (a key already gone is skipped). */
async function deleteAccessKeys(
  identity: IdentityProvider,
  plan: AccessKeyReconciliationPlan,
  logger: Logger,
  call: CallOptions,
): Promise<readonly string[]> {
  const deleted: string[] = [];
  await applySteps(
    plan.steps,
    async (step) => {
      if (await ignoreNotFound(identity.deleteAccessKey(step.userName, step.accessKeyId, call)))
        deleted.push(step.accessKeyId);
    },
    { ...call, logger },
  );
  return deleted;
}

/** Result of {@link reconcileAccessKeys}. @public */
export interface ReconcileAccessKeysResult {
  readonly plan: AccessKeyReconciliationPlan;
  /** Ids of the keys deleted (empty in a dry run). */
  readonly deleted: readonly string[];
  readonly dryRun: boolean;
}

/**
 * Deletes every access key of a zonekeeper user that is not in `knownAccessKeyIds` (the ids stored in
 * Vault): the repair after a crash between creating a key and storing it. An empty known set deletes
 * every key. After a successful run, planning again yields no steps.
 * @throws `INVALID_INPUT` (before any remote call); `NOT_FOUND` if the user does not exist; `NOT_OWNED`.
 * @public
 */
export async function reconcileAccessKeys(
  input: { readonly userName: string; readonly knownAccessKeyIds: readonly string[] },
  deps: IdentityDeps,
  options: EnsureOptions = {},
): Promise<ReconcileAccessKeysResult> {
  requireObject(input, 'reconcileAccessKeys input');
  const userName = validateUserName(input.userName);
  if (!Array.isArray(input.knownAccessKeyIds)) {
    throw invalidInput(
      `knownAccessKeyIds must be an array of access key ids (empty to delete every key), got ${describeValue(input.knownAccessKeyIds)}.`,
    );
  }
  const known = input.knownAccessKeyIds.map((id, i) => validateAccessKeyId(id, `knownAccessKeyIds[${i}]`));
  const { identity } = validateDeps(deps, 'reconcileAccessKeys');
  const logger = loggerOf(deps);
  const outcome = await ensure(
    {
      gather: async (call) => {
        await ownedUser(identity, userName, 'reconcile its access keys', call);
        return (await identity.listAccessKeys(userName, call)).map((k) => k.accessKeyId);
      },
      plan: (accessKeyIds) =>
        planAccessKeyReconciliation({ userName, accessKeyIds, knownAccessKeyIds: known }),
      apply: (plan, _ids, call) => deleteAccessKeys(identity, plan, logger, call),
    },
    options,
  );
  if (outcome.dryRun) return { plan: outcome.plan, deleted: [], dryRun: true };
  if (outcome.applied.length > 0) {
    logger.warn(
      `IAM user ${userName}: deleted access key(s) unknown to the caller: ${outcome.applied.join(', ')}.`,
    );
  }
  return { plan: outcome.plan, deleted: outcome.applied, dryRun: false };
}

/** Result of {@link deleteZoneIdentity}. @public */
export interface DeleteZoneIdentityResult {
  readonly plan: ZoneIdentityDeletionPlan;
  readonly dryRun: boolean;
}

/**
 * Deletes a zonekeeper identity: its access keys, then its inline policies, then the user. Idempotent:
 * a user that is already gone gives an empty plan. A user with things zonekeeper does not manage
 * (attached managed policies, a login profile, MFA devices, groups) cannot be deleted: IAM's
 * `DeleteConflict` surfaces as `CONFLICT`.
 * @throws `INVALID_INPUT` (before any remote call); `NOT_OWNED` without zonekeeper's tag; `CONFLICT`.
 * @public
 */
export async function deleteZoneIdentity(
  input: { readonly userName: string },
  deps: IdentityDeps,
  options: EnsureOptions = {},
): Promise<DeleteZoneIdentityResult> {
  requireObject(input, 'deleteZoneIdentity input');
  const userName = validateUserName(input.userName);
  const { identity } = validateDeps(deps, 'deleteZoneIdentity');
  const logger = loggerOf(deps);
  const outcome = await ensure(
    {
      gather: async (call) => {
        const user = await identity.getUser(userName, call);
        if (!user || !isManagedIdentity(user.tags))
          return {
            userName,
            ...(user ? { user: { tags: user.tags } } : {}),
            accessKeyIds: [],
            policyNames: [],
          };
        const accessKeyIds = (await identity.listAccessKeys(userName, call)).map((k) => k.accessKeyId);
        const policyNames = await identity.listUserPolicies(userName, call);
        return { userName, user: { tags: user.tags }, accessKeyIds, policyNames };
      },
      plan: (state) => planZoneIdentityDeletion(state),
      apply: async (plan, _state, call) => {
        await applySteps(
          plan.steps,
          async (step) => {
            switch (step.op) {
              case 'delete-access-key':
                await ignoreNotFound(identity.deleteAccessKey(step.userName, step.accessKeyId, call));
                break;
              case 'delete-policy':
                await ignoreNotFound(identity.deleteUserPolicy(step.userName, step.policyName, call));
                break;
              case 'delete-user':
                await ignoreNotFound(identity.deleteUser(step.userName, call));
                break;
            }
          },
          { ...call, logger },
        );
        if (plan.steps.length > 0)
          logger.info(`IAM identity ${userName}: deleted (${plan.steps.length} steps).`);
      },
    },
    options,
  );
  return { plan: outcome.plan, dryRun: outcome.dryRun };
}

/** A zonekeeper identity as listed by {@link listZoneIdentities}. @public */
export interface ZoneIdentity {
  readonly userName: string;
  readonly arn: string;
  readonly createdAt: Date;
  readonly baseDomain: string;
  readonly organization: string;
  /** Present for per-cluster identities. */
  readonly clusterId?: string;
  /** The zone id the identity was last ensured for. */
  readonly zoneId?: string;
  /** Present on single-purpose identities: `acme-challenge` for the ACME identity. */
  readonly purpose?: string;
  readonly tags: Readonly<Record<string, string>>;
}

/**
 * Lists zonekeeper's identities of one platform (base domain), optionally of one organisation: users
 * under `/zonekeeper/` whose name starts with `identityUserNamePrefix(baseDomain)` and that carry
 * zonekeeper's ownership tag and the platform's base-domain tag. Sorted by user name. The garbage
 * collector uses it to find an organisation's identities. The IAM adapter reads each user's tags with
 * one extra call per user under the path.
 * @throws `INVALID_INPUT` (before any remote call) for an invalid base domain or organisation.
 * @public
 */
export async function listZoneIdentities(
  input: { readonly baseDomain: string; readonly organization?: string | undefined },
  deps: IdentityDeps,
  options: IdentityCallOptions = {},
): Promise<readonly ZoneIdentity[]> {
  requireObject(input, 'listZoneIdentities input');
  const baseDomain = normalizeBaseDomain(input.baseDomain);
  const organization =
    input.organization === undefined ? undefined : validateOrganizationName(input.organization);
  const prefix = identityUserNamePrefix(baseDomain);
  const { identity } = validateDeps(deps, 'listZoneIdentities');
  const users = await identity.listUsers(IDENTITY_PATH, signalOnly(options));
  const out: ZoneIdentity[] = [];
  for (const user of users) {
    const t = user.tags;
    const org = t[IDENTITY_TAGS.organization];
    if (
      user.path !== IDENTITY_PATH ||
      !user.userName.startsWith(prefix) ||
      !isManagedIdentity(t) ||
      t[IDENTITY_TAGS.baseDomain] !== baseDomain ||
      org === undefined ||
      (organization !== undefined && org !== organization)
    ) {
      continue;
    }
    const cluster = t[IDENTITY_TAGS.cluster];
    const zoneId = t[IDENTITY_TAGS.zoneId];
    const purpose = t[IDENTITY_TAGS.purpose];
    out.push({
      userName: user.userName,
      arn: user.arn,
      createdAt: user.createdAt,
      baseDomain,
      organization: org,
      ...(cluster === undefined ? {} : { clusterId: cluster }),
      ...(zoneId === undefined ? {} : { zoneId }),
      ...(purpose === undefined ? {} : { purpose }),
      tags: { ...t },
    });
  }
  return out.sort((a, b) => (a.userName < b.userName ? -1 : a.userName > b.userName ? 1 : 0));
}
