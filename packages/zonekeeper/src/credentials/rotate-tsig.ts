/**
 * `rotateCredentials` on the PowerDNS backend: the organisation's TSIG key is replaced by zone-manager's
 * `planOrganizationTsigRotation` (new key stored first → on the server → allowed beside the old one →
 * every attached cluster's ExternalDNS, rollouts waited for → the old key disallowed → deleted →
 * forgotten), under the organisation lock, after the delegation is restored if a crashed collection
 * removed it. A re-run finishes a rotation a crash interrupted instead of starting another.
 *
 * @internal
 * @packageDocumentation
 */

import { type CallOptions, ensure, ZonekeeperError } from '@zonekeeper/core';
import {
  applyOrganizationZonePlan,
  type OrganizationZonePlan,
  planOrganizationZone,
} from '@zonekeeper/zone-manager';
import {
  applyOrganizationTsigRotationPlan,
  type OrganizationTsigRotationPlan,
  planOrganizationTsigRotation,
} from '@zonekeeper/zone-manager/powerdns';
import { publishKey } from '../clusters/externaldns.js';
import type { Context } from '../context.js';
import { organizationExclusion } from '../locks.js';
import { organizationNames } from '../names.js';
import {
  type GatheredOrganization,
  gatherOrganization,
  organizationNotFound,
} from '../organization/apply.js';
import { organizationKeyConsumers } from '../organization/plan.js';
import type { RotationResult } from '../results.js';

interface TsigRotationPlan {
  readonly zone: OrganizationZonePlan;
  readonly tsig: OrganizationTsigRotationPlan;
}

function planTsigRotation(organization: GatheredOrganization): TsigRotationPlan {
  const { state } = organization;
  const { names } = state;
  const zone = planOrganizationZone(
    state.zone,
    { organization: names.organization, baseDomain: state.baseDomain, nonce: state.nonce },
    state.now,
  );
  if (zone.zoneId === null || !state.tsig) throw organizationNotFound(names);
  const tsig = planOrganizationTsigRotation(state.tsig.state, {
    ...state.tsig.desired,
    consumers: organizationKeyConsumers(state.attached),
  });
  return { zone, tsig };
}

async function applyTsigRotation(
  ctx: Context,
  plan: TsigRotationPlan,
  organization: GatheredOrganization,
  call: CallOptions,
): Promise<void> {
  const p = ctx.powerdns;
  const { names } = organization.state;
  const stored = organization.tsigKey;
  if (!p || !stored)
    throw new ZonekeeperError(
      'INTERNAL',
      `zonekeeper: ${names.organization} has no stored TSIG key; run again.`,
    );
  const zone = await applyOrganizationZonePlan(plan.zone, organization.state.zone, ctx.deps.dns, call);
  if (!zone)
    throw new ZonekeeperError(
      'INTERNAL',
      `zonekeeper: ${names.organization} lost its zone while rotating; run again.`,
    );
  await applyOrganizationTsigRotationPlan(
    plan.tsig,
    stored,
    {
      admin: p.admin,
      store: p.store,
      publish: (clusterIds, key, c) =>
        publishKey(
          ctx,
          names.organization,
          zone,
          clusterIds,
          { name: key.name, algorithm: key.algorithm, secret: key.secret },
          c,
        ),
    },
    call,
  );
  ctx.logger.info(
    `zonekeeper: ${names.organization} now signs with TSIG key ${plan.tsig.keyName}; ${plan.tsig.previousKeyName} is gone.`,
  );
}

/** {@link Zonekeeper.rotateCredentials} on the PowerDNS backend. @internal */
export async function rotateTsigCredentials(
  ctx: Context,
  organizationInput: string,
  options: CallOptions = {},
): Promise<RotationResult> {
  const names = organizationNames(ctx, organizationInput);
  const outcome = await ensure(
    {
      gather: (call) => gatherOrganization(ctx, names, call, { mustExist: true }),
      plan: planTsigRotation,
      apply: (plan, state, call) => applyTsigRotation(ctx, plan, state, call),
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
  const { tsig } = outcome.plan;
  return {
    organization: names.organization,
    zone: outcome.plan.zone.steps,
    rotations: [],
    tsigKey: {
      outcome: tsig.resumed ? 'resumed' : 'rotated',
      keyName: tsig.keyName,
      previousKeyName: tsig.previousKeyName,
      deletedKeyNames: tsig.steps.flatMap((s) => (s.op === 'delete-key' ? [s.name] : [])),
      clustersUpdated: [...new Set(tsig.steps.flatMap((s) => (s.op === 'publish-key' ? s.clusterIds : [])))],
      plan: tsig.steps,
    },
  };
}
