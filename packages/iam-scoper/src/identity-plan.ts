/**
 * Pure planners of the identity operations: current state + desired state → steps (JSON data). No
 * I/O, no clock, no randomness, no logging. The operations in `identity.ts` gather the state, call these,
 * and apply the steps.
 *
 * ```
 *  ensure (planZoneIdentity)
 *  user state                                        steps
 *  missing                                           create-user, put-policy
 *  exists, no zonekeeper:managed-by=zonekeeper tag   — (NOT_OWNED: never touched)
 *  ours, but another organisation/cluster/platform   — (CONFLICT: a name collision, never re-tagged)
 *  ours, at another path than /zonekeeper/           — (CONFLICT)
 *  ours, a desired tag missing or different          tag-user (only those tags)
 *  ours, other inline policies present               delete-stale-policies
 *  ours, policy missing or semantically different    put-policy
 *  ours, all equal                                   —
 *
 *  reconcile (planAccessKeyReconciliation): delete-access-key for every key not in the known set
 *  delete (planZoneIdentityDeletion): delete-access-key…, delete-policy…, delete-user
 * ```
 *
 * @packageDocumentation
 */

import { ZonekeeperError } from '@zonekeeper/core';
import { type IamPolicyDocument, minifyPolicy } from './policy.js';

/** The tag keys zonekeeper puts on its IAM users. @public */
export const IDENTITY_TAGS = {
  /** The ownership mark: value `zonekeeper`. A user without it is never modified or deleted. */
  managedBy: 'zonekeeper:managed-by',
  organization: 'zonekeeper:organization',
  /** Only on per-cluster identities. */
  cluster: 'zonekeeper:cluster',
  zoneId: 'zonekeeper:zone-id',
  baseDomain: 'zonekeeper:base-domain',
  /** Only on identities with a single purpose: `acme-challenge` (the ACME DNS-01 solver's). */
  purpose: 'zonekeeper:purpose',
} as const;

/** The value of {@link IDENTITY_TAGS}.purpose on the ACME identity. @public */
export const ACME_IDENTITY_PURPOSE = 'acme-challenge';

/** The value of {@link IDENTITY_TAGS}.managedBy. @public */
export const MANAGED_BY_VALUE = 'zonekeeper';

/** True if the tags carry zonekeeper's ownership mark. @public */
export function isManagedIdentity(tags: Readonly<Record<string, string>> | undefined): boolean {
  return tags?.[IDENTITY_TAGS.managedBy] === MANAGED_BY_VALUE;
}

/**
 * What an identity should look like. A planner that also creates the identity's zone (the zonekeeper
 * facade) plans before the zone id exists: then `policy` is `null` and the zone-id tag's value is `null`,
 * both meaning "known once the zone this plan creates exists", and the steps carry the same `null`s for
 * {@link applyZoneIdentityPlan} to fill in.
 * @public
 */
export interface DesiredZoneIdentity {
  readonly userName: string;
  readonly path: string;
  /** Every tag zonekeeper sets (ownership, organisation, cluster, zone id, base domain). */
  readonly tags: Readonly<Record<string, string | null>>;
  readonly policyName: string;
  readonly policy: IamPolicyDocument | null;
}

/** What the identity looks like now, as gathered. @public */
export interface CurrentZoneIdentity {
  /** Absent when the user does not exist. */
  readonly user?: {
    readonly userName: string;
    readonly path: string;
    readonly tags: Readonly<Record<string, string>>;
  };
  /** Names of the user's inline policies (empty when the user does not exist). */
  readonly policyNames: readonly string[];
  /** The stored document of the desired policy name, as JSON text; absent when there is none. */
  readonly policyDocument?: string;
}

/** A step of {@link planZoneIdentity}. @public */
export type ZoneIdentityStep =
  | {
      readonly op: 'create-user';
      readonly userName: string;
      readonly path: string;
      /** A `null` value: the id of the zone the surrounding plan creates. */
      readonly tags: Readonly<Record<string, string | null>>;
    }
  | {
      readonly op: 'tag-user';
      readonly userName: string;
      /** A `null` value: the id of the zone the surrounding plan creates. */
      readonly tags: Readonly<Record<string, string | null>>;
    }
  | {
      readonly op: 'delete-stale-policies';
      readonly userName: string;
      readonly policyNames: readonly string[];
    }
  | {
      readonly op: 'put-policy';
      readonly userName: string;
      readonly policyName: string;
      /**
       * The minified document sent as `PolicyDocument`; `null` when it is the policy of the zone the
       * surrounding plan creates (built once that zone exists).
       */
      readonly document: string | null;
    };

/** A plan of {@link planZoneIdentity}. @public */
export interface ZoneIdentityPlan {
  readonly steps: readonly ZoneIdentityStep[];
}

/** A step that deletes one access key. @public */
export interface DeleteAccessKeyStep {
  readonly op: 'delete-access-key';
  readonly userName: string;
  readonly accessKeyId: string;
}

/** A plan of {@link planAccessKeyReconciliation}. @public */
export interface AccessKeyReconciliationPlan {
  readonly steps: readonly DeleteAccessKeyStep[];
}

/** A step of {@link planZoneIdentityDeletion}. @public */
export type ZoneIdentityDeletionStep =
  | DeleteAccessKeyStep
  | { readonly op: 'delete-policy'; readonly userName: string; readonly policyName: string }
  | { readonly op: 'delete-user'; readonly userName: string };

/** A plan of {@link planZoneIdentityDeletion}. @public */
export interface ZoneIdentityDeletionPlan {
  readonly steps: readonly ZoneIdentityDeletionStep[];
}

const LIST_KEYS = new Set(['Action', 'NotAction', 'Resource', 'NotResource']);

function canonical(value: unknown, key?: string): unknown {
  if (Array.isArray(value)) {
    const items = value.map((v) => canonical(v));
    // Sets in IAM's grammar: order and duplicates carry no meaning. Statements too.
    const texts = [...new Set(items.map((v) => JSON.stringify(v)))].sort();
    return texts.map((t) => JSON.parse(t) as unknown);
  }
  if (typeof value === 'string') {
    if (key !== undefined && LIST_KEYS.has(key)) {
      return [key.endsWith('Action') ? value.toLowerCase() : value];
    }
    return value;
  }
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (k === 'Statement' && !Array.isArray(v)) out[k] = canonical([v]);
      else if (k === 'Condition' && typeof v === 'object' && v !== null) {
        // Condition operator → key → value(s): a single value equals a one-element list.
        const ops: Record<string, unknown> = {};
        for (const op of Object.keys(v).sort()) {
          const keys = (v as Record<string, unknown>)[op];
          const byKey: Record<string, unknown> = {};
          if (typeof keys === 'object' && keys !== null) {
            for (const ck of Object.keys(keys).sort()) {
              const cv = (keys as Record<string, unknown>)[ck];
              byKey[ck] = canonical(Array.isArray(cv) ? cv : [cv]);
            }
          }
          ops[op] = byKey;
        }
        out[k] = ops;
      } else if (LIST_KEYS.has(k) && Array.isArray(v)) {
        out[k] = canonical(
          k.endsWith('Action') ? v.map((a) => (typeof a === 'string' ? a.toLowerCase() : a)) : v,
        );
      } else out[k] = canonical(v, k);
    }
    return out;
  }
  return value;
}

/**
 * True if two policy documents mean the same: compared as parsed JSON, where statement order, the order
 * of actions, resources and condition values, duplicates, a single string versus a one-element list,
 * and the case of action names do not matter. Text that is not JSON is never equal to anything.
 * @public
 */
export function samePolicyDocument(a: string | object, b: string | object): boolean {
  const parse = (x: string | object): unknown => {
    if (typeof x !== 'string') return x;
    try {
      return JSON.parse(x);
    } catch {
      return undefined;
    }
  };
  const pa = parse(a);
  const pb = parse(b);
  if (pa === undefined || pb === undefined) return false;
  return JSON.stringify(canonical(pa)) === JSON.stringify(canonical(pb));
}

/**
 * Plans {@link ensureZoneIdentity}: see the module table. Pure.
 * @throws `NOT_OWNED` when the user exists without zonekeeper's ownership tag; `CONFLICT` when it is
 *   ours but belongs to another organisation, cluster or platform (tags differ), or lives at another path.
 * @public
 */
export function planZoneIdentity(
  current: CurrentZoneIdentity,
  desired: DesiredZoneIdentity,
): ZoneIdentityPlan {
  const document = desired.policy === null ? null : minifyPolicy(desired.policy);
  const user = current.user;
  if (!user) {
    return {
      steps: [
        { op: 'create-user', userName: desired.userName, path: desired.path, tags: { ...desired.tags } },
        { op: 'put-policy', userName: desired.userName, policyName: desired.policyName, document },
      ],
    };
  }
  if (!isManagedIdentity(user.tags)) {
    throw new ZonekeeperError(
      'NOT_OWNED',
      `IAM user ${user.userName} exists but does not carry the tag ${IDENTITY_TAGS.managedBy}=${MANAGED_BY_VALUE}, so zonekeeper will not touch it. Rename or delete that user, or tag it if it really is zonekeeper's.`,
      { details: { userName: user.userName } },
    );
  }
  for (const key of [
    IDENTITY_TAGS.organization,
    IDENTITY_TAGS.cluster,
    IDENTITY_TAGS.baseDomain,
    IDENTITY_TAGS.purpose,
  ]) {
    const have = user.tags[key];
    const want = desired.tags[key];
    if (have !== undefined && have !== want) {
      throw new ZonekeeperError(
        'CONFLICT',
        `IAM user ${user.userName} is zonekeeper's but belongs to ${key}=${have}, not ${want ?? '(none)'}: its name collides with this identity's. Delete it if it is stale; zonekeeper will not re-assign it.`,
        {
          details: {
            userName: user.userName,
            tag: key,
            found: have,
            ...(want === undefined ? {} : { expected: want }),
          },
        },
      );
    }
  }
  if (user.path !== desired.path) {
    throw new ZonekeeperError(
      'CONFLICT',
      `IAM user ${user.userName} is zonekeeper's but lives at path ${user.path}, not ${desired.path}, so listZoneIdentities cannot find it. Move it (aws iam update-user --new-path ${desired.path}) or delete it.`,
      { details: { userName: user.userName, path: user.path, expectedPath: desired.path } },
    );
  }

  const steps: ZoneIdentityStep[] = [];
  const missingTags: Record<string, string | null> = {};
  for (const [key, value] of Object.entries(desired.tags))
    if (user.tags[key] !== value) missingTags[key] = value;
  if (Object.keys(missingTags).length > 0)
    steps.push({ op: 'tag-user', userName: user.userName, tags: missingTags });
  const stale = current.policyNames.filter((name) => name !== desired.policyName);
  if (stale.length > 0) {
    // Before put-policy: the user's inline policies share one 2,048-character budget.
    steps.push({ op: 'delete-stale-policies', userName: user.userName, policyNames: [...stale].sort() });
  }
  const stored = current.policyNames.includes(desired.policyName) ? current.policyDocument : undefined;
  if (stored === undefined || desired.policy === null || !samePolicyDocument(stored, desired.policy)) {
    steps.push({ op: 'put-policy', userName: user.userName, policyName: desired.policyName, document });
  }
  return { steps };
}

/**
 * Plans {@link reconcileAccessKeys}: one `delete-access-key` step for every key of the user whose id is
 * not in `knownAccessKeyIds`, in the order listed. Pure.
 * @public
 */
export function planAccessKeyReconciliation(input: {
  readonly userName: string;
  readonly accessKeyIds: readonly string[];
  readonly knownAccessKeyIds: readonly string[];
}): AccessKeyReconciliationPlan {
  const known = new Set(input.knownAccessKeyIds);
  return {
    steps: input.accessKeyIds
      .filter((id) => !known.has(id))
      .map((accessKeyId) => ({ op: 'delete-access-key' as const, userName: input.userName, accessKeyId })),
  };
}

/**
 * Plans {@link deleteZoneIdentity}: every access key, then every inline policy, then the user (IAM
 * refuses to delete a user that still has either). Nothing when the user is gone. Pure.
 * @throws `NOT_OWNED` when the user exists without zonekeeper's ownership tag.
 * @public
 */
export function planZoneIdentityDeletion(input: {
  readonly userName: string;
  /** Absent when the user does not exist. */
  readonly user?: { readonly tags: Readonly<Record<string, string>> };
  readonly accessKeyIds: readonly string[];
  readonly policyNames: readonly string[];
}): ZoneIdentityDeletionPlan {
  if (!input.user) return { steps: [] };
  if (!isManagedIdentity(input.user.tags)) {
    throw new ZonekeeperError(
      'NOT_OWNED',
      `IAM user ${input.userName} does not carry the tag ${IDENTITY_TAGS.managedBy}=${MANAGED_BY_VALUE}, so zonekeeper will not delete it.`,
      { details: { userName: input.userName } },
    );
  }
  const { userName } = input;
  return {
    steps: [
      ...input.accessKeyIds.map((accessKeyId) => ({
        op: 'delete-access-key' as const,
        userName,
        accessKeyId,
      })),
      ...[...input.policyNames]
        .sort()
        .map((policyName) => ({ op: 'delete-policy' as const, userName, policyName })),
      { op: 'delete-user' as const, userName },
    ],
  };
}
