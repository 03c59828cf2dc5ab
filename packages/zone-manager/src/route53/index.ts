/**
 * `@zonekeeper/zone-manager/route53`: the Route 53 adapter of the `DnsProvider` port on
 * `@aws-sdk/client-route-53`, its account-wide rate limiter and SDK retry strategy.
 *
 * @packageDocumentation
 */

export { type Route53ErrorContext, translateRoute53Error } from './errors.js';
export {
  createRoute53Provider,
  type Route53Credentials,
  type Route53Provider,
  type Route53ProviderOptions,
  type Route53RetryStrategy,
} from './provider.js';
export {
  createRoute53RateLimiter,
  DEFAULT_ROUTE53_REQUESTS_PER_SECOND,
  ROUTE53_THROTTLING_2026,
  type Route53AcquireOptions,
  type Route53BucketSpec,
  type Route53RateLimiter,
  type Route53RateLimiterOptions,
  type Route53RequestBudget,
  type Route53ThrottlingTable,
  resolveRoute53ThrottlingTable,
  sharedRoute53RateLimiter,
} from './rate-limiter.js';
export {
  createRoute53RetryStrategy,
  defaultRoute53RetryOptions,
  type Route53RetryOptions,
  route53RetryDelay,
} from './retry.js';
