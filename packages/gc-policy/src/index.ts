/**
 * `@zonekeeper/gc-policy`: the pure, billing-aware garbage-collection decision for DNS zones, with the
 * provider's pricing as data (Route 53's rules by default, or `free`). See {@link planGarbageCollection}
 * and docs/billing-model.md.
 *
 * @packageDocumentation
 */

export { type ZoneLifetime, type ZonePricing, zoneChargeInstants, zoneCost } from './charges.js';
export {
  type CollectionDecision,
  type CollectionPlan,
  type CollectionPolicyOptions,
  type CollectionReason,
  decideZoneFate,
  defaultGcPolicyOptions,
  FREE_PRICING,
  type GcPlan,
  type GcPolicyOptions,
  nextChargeAt,
  type PricingModel,
  planGarbageCollection,
  ROUTE53_PRICING,
  type ZoneAction,
  type ZoneDecision,
  type ZoneDecisionReason,
  type ZoneFacts,
} from './policy.js';
