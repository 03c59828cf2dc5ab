/**
 * `rotateCredentials`: every identity of an organisation gets a new key — the organisation's (for the
 * clusters attached with scope `organization`) and each cluster identity's (for its own cluster) — by
 * the same planner that ensures keys, under the organisation lock. The delegation of the organisation's
 * zone is restored first if a crashed collection removed it.
 *
 * @internal
 * @packageDocumentation
 */

import { type CallOptions, ensure, ZonekeeperError } from '@zonekeeper/core';
import type { StoredAccessKey } from '@zonekeeper/vault-keys';
import {
  applyOrganizationZonePlan,
  type OrganizationZonePlan,
  planOrganizationZone,
} from '@zonekeeper/zone-manager';
import { publishKey } from '../clusters/externaldns.js';
import type { Context } from '../context.js';
import { organizationExclusion } from '../locks.js';
import { clusterNames, organizationNames } from '../names.js';
import {
  type GatheredOrganization,
  gatherOrganization,
  organizationNotFound,
} from '../organization/apply.js';
import type { RotationResult } from '../results.js';
import { applyCredentialsPlan, type GatheredCredentials, gatherCredentials } from './apply.js';
import { type CredentialsPlan, planCredentials } from './plan.js';
import { rotateTsigCredentials } from './rotate-tsig.js';

interface RotationState {
  readonly organization: GatheredOrganization;
  /** One entry per identity to rotate. */
  readonly identities: readonly {
    readonly userName: string;
    readonly clusterId?: string;
    readonly credentials: GatheredCredentials;
  }[];
}

interface RotationPlan {
  readonly zone: OrganizationZonePlan;
  readonly rotations: readonly {
    readonly userName: string;
    readonly clusterId?: string;
    readonly plan: CredentialsPlan;
  }[];
}

async function gatherRotation(
  ctx: Context,
  organizationInput: string,
  call: CallOptions,
): Promise<RotationState> {
  const names = organizationNames(ctx, organizationInput);
  const organization = await gatherOrganization(ctx, names, call, { mustExist: true });
  const identities: RotationState['identities'][number][] = [];
  const org = organization.credentials;
  if (org?.stored || (org?.facts.iamKeys?.length ?? 0) > 0)
    identities.push({ userName: names.userName, credentials: org as GatheredCredentials });
  for (const a of organization.state.attached) {
    // A keyless cluster has no key of its own (identity scope `cluster`: its role instead).
    if (a.scope !== 'cluster' || a.credentials !== undefined) continue;
    const c = clusterNames(ctx, names.organization, a.clusterId);
    const user = await ctx.ports.identity.getUser(c.clusterUserName, call);
    const credentials = await gatherCredentials(
      ctx,
      { organization: names.organization, clusterId: a.clusterId },
      c.clusterUserName,
      user !== undefined,
      [a.clusterId],
      call,
    );
    identities.push({ userName: c.clusterUserName, clusterId: a.clusterId, credentials });
  }
  return { organization, identities };
}

function planRotation(state: RotationState): RotationPlan {
  const { names } = state.organization.state;
  const zone = planOrganizationZone(
    state.organization.state.zone,
    {
      organization: names.organization,
      baseDomain: state.organization.state.baseDomain,
      nonce: state.organization.state.nonce,
    },
    state.organization.state.now,
  );
  if (zone.zoneId === null) throw organizationNotFound(names);
  if (state.identities.length === 0)
    throw new ZonekeeperError(
      'NOT_FOUND',
      state.organization.state.attached.some((a) => a.credentials !== undefined)
        ? `Organisation ${names.organization} has no access key to rotate: its clusters run keyless credentials (an IAM role), which have nothing to rotate.`
        : `Organisation ${names.organization} has no access key to rotate. Run ensureOrganization (or attachCluster) first.`,
      {
        details: {
          organization: names.organization,
          remedy: {
            operation: 'ensureOrganization',
            organization: names.organization,
            alternatives: ['attachCluster'],
            when: 'first',
          },
        },
      },
    );
  return {
    zone,
    rotations: state.identities.map((i) => ({
      userName: i.userName,
      ...(i.clusterId ? { clusterId: i.clusterId } : {}),
      plan: planCredentials(i.credentials.facts, 'rotate'),
    })),
  };
}

async function applyRotation(
  ctx: Context,
  plan: RotationPlan,
  state: RotationState,
  call: CallOptions,
): Promise<(StoredAccessKey | undefined)[]> {
  const { names } = state.organization.state;
  const zone = await applyOrganizationZonePlan(plan.zone, state.organization.state.zone, ctx.deps.dns, call);
  if (!zone)
    throw new ZonekeeperError(
      'INTERNAL',
      `zonekeeper: ${names.organization} lost its zone while rotating; run again.`,
    );
  const keys: (StoredAccessKey | undefined)[] = [];
  for (const [i, rotation] of plan.rotations.entries()) {
    const identity = state.identities[i];
    if (!identity) continue;
    keys.push(
      await applyCredentialsPlan(
        ctx,
        rotation.plan,
        {
          organization: names.organization,
          ...(identity.clusterId ? { clusterId: identity.clusterId } : {}),
        },
        identity.credentials,
        (ids, key, c) => publishKey(ctx, names.organization, zone, ids, key, c),
        call,
      ),
    );
  }
  return keys;
}

/** {@link Zonekeeper.rotateCredentials}. @internal */
export async function rotateCredentials(
  ctx: Context,
  organizationInput: string,
  options: CallOptions = {},
): Promise<RotationResult> {
  const names = organizationNames(ctx, organizationInput);
  if (ctx.powerdns) return rotateTsigCredentials(ctx, names.organization, options);
  const outcome = await ensure(
    {
      gather: (call) => gatherRotation(ctx, names.organization, call),
      plan: planRotation,
      apply: (plan, state, call) => applyRotation(ctx, plan, state, call),
      exclusive: organizationExclusion(
        ctx,
        names.organization,
        `rotateCredentials ${names.organization}`,
        () => false,
      ),
    },
    options.signal === undefined ? {} : { signal: options.signal },
  );
  if (outcome.dryRun) throw new ZonekeeperError('INTERNAL', 'rotateCredentials has no dry run.');
  return {
    organization: names.organization,
    zone: outcome.plan.zone.steps,
    rotations: outcome.plan.rotations.map((r, i) => {
      const steps = r.plan.steps;
      const issue = steps.find((s) => s.op === 'issue-key');
      // Resumed: it finished a rotation a crash interrupted (no new key), or replaced a key IAM lost.
      const resumed = issue === undefined || (issue.op === 'issue-key' && issue.reason !== 'rotation');
      return {
        userName: r.userName,
        ...(r.clusterId ? { clusterId: r.clusterId } : {}),
        outcome: resumed ? ('resumed' as const) : ('rotated' as const),
        newAccessKeyId: outcome.applied[i]?.accessKeyId ?? '',
        deletedAccessKeyIds: steps.flatMap((s) =>
          s.op === 'delete-unknown-keys'
            ? s.accessKeyIds
            : s.op === 'delete-previous-key'
              ? [s.accessKeyId]
              : [],
        ),
        clustersUpdated: [...new Set(steps.flatMap((s) => (s.op === 'publish-key' ? s.clusterIds : [])))],
        plan: steps,
      };
    }),
  };
}
