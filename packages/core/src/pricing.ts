/**
 * How a DNS provider bills a zone, as data: a property of the provider (`DnsProvider.pricing`) that the
 * garbage collector's policy (`@zonekeeper/gc-policy`) decides with.
 *
 * @packageDocumentation
 */

/**
 * A provider's pricing model.
 *
 * - `calendar-month`: Route 53's rules (charged at creation unless deleted within a free window, then at
 *   00:00 UTC on the 1st of every month, not prorated). The default wherever no model is given.
 * - `free`: keeping a zone and creating it again cost nothing (your own servers, such as PowerDNS); an
 *   unused zone may go as soon as it is older than `gracePeriodMs` (default 0).
 * @public
 */
export type ZonePricingModel =
  | { readonly kind: 'calendar-month' }
  | {
      readonly kind: 'free';
      /** Keep an unused zone this long after its creation (milliseconds, ≥ 0). Default 0. */
      readonly gracePeriodMs?: number;
    };
