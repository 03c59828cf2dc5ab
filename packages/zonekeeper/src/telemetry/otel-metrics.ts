/**
 * The metrics hook mapped to OpenTelemetry metrics, through the caller's `Meter` (`@opentelemetry/api`
 * types only). Labels are low-cardinality on purpose: no organisation, zone or cluster id.
 *
 * @packageDocumentation
 */

import type { Meter } from '@opentelemetry/api';
import { invalidInput } from '@zonekeeper/core';
import type { ZonekeeperMetrics } from './events.js';

/**
 * The instruments {@link createOpenTelemetryMetrics} creates, by name:
 *
 * | instrument | kind | attributes |
 * | --- | --- | --- |
 * | `zonekeeper.operations` | counter | `zonekeeper.operation`, `zonekeeper.outcome`, `zonekeeper.error.code`, `zonekeeper.dry_run` |
 * | `zonekeeper.operation.duration` | histogram (ms) | `zonekeeper.operation`, `zonekeeper.outcome` |
 * | `zonekeeper.api_calls` | counter | `zonekeeper.port`, `zonekeeper.method`, `zonekeeper.outcome`, `zonekeeper.error.code` |
 * | `zonekeeper.api_call.duration` | histogram (ms) | `zonekeeper.port`, `zonekeeper.method`, `zonekeeper.outcome` |
 * | `zonekeeper.gc.decisions` | counter | `zonekeeper.gc.action`, `zonekeeper.gc.reason`, `zonekeeper.gc.outcome`, `zonekeeper.dry_run` |
 *
 * `zonekeeper.error.code` is present on failures only, `zonekeeper.gc.outcome` on delete decisions of a
 * real run only.
 * @public
 */
export const OPENTELEMETRY_METRIC_NAMES = Object.freeze({
  operations: 'zonekeeper.operations',
  operationDuration: 'zonekeeper.operation.duration',
  apiCalls: 'zonekeeper.api_calls',
  apiCallDuration: 'zonekeeper.api_call.duration',
  decisions: 'zonekeeper.gc.decisions',
} as const);

/**
 * A {@link ZonekeeperMetrics} hook recording OpenTelemetry metrics on `meter`
 * (`metrics.getMeter('zonekeeper')`); see {@link OPENTELEMETRY_METRIC_NAMES} for the instruments.
 *
 * @example
 * ```ts
 * import { metrics } from '@opentelemetry/api';
 * const zk = createZonekeeper({
 *   baseDomain: 'example.com',
 *   metrics: createOpenTelemetryMetrics(metrics.getMeter('zonekeeper')),
 * });
 * ```
 * @public
 */
export function createOpenTelemetryMetrics(meter: Meter): ZonekeeperMetrics {
  if (
    typeof meter !== 'object' ||
    meter === null ||
    typeof meter.createCounter !== 'function' ||
    typeof meter.createHistogram !== 'function'
  )
    throw invalidInput(
      'createOpenTelemetryMetrics needs an OpenTelemetry Meter, e.g. metrics.getMeter("zonekeeper").',
    );
  const n = OPENTELEMETRY_METRIC_NAMES;
  const operations = meter.createCounter(n.operations, { description: 'zonekeeper facade operations' });
  const operationDuration = meter.createHistogram(n.operationDuration, {
    description: 'Duration of zonekeeper facade operations',
    unit: 'ms',
  });
  const apiCalls = meter.createCounter(n.apiCalls, { description: 'Port method calls (remote API calls)' });
  const apiCallDuration = meter.createHistogram(n.apiCallDuration, {
    description: 'Duration of port method calls',
    unit: 'ms',
  });
  const decisions = meter.createCounter(n.decisions, {
    description: 'Garbage-collection decisions per zone',
  });
  return {
    operation(e) {
      const base = { 'zonekeeper.operation': e.operation, 'zonekeeper.outcome': e.outcome };
      operations.add(1, {
        ...base,
        'zonekeeper.dry_run': e.dryRun,
        ...(e.errorCode === undefined ? {} : { 'zonekeeper.error.code': e.errorCode }),
      });
      operationDuration.record(e.durationMs, base);
    },
    apiCall(e) {
      const base = {
        'zonekeeper.port': e.port,
        'zonekeeper.method': e.method,
        'zonekeeper.outcome': e.outcome,
      };
      apiCalls.add(1, {
        ...base,
        ...(e.errorCode === undefined ? {} : { 'zonekeeper.error.code': e.errorCode }),
      });
      apiCallDuration.record(e.durationMs, base);
    },
    decision(e) {
      decisions.add(1, {
        'zonekeeper.gc.action': e.action,
        'zonekeeper.gc.reason': e.reason,
        'zonekeeper.dry_run': e.dryRun,
        ...(e.outcome === undefined ? {} : { 'zonekeeper.gc.outcome': e.outcome }),
      });
    },
  };
}
