/**
 * The public result of an organisation's part of an operation.
 *
 * @internal
 * @packageDocumentation
 */

import type { OrganizationResult } from '../results.js';
import type { AppliedOrganization } from './apply.js';
import type { OrganizationPlan } from './plan.js';

/** The organisation part of a result. @internal */
export function organizationResultOf(
  names: { readonly organization: string; readonly userName: string },
  plan: OrganizationPlan,
  applied: AppliedOrganization,
  dryRun: boolean,
): OrganizationResult {
  const zone = applied.zone;
  return {
    organization: names.organization,
    dryRun,
    ...(zone ? { zone: { id: zone.id, name: zone.name, nameServers: zone.nameServers } } : {}),
    ...(plan.identity ? { userName: names.userName } : {}),
    ...(plan.identity && applied.key ? { accessKeyId: applied.key.accessKeyId } : {}),
    ...(plan.tsigKey ? { tsigKeyName: plan.tsigKey.keyName } : {}),
    plans: {
      zone: plan.zone.steps,
      identity: plan.identity?.steps ?? [],
      credentials: plan.credentials?.steps ?? [],
      certificateAuthority: plan.certificateAuthority.steps,
      ...(plan.tsigKey ? { tsigKey: plan.tsigKey.steps } : {}),
    },
    duplicateZones: plan.zone.duplicates,
  };
}
