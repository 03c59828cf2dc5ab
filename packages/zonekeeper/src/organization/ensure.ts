/**
 * `ensureOrganization`: one organisation's zone (delegated), identity, key and CA, converged.
 *
 * ```
 *  gather ─► planOrganization ─► (dry run: stop) ─► under the organisation lock: gather ─► plan ─► apply
 *                                                    (a converged organisation takes no lock, writes nothing)
 * ```
 *
 * @internal
 * @packageDocumentation
 */

import { type EnsureOptions, ensure, validateDryRun } from '@zonekeeper/core';
import type { Context } from '../context.js';
import { organizationExclusion } from '../locks.js';
import { organizationNames } from '../names.js';
import type { OrganizationResult } from '../results.js';
import { applyOrganizationPlan, currentOrganization, gatherOrganization } from './apply.js';
import { isEmptyOrganizationPlan, planOrganization } from './plan.js';
import { organizationResultOf } from './result.js';

/** {@link Zonekeeper.ensureOrganization}. @internal */
export async function ensureOrganization(
  ctx: Context,
  organizationInput: string,
  options: EnsureOptions = {},
): Promise<OrganizationResult> {
  const names = organizationNames(ctx, organizationInput);
  validateDryRun(options);
  const desired = { defaultScope: ctx.defaultScope, intent: 'ensure' as const };
  const outcome = await ensure(
    {
      gather: (call) => gatherOrganization(ctx, names, call),
      plan: (gathered) => planOrganization(gathered.state, desired),
      apply: (plan, gathered, call) =>
        isEmptyOrganizationPlan(plan)
          ? Promise.resolve(currentOrganization(gathered, plan))
          : applyOrganizationPlan(ctx, plan, gathered, call),
      exclusive: organizationExclusion(
        ctx,
        names.organization,
        `ensureOrganization ${names.organization}`,
        isEmptyOrganizationPlan,
      ),
    },
    options,
  );
  const applied = outcome.dryRun ? currentOrganization(outcome.state, outcome.plan) : outcome.applied;
  return organizationResultOf(names, outcome.plan, applied, outcome.dryRun);
}
