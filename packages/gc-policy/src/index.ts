/**
 * `@zonekeeper/gc-policy`: the pure, billing-aware garbage-collection decision for Route 53 hosted
 * zones. See {@link planGarbageCollection} and docs/billing-model.md.
 *
 * @packageDocumentation
 */

export { type ZoneLifetime, type ZonePricing, zoneChargeInstants, zoneCost } from './charges.js';
export {
  decideZoneFate,
  defaultGcPolicyOptions,
  type GcPlan,
  type GcPolicyOptions,
  nextChargeAt,
  planGarbageCollection,
  type ZoneAction,
  type ZoneDecision,
  type ZoneDecisionReason,
  type ZoneFacts,
} from './policy.js';
