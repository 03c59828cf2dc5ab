/**
 * The observability surface of the SDK: the events of the metrics hook ({@link ZonekeeperMetrics}) and
 * the span names and attribute keys of the OpenTelemetry tracing (`tracer` in the configuration). Every
 * field is a name, an identifier, a code, a count or a duration: never an argument value that could hold
 * a secret (no key, no token, no policy document, no certificate).
 *
 * @packageDocumentation
 */

import type { ErrorCode } from '@zonekeeper/core';
import type { ZoneAction, CollectionReason as ZoneCollectionReason } from '@zonekeeper/gc-policy';
import type { CollectionReason } from '../results.js';

/**
 * The port a remote call went through: `dns` (Route 53 or another DNS provider), `identity` (IAM),
 * `secrets` (Vault or another secret store), `cluster` (a Kubernetes API server), `inventory` (the host
 * platform's cluster inventory).
 * @public
 */
export type TelemetryPort =
  | 'dns'
  | 'identity'
  | 'secrets'
  | 'cluster'
  | 'inventory'
  | 'roles'
  | 'podIdentity';

/**
 * How an operation or a call ended: `success`, `error` (a typed error; see `errorCode`) or `aborted`
 * (the caller's signal, or the organisation lock lost).
 * @public
 */
export type TelemetryOutcome = 'success' | 'error' | 'aborted';

/** The code of a failure: a {@link ErrorCode}, or `ABORTED` for an abort. @public */
export type TelemetryErrorCode = ErrorCode | 'ABORTED';

/**
 * One facade operation finished (`ensureOrganization`, `attachCluster`, `detachCluster`,
 * `rotateCredentials`, `issueCertificate`, `collectGarbage` — also each pass of `runGarbageCollector` —,
 * and the operations added later). Emitted once per call, also when the input was refused.
 * @public
 */
export interface OperationEvent {
  /** The facade method, e.g. `ensureOrganization`. */
  readonly operation: string;
  /** The organisation, as the caller passed it (absent for fleet-wide operations such as `collectGarbage`). */
  readonly organization?: string;
  /** The cluster id, for cluster operations. */
  readonly clusterId?: string;
  /** Whether it was a dry run. */
  readonly dryRun: boolean;
  readonly outcome: TelemetryOutcome;
  /** Present when `outcome` is not `success`. */
  readonly errorCode?: TelemetryErrorCode;
  /** Wall time of the whole operation, in milliseconds (`performance.now()` differences). */
  readonly durationMs: number;
  /** For `collectGarbage`: `call` (the facade method) or `loop` (a pass of `runGarbageCollector`). */
  readonly trigger?: 'call' | 'loop';
}

/**
 * One call of a port method (one remote API call as zonekeeper sees it; an adapter's own retries are
 * inside it).
 * @public
 */
export interface ApiCallEvent {
  readonly port: TelemetryPort;
  /** The port method, e.g. `createZone`, `putUserPolicy`, `write`, `apply`. */
  readonly method: string;
  /** The facade operation the call was made for; absent for calls outside one (e.g. `zk.ports.dns`). */
  readonly operation?: string;
  /** The organisation of that operation, when it has one. */
  readonly organization?: string;
  readonly outcome: TelemetryOutcome;
  /** Present when `outcome` is not `success`. */
  readonly errorCode?: TelemetryErrorCode;
  readonly durationMs: number;
}

/**
 * One collector decision: gc-policy's verdict on one managed zone in a collection (its reason code), and,
 * for zones it decided to delete, what the collection then did with it.
 * @public
 */
export interface DecisionEvent {
  readonly zoneId: string;
  readonly organization: string;
  /** gc-policy's action: `keep`, `delete` or `defer`. */
  readonly action: ZoneAction;
  /** gc-policy's reason code (the rule that decided). */
  readonly reason: ZoneCollectionReason;
  readonly dryRun: boolean;
  /** For `delete` decisions of a real run: the collection's outcome for the zone (`deleted`, `in-use-again`, …). */
  readonly outcome?: CollectionReason;
  /** For `collectGarbage`: `call` (the facade method) or `loop` (a pass of `runGarbageCollector`). */
  readonly trigger: 'call' | 'loop';
}

/**
 * The metrics hook (`metrics` in the configuration): plain callbacks, called synchronously once per
 * event; each is optional. A callback that throws is logged (once per callback) and ignored: a broken
 * metrics pipeline never fails an operation. Map the events to any metrics library (Prometheus, StatsD,
 * OpenTelemetry: `createOpenTelemetryMetrics`).
 *
 * @example
 * ```ts
 * const zk = createZonekeeper({
 *   baseDomain: 'example.com',
 *   metrics: {
 *     operation: (e) => histogram.observe({ operation: e.operation, outcome: e.outcome }, e.durationMs),
 *     apiCall: (e) => counter.inc({ port: e.port, method: e.method, outcome: e.outcome }),
 *   },
 * });
 * ```
 * @public
 */
export interface ZonekeeperMetrics {
  /** A facade operation finished. */
  operation?(event: OperationEvent): void;
  /** A port method call finished. */
  apiCall?(event: ApiCallEvent): void;
  /** A collection decided about a zone (one event per managed zone and collection). */
  decision?(event: DecisionEvent): void;
}

/**
 * The attribute keys of zonekeeper's spans. Operation spans are named `zonekeeper.<operation>` (kind
 * `INTERNAL`), port call spans `zonekeeper.<port>.<method>` (kind `CLIENT`, children of their operation's
 * span). A failed span has status `ERROR` with the error code as its message, and `error.type` and
 * `zonekeeper.error.code` set to the code; error messages and stack traces are never recorded.
 * A collection's span carries one `zonekeeper.gc.decision` event per managed zone.
 * @public
 */
export const TelemetryAttributes = Object.freeze({
  /** The facade operation (on both operation and call spans). */
  operation: 'zonekeeper.operation',
  /** The organisation (on both operation and call spans, when there is one). */
  organization: 'zonekeeper.organization',
  /** Whether the operation is a dry run (on both operation and call spans). */
  dryRun: 'zonekeeper.dry_run',
  /** `call` or `loop`, on collection spans. */
  trigger: 'zonekeeper.trigger',
  /** The port of a call span. */
  port: 'zonekeeper.port',
  /** The port method of a call span. */
  method: 'zonekeeper.method',
  /** A cluster id (cluster operations, cluster calls). */
  clusterId: 'zonekeeper.cluster_id',
  /** A hosted zone id (DNS calls that name one, collection decisions). */
  zoneId: 'zonekeeper.zone_id',
  /** A DNS name (DNS calls that look a zone up by name or create one). */
  zoneName: 'zonekeeper.zone_name',
  /** An IAM user name (identity calls). */
  userName: 'zonekeeper.user_name',
  /** A secret store path (never the secret). */
  secretPath: 'zonekeeper.secret_path',
  /** The kind and name of a Kubernetes object (cluster calls). */
  objectKind: 'zonekeeper.k8s.kind',
  objectName: 'zonekeeper.k8s.name',
  objectNamespace: 'zonekeeper.k8s.namespace',
  /** The error code of a failed span. */
  errorCode: 'zonekeeper.error.code',
  /** gc-policy's action and reason, and the collection's outcome, on `zonekeeper.gc.decision` events. */
  decisionAction: 'zonekeeper.gc.action',
  decisionReason: 'zonekeeper.gc.reason',
  decisionOutcome: 'zonekeeper.gc.outcome',
} as const);
