/**
 * The runtime of the observability hooks: one span (and one `operation` event) per facade operation, one
 * span (and one `apiCall` event) per port method call, the collector's decisions as span events (and
 * `decision` events).
 *
 * ```
 *  createZonekeeper({ tracer?, metrics? })
 *    └─ resolveContext ─► createTelemetry ─► ports wrapped once (Proxy per port, per cluster client)
 *  zk.<operation>(…)  ─► traced(ctx, '<operation>', attrs, run)
 *                           └─ span zonekeeper.<operation> ─► run ─► port call ─► span zonekeeper.<port>.<method>
 * ```
 *
 * Off (no `tracer`, no `metrics`): nothing is wrapped and `traced` calls the operation directly, so the
 * cost is one property read per operation. `@opentelemetry/api` is used for its types only: the tracer is
 * the caller's, spans nest through the caller's registered context manager (every OpenTelemetry Node SDK
 * setup registers one).
 *
 * Secrets: attributes are computed from a fixed allow-list per port method (zone ids and names, user
 * names, secret paths, object kinds and names, cluster ids); no other argument and no result is read.
 * Errors contribute their code only, never their message or stack.
 *
 * @internal
 * @packageDocumentation
 */

import { AsyncLocalStorage } from 'node:async_hooks';
import type { Attributes, Span, SpanKind, SpanStatusCode, Tracer } from '@opentelemetry/api';
import { invalidInput, isAbortError, isZonekeeperError, type Logger } from '@zonekeeper/core';
import type { CollectionResult } from '../results.js';
import {
  TelemetryAttributes as A,
  type DecisionEvent,
  type TelemetryErrorCode,
  type TelemetryOutcome,
  type TelemetryPort,
  type ZonekeeperMetrics,
} from './events.js';

// The API's enum values, without importing the API at run time (it is an optional peer dependency).
const KIND_INTERNAL = 0 as SpanKind.INTERNAL;
const KIND_CLIENT = 2 as SpanKind.CLIENT;
const STATUS_ERROR = 2 as SpanStatusCode.ERROR;

/** The port methods that are remote calls, per port; any other property passes through untouched. */
export const TRACED_PORT_METHODS: Readonly<Record<TelemetryPort, ReadonlySet<string>>> = {
  dns: new Set([
    'listZones',
    'findZonesByName',
    'getZone',
    'createZone',
    'deleteZone',
    'getTags',
    'changeTags',
    'listRecords',
    'changeRecords',
    'getChange',
  ]),
  identity: new Set([
    'getUser',
    'createUser',
    'tagUser',
    'listUsers',
    'deleteUser',
    'listUserPolicies',
    'getUserPolicy',
    'putUserPolicy',
    'deleteUserPolicy',
    'listAccessKeys',
    'createAccessKey',
    'deleteAccessKey',
  ]),
  secrets: new Set(['read', 'write', 'readMetadata', 'writeMetadata', 'list', 'deleteAll']),
  cluster: new Set(['apply', 'get', 'list', 'delete', 'replace']),
  inventory: new Set(['listClusters', 'listClustersOf']),
  roles: new Set([
    'getRole',
    'createRole',
    'updateTrustPolicy',
    'tagRole',
    'listRoles',
    'deleteRole',
    'listRolePolicies',
    'getRolePolicy',
    'putRolePolicy',
    'deleteRolePolicy',
    'createOidcProvider',
    'getOidcProvider',
    'listOidcProviders',
    'tagOidcProvider',
    'deleteOidcProvider',
  ]),
  podIdentity: new Set(['createAssociation', 'describeAssociation', 'listAssociations', 'deleteAssociation']),
};

const DNS_ZONE_ID_FIRST = new Set(['getZone', 'deleteZone', 'changeTags', 'listRecords', 'changeRecords']);

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value.slice(0, 512) : undefined;
}

function put(attributes: Attributes, key: string, value: unknown): void {
  const s = str(value);
  if (s !== undefined) attributes[key] = s;
}

/** The safe identifiers among a port call's arguments (an allow-list; nothing else is read). */
function callAttributes(
  port: TelemetryPort,
  method: string,
  args: readonly unknown[],
  into: Attributes,
): void {
  const first = args[0];
  switch (port) {
    case 'dns':
      if (DNS_ZONE_ID_FIRST.has(method)) put(into, A.zoneId, first);
      else if (method === 'findZonesByName') put(into, A.zoneName, first);
      else if (method === 'createZone')
        put(into, A.zoneName, (first as { name?: unknown } | undefined)?.name);
      return;
    case 'identity':
      if (method === 'createUser')
        put(into, A.userName, (first as { userName?: unknown } | undefined)?.userName);
      else if (method !== 'listUsers') put(into, A.userName, first);
      return;
    case 'secrets':
      put(into, A.secretPath, first);
      return;
    case 'cluster': {
      if (method === 'list') {
        put(into, A.objectKind, args[1]);
        return;
      }
      const o = first as
        | {
            kind?: unknown;
            name?: unknown;
            namespace?: unknown;
            metadata?: { name?: unknown; namespace?: unknown };
          }
        | undefined;
      if (typeof o !== 'object' || o === null) return;
      put(into, A.objectKind, o.kind);
      const named = method === 'apply' || method === 'replace' ? o.metadata : o;
      put(into, A.objectName, named?.name);
      put(into, A.objectNamespace, named?.namespace);
      return;
    }
    case 'inventory':
    case 'roles':
    case 'podIdentity':
      return;
  }
}

/** The code of a failure: `ABORTED`, a zonekeeper code, or `INTERNAL` for anything else. */
export function errorCodeOf(error: unknown): TelemetryErrorCode {
  if (isAbortError(error)) return 'ABORTED';
  return isZonekeeperError(error) ? error.code : 'INTERNAL';
}

function outcomeOf(code: TelemetryErrorCode): TelemetryOutcome {
  return code === 'ABORTED' ? 'aborted' : 'error';
}

/** What an operation's span and events say about it; see {@link traced}. @internal */
export interface OperationAttributes {
  /** The organisation as the caller passed it. */
  readonly organization?: unknown;
  readonly clusterId?: unknown;
  /** The caller's `dryRun` option (anything but `true` counts as a real run). */
  readonly dryRun?: unknown;
  /** `collectGarbage` only: a facade call or a pass of the loop. */
  readonly trigger?: 'call' | 'loop';
}

interface Frame {
  readonly operation: string;
  readonly organization: string | undefined;
  readonly dryRun: boolean;
  readonly span: Span | undefined;
  readonly trigger: 'call' | 'loop' | undefined;
}

/** The hooks of one zonekeeper instance. @internal */
export interface Telemetry {
  /** Whether a tracer or a metrics hook is configured; when not, nothing is wrapped. */
  readonly enabled: boolean;
  /** Runs one facade operation inside its span, emitting its `operation` event. */
  operation<T>(name: string, attributes: OperationAttributes, run: () => Promise<T>): Promise<T>;
  /** The port with every remote method traced (the port itself when disabled). */
  port<T extends object>(port: T, kind: TelemetryPort, clusterId?: string): T;
  /** Reports a collection's decisions on the current operation's span and to the `decision` hook. */
  collection(result: CollectionResult): void;
}

const DISABLED: Telemetry = {
  enabled: false,
  operation: (_name, _attributes, run) => run(),
  port: (port) => port,
  collection: () => {},
};

function validTracer(value: unknown): value is Tracer {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Tracer).startActiveSpan === 'function' &&
    typeof (value as Tracer).startSpan === 'function'
  );
}

const HOOKS = ['operation', 'apiCall', 'decision'] as const;

/**
 * Validates `tracer` and `metrics` (`INVALID_INPUT`) and builds the hooks.
 * @internal
 */
export function createTelemetry(tracer: unknown, metrics: unknown, logger: Logger): Telemetry {
  if (tracer !== undefined && !validTracer(tracer))
    throw invalidInput(
      'tracer must be an OpenTelemetry Tracer (with startActiveSpan), e.g. trace.getTracer("zonekeeper").',
    );
  if (metrics !== undefined) {
    if (typeof metrics !== 'object' || metrics === null)
      throw invalidInput('metrics must be an object with operation, apiCall and/or decision callbacks.');
    for (const hook of HOOKS) {
      const value = (metrics as Record<string, unknown>)[hook];
      if (value !== undefined && typeof value !== 'function')
        throw invalidInput(`metrics.${hook} must be a function.`);
    }
  }
  if (tracer === undefined && metrics === undefined) return DISABLED;
  return new ActiveTelemetry(tracer, metrics as ZonekeeperMetrics | undefined, logger);
}

class ActiveTelemetry implements Telemetry {
  readonly enabled = true;
  private readonly frames = new AsyncLocalStorage<Frame>();
  private readonly failedHooks = new Set<string>();

  constructor(
    private readonly tracer: Tracer | undefined,
    private readonly metrics: ZonekeeperMetrics | undefined,
    private readonly logger: Logger,
  ) {}

  /** Calls one metrics callback; a throwing one is logged once and ignored. */
  private emit<K extends (typeof HOOKS)[number]>(
    hook: K,
    event: Parameters<NonNullable<ZonekeeperMetrics[K]>>[0],
  ): void {
    const fn = this.metrics?.[hook] as ((e: typeof event) => void) | undefined;
    if (!fn) return;
    try {
      fn.call(this.metrics, event);
    } catch (error) {
      if (this.failedHooks.has(hook)) return;
      this.failedHooks.add(hook);
      this.logger.warn(
        `zonekeeper: the metrics.${hook} callback threw (${error instanceof Error ? error.name : typeof error}); its failures are ignored.`,
      );
    }
  }

  operation<T>(name: string, attributes: OperationAttributes, run: () => Promise<T>): Promise<T> {
    const organization = str(attributes.organization);
    const clusterId = str(attributes.clusterId);
    const dryRun = attributes.dryRun === true;
    const trigger = attributes.trigger;
    const started = performance.now();
    const finish = (span: Span | undefined, code: TelemetryErrorCode | undefined) => {
      if (span) {
        if (code !== undefined) {
          span.setAttribute(A.errorCode, code);
          span.setAttribute('error.type', code);
          span.setStatus({ code: STATUS_ERROR, message: code });
        }
        span.end();
      }
      this.emit('operation', {
        operation: name,
        ...(organization === undefined ? {} : { organization }),
        ...(clusterId === undefined ? {} : { clusterId }),
        dryRun,
        outcome: code === undefined ? 'success' : outcomeOf(code),
        ...(code === undefined ? {} : { errorCode: code }),
        durationMs: performance.now() - started,
        ...(trigger === undefined ? {} : { trigger }),
      });
    };
    const body = (span: Span | undefined) =>
      this.frames.run({ operation: name, organization, dryRun, span, trigger }, async () => {
        let result: T;
        try {
          result = await run();
        } catch (error) {
          finish(span, errorCodeOf(error));
          throw error;
        }
        finish(span, undefined);
        return result;
      });
    if (!this.tracer) return body(undefined);
    const spanAttributes: Attributes = { [A.operation]: name, [A.dryRun]: dryRun };
    if (organization !== undefined) spanAttributes[A.organization] = organization;
    if (clusterId !== undefined) spanAttributes[A.clusterId] = clusterId;
    if (trigger !== undefined) spanAttributes[A.trigger] = trigger;
    return this.tracer.startActiveSpan(
      `zonekeeper.${name}`,
      { kind: KIND_INTERNAL, attributes: spanAttributes },
      body,
    );
  }

  port<T extends object>(port: T, kind: TelemetryPort, clusterId?: string): T {
    const methods = TRACED_PORT_METHODS[kind];
    // One wrapper per method and original function; other methods are bound to the port (so a class
    // with private fields still works through the proxy).
    const wrapped = new Map<PropertyKey, { original: unknown; fn: unknown }>();
    return new Proxy(port, {
      get: (object, property, receiver) => {
        const value = Reflect.get(object, property, receiver) as unknown;
        if (typeof value !== 'function') return value;
        const cached = wrapped.get(property);
        if (cached?.original === value) return cached.fn;
        const original = value as (...args: unknown[]) => Promise<unknown>;
        const method = typeof property === 'string' && methods.has(property) ? property : undefined;
        const fn =
          method === undefined
            ? original.bind(object)
            : (...args: unknown[]) =>
                this.call(kind, method, clusterId, args, () => original.apply(object, args));
        wrapped.set(property, { original: value, fn });
        return fn;
      },
    });
  }

  private call(
    port: TelemetryPort,
    method: string,
    clusterId: string | undefined,
    args: readonly unknown[],
    run: () => Promise<unknown>,
  ): Promise<unknown> {
    const frame = this.frames.getStore();
    const started = performance.now();
    const finish = (span: Span | undefined, code: TelemetryErrorCode | undefined) => {
      if (span) {
        if (code !== undefined) {
          span.setAttribute(A.errorCode, code);
          span.setAttribute('error.type', code);
          span.setStatus({ code: STATUS_ERROR, message: code });
        }
        span.end();
      }
      this.emit('apiCall', {
        port,
        method,
        ...(frame ? { operation: frame.operation } : {}),
        ...(frame?.organization === undefined ? {} : { organization: frame.organization }),
        outcome: code === undefined ? 'success' : outcomeOf(code),
        ...(code === undefined ? {} : { errorCode: code }),
        durationMs: performance.now() - started,
      });
    };
    const body = async (span: Span | undefined) => {
      let result: unknown;
      try {
        result = await run();
      } catch (error) {
        finish(span, errorCodeOf(error));
        throw error;
      }
      finish(span, undefined);
      return result;
    };
    if (!this.tracer) return body(undefined);
    const attributes: Attributes = { [A.port]: port, [A.method]: method };
    if (frame) {
      attributes[A.operation] = frame.operation;
      attributes[A.dryRun] = frame.dryRun;
      if (frame.organization !== undefined) attributes[A.organization] = frame.organization;
    }
    if (clusterId !== undefined) attributes[A.clusterId] = clusterId;
    callAttributes(port, method, args, attributes);
    return this.tracer.startActiveSpan(
      `zonekeeper.${port}.${method}`,
      { kind: KIND_CLIENT, attributes },
      body,
    );
  }

  collection(result: CollectionResult): void {
    const frame = this.frames.getStore();
    const trigger = frame?.trigger ?? 'call';
    const organizations = new Map(result.zones.map((z) => [z.id, z.organization]));
    const outcomes = new Map(result.results.map((r) => [r.zoneId, r.reason]));
    let deleted = 0;
    for (const d of result.plan.decisions) {
      const outcome = outcomes.get(d.zoneId);
      if (outcome === 'deleted' || outcome === 'leftovers-remain') deleted += 1;
      const event: DecisionEvent = {
        zoneId: d.zoneId,
        organization: organizations.get(d.zoneId) ?? '',
        action: d.action,
        reason: d.reason,
        dryRun: result.dryRun,
        ...(outcome === undefined ? {} : { outcome }),
        trigger,
      };
      frame?.span?.addEvent('zonekeeper.gc.decision', {
        [A.zoneId]: event.zoneId,
        [A.organization]: event.organization,
        [A.decisionAction]: event.action,
        [A.decisionReason]: event.reason,
        ...(outcome === undefined ? {} : { [A.decisionOutcome]: outcome }),
      });
      this.emit('decision', event);
    }
    frame?.span?.setAttributes({
      'zonekeeper.gc.zones': result.zones.length,
      'zonekeeper.gc.due': result.plan.toDelete.length,
      'zonekeeper.gc.deleted': deleted,
    });
  }
}

/**
 * Runs a facade operation inside its span and `operation` event. Adding a new operation's span is this
 * one line in the facade:
 *
 * ```ts
 * deleteOrganization: (organization, options) =>
 *   traced(ctx, 'deleteOrganization', { organization, dryRun: options?.dryRun }, () =>
 *     deleteOrganization(ctx, organization, options)),
 * ```
 * @internal
 */
export function traced<T>(
  ctx: { readonly telemetry: Telemetry },
  operation: string,
  attributes: OperationAttributes,
  run: () => Promise<T>,
): Promise<T> {
  return ctx.telemetry.enabled ? ctx.telemetry.operation(operation, attributes, run) : run();
}
