/**
 * Applying ExternalDNS to a cluster, waiting for it to roll out, and removing it — gather → plan →
 * apply over the {@link ClusterClient} port (server-side apply with field manager `zonekeeper`).
 *
 * ```
 *  object state in the cluster                         plan
 *  missing                                             apply (create)
 *  present, owned, every rendered field already equal  — (server-side apply would change nothing)
 *  present, owned, some rendered field differs         apply (update)
 *  present without zonekeeper's ownership label        NOT_OWNED (never taken over)
 * ```
 *
 * @packageDocumentation
 */

import {
  applySteps,
  type CallOptions,
  type Clock,
  type ClusterClient,
  describeRef,
  type EnsureOptions,
  ensure,
  hasErrorCode,
  invalidInput,
  type KubernetesObject,
  type Logger,
  noopLogger,
  type ObjectRef,
  pollUntil,
  refOf,
  signalOnly,
  systemClock,
  validateDnsLabel,
  validateDryRun,
  ZONEKEEPER_MANAGER,
  ZonekeeperError,
  ZonekeeperLabels,
} from '@zonekeeper/core';
import { EXTERNAL_DNS_APP_NAME } from './objects.js';
import { sameResourceQuantity } from './quantity.js';
import { REDACTED_SECRET_VALUE } from './yaml.js';

/** Injected runtime of the apply functions. @public */
export interface ApplyDeps {
  readonly clock?: Clock;
  readonly logger?: Logger;
}

/** One object to apply. @public */
export type ApplyObjectStep = {
  readonly op: 'apply-object';
  readonly ref: ObjectRef;
  readonly change: 'create' | 'update';
};

/** Options of {@link applyExternalDns}. @public */
export interface ApplyExternalDnsOptions extends EnsureOptions {
  /** Wait for the Deployment to become available (default true). */
  readonly waitForRollout?: boolean;
  /** Rollout timeout (default 300 000 ms). */
  readonly rolloutTimeoutMs?: number;
  /**
   * How long to wait for the target namespace to finish terminating (a reinstall right after an
   * uninstall) before giving up with `TIMEOUT` (default 120 000 ms).
   */
  readonly namespaceTerminationTimeoutMs?: number;
}

/**
 * `details.reason` of a cluster error for a write into a namespace that is being deleted (the API
 * server's 403 with cause `NamespaceTerminating`). Its retry class is `transient`.
 * @public
 */
export const NAMESPACE_TERMINATING = 'NamespaceTerminating';

function isNamespaceTerminating(error: unknown): boolean {
  return (
    hasErrorCode(error, 'CONFLICT') &&
    (error as { details?: { reason?: unknown } }).details?.reason === NAMESPACE_TERMINATING
  );
}

/** Waits (bounded, cancellable) until `namespace` is gone or no longer being deleted. */
async function waitForNamespaceToTerminate(
  cluster: ClusterClient,
  namespace: string,
  deps: ApplyDeps,
  options: ApplyExternalDnsOptions,
): Promise<void> {
  const ref: ObjectRef = { apiVersion: 'v1', kind: 'Namespace', name: namespace };
  (deps.logger ?? noopLogger).info(
    `waiting for namespace ${namespace} in cluster ${cluster.name} to finish terminating before applying ExternalDNS`,
  );
  await pollUntil<true>(
    async () => {
      const ns = await cluster.get(ref, signalOnly(options));
      return ns?.metadata.deletionTimestamp === undefined ? { done: true, value: true } : { done: false };
    },
    {
      clock: deps.clock ?? systemClock,
      timeoutMs: options.namespaceTerminationTimeoutMs ?? 120_000,
      initialDelayMs: 250,
      maxDelayMs: 5_000,
      what: `namespace ${namespace} in cluster ${cluster.name} to finish terminating (it was being deleted, e.g. by an uninstall) before applying ExternalDNS`,
      ...signalOnly(options),
    },
  );
}

/** Result of {@link applyExternalDns}. @public */
export interface ApplyExternalDnsResult {
  readonly plan: { readonly steps: readonly ApplyObjectStep[] };
  readonly dryRun: boolean;
  /**
   * The objects as stored after the apply (every rendered object, changed or not), with Secret values
   * replaced by `REDACTED_SECRET_VALUE`: a result gets logged and printed. Absent in a dry run.
   */
  readonly objects?: readonly KubernetesObject[];
  /** The rollout that was awaited, if any. */
  readonly rollout?: RolloutStatus;
}

/** Whether `path` (object keys and `[]` for list items) is an entry of a container's requests or limits. */
function isResourceQuantityPath(path: readonly string[]): boolean {
  const n = path.length;
  return n >= 3 && path[n - 3] === 'resources' && (path[n - 2] === 'requests' || path[n - 2] === 'limits');
}

function subsetAt(desired: unknown, actual: unknown, path: readonly string[]): boolean {
  if (desired === null || typeof desired !== 'object') {
    // The API server stores quantities canonically ("0.5" as "500m"): compare amounts, not strings.
    return isResourceQuantityPath(path) ? sameResourceQuantity(desired, actual) : desired === actual;
  }
  if (Array.isArray(desired)) {
    return (
      Array.isArray(actual) &&
      actual.length === desired.length &&
      desired.every((d, i) => subsetAt(d, actual[i], [...path, '[]']))
    );
  }
  if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return false;
  return Object.entries(desired).every(
    ([k, v]) => v === undefined || subsetAt(v, (actual as Record<string, unknown>)[k], [...path, k]),
  );
}

/**
 * Whether every field of `desired` is present with the same value in `actual` (extra fields are
 * fine). Container resource quantities compare as amounts, the way the API server stores them.
 */
export function isSubsetOf(desired: unknown, actual: unknown): boolean {
  return subsetAt(desired, actual, []);
}

/** A Secret with every `data`/`stringData` value replaced by the redaction placeholder (decision 8). */
function withoutSecretValues(object: KubernetesObject): KubernetesObject {
  if (object.kind !== 'Secret') return object;
  const redact = (values: unknown) =>
    values && typeof values === 'object'
      ? Object.fromEntries(Object.keys(values).map((k) => [k, REDACTED_SECRET_VALUE]))
      : values;
  return {
    ...object,
    ...(object.data === undefined ? {} : { data: redact(object.data) }),
    ...(object.stringData === undefined ? {} : { stringData: redact(object.stringData) }),
  };
}

function isOwned(object: KubernetesObject): boolean {
  return object.metadata.labels?.[ZonekeeperLabels.managedBy] === ZONEKEEPER_MANAGER;
}

/**
 * Plans which rendered objects need applying, from what the cluster holds now. Pure.
 * @throws `NOT_OWNED` when an object exists without zonekeeper's ownership label.
 * @public
 */
export function planApply(
  desired: readonly KubernetesObject[],
  current: ReadonlyMap<string, KubernetesObject | undefined>,
  clusterName = 'cluster',
): { readonly steps: readonly ApplyObjectStep[] } {
  const steps: ApplyObjectStep[] = [];
  for (const object of desired) {
    const ref = refOf(object);
    const existing = current.get(describeRef(ref));
    if (!existing) {
      steps.push({ op: 'apply-object', ref, change: 'create' });
      continue;
    }
    if (!isOwned(existing)) {
      const hint =
        ref.kind === 'Namespace'
          ? 'To deploy into an existing namespace, render with createNamespace: false.'
          : 'Remove it or choose another name/namespace.';
      throw new ZonekeeperError(
        'NOT_OWNED',
        `Kubernetes: ${describeRef(ref)} in cluster ${clusterName} exists and is not managed by zonekeeper; refusing to take it over. ${hint}`,
        {
          details: { ref },
        },
      );
    }
    const { metadata, ...rest } = object;
    const { metadata: existingMetadata, ...existingRest } = existing;
    const same =
      isSubsetOf(rest, existingRest) &&
      isSubsetOf({ labels: metadata.labels, annotations: metadata.annotations }, existingMetadata);
    if (!same) steps.push({ op: 'apply-object', ref, change: 'update' });
  }
  return { steps };
}

/**
 * Applies rendered ExternalDNS objects to a cluster with server-side apply (field manager `zonekeeper`),
 * then waits for the Deployment to be available at its current generation. Re-applying unchanged
 * objects changes nothing (the plan is empty and no write is made); changed credentials update the
 * Secret and, through the credentials-hash annotation, roll the Deployment.
 * If the target namespace is still terminating (a reinstall right after an uninstall), it waits for
 * it to go first (up to `namespaceTerminationTimeoutMs`), since the API server refuses new objects
 * in it meanwhile.
 * @throws `NOT_OWNED` (an object exists that zonekeeper does not own), `TIMEOUT` or `UNAVAILABLE`
 * (rollout, or a namespace that does not finish terminating), and the cluster client's errors.
 * @public
 */
export async function applyExternalDns(
  cluster: ClusterClient,
  objects: readonly KubernetesObject[],
  deps: ApplyDeps = {},
  options: ApplyExternalDnsOptions = {},
): Promise<ApplyExternalDnsResult> {
  if (!Array.isArray(objects) || objects.length === 0)
    throw invalidInput('applyExternalDns: objects must be a non-empty array (use renderExternalDns).');
  const dryRun = validateDryRun(options);
  const namespace = objects.find((o) => o.metadata.namespace !== undefined)?.metadata.namespace;
  // A namespace still terminating (uninstall, then reinstall) refuses new objects for a while: wait
  // for it to go, then plan from what is left. A deletion that starts mid-apply is waited out once
  // more the same way.
  for (let attempt = 1; ; attempt++) {
    if (namespace !== undefined && !dryRun) {
      const ns = await cluster.get(
        { apiVersion: 'v1', kind: 'Namespace', name: namespace },
        signalOnly(options),
      );
      if (ns?.metadata.deletionTimestamp !== undefined)
        await waitForNamespaceToTerminate(cluster, namespace, deps, options);
    }
    try {
      const outcome = await ensure(
        {
          gather: (call) => gatherExternalDns(cluster, objects, call),
          plan: (current) => planApply(objects, current, cluster.name),
          apply: (plan, _current, call) =>
            applyExternalDnsPlan(cluster, plan, objects, deps, { ...rolloutOptions(options), ...call }),
        },
        options,
      );
      return outcome.dryRun
        ? { plan: outcome.plan, dryRun: true }
        : { plan: outcome.plan, dryRun: false, ...outcome.applied };
    } catch (error) {
      if (!isNamespaceTerminating(error) || namespace === undefined || attempt >= 3) throw error;
      await waitForNamespaceToTerminate(cluster, namespace, deps, options);
    }
  }
}

function rolloutOptions(
  options: ApplyExternalDnsOptions,
): Pick<ApplyExternalDnsOptions, 'waitForRollout' | 'rolloutTimeoutMs'> {
  return {
    ...(options.waitForRollout === undefined ? {} : { waitForRollout: options.waitForRollout }),
    ...(options.rolloutTimeoutMs === undefined ? {} : { rolloutTimeoutMs: options.rolloutTimeoutMs }),
  };
}

/**
 * Reads what {@link planApply} needs: each rendered object as the cluster holds it (keyed by
 * `describeRef`), `undefined` when missing.
 * @public
 */
export async function gatherExternalDns(
  cluster: ClusterClient,
  objects: readonly KubernetesObject[],
  options: CallOptions = {},
): Promise<ReadonlyMap<string, KubernetesObject | undefined>> {
  const call = signalOnly(options);
  const current = new Map<string, KubernetesObject | undefined>();
  for (const object of objects)
    current.set(describeRef(refOf(object)), await cluster.get(refOf(object), call));
  return current;
}

/**
 * Executes a plan of {@link planApply} (server-side apply of the planned objects, forced), then reads
 * every rendered object back (Secret values redacted) and, unless `waitForRollout: false`, waits for the
 * Deployment's rollout.
 * @public
 */
export async function applyExternalDnsPlan(
  cluster: ClusterClient,
  plan: { readonly steps: readonly ApplyObjectStep[] },
  objects: readonly KubernetesObject[],
  deps: ApplyDeps = {},
  options: CallOptions & Pick<ApplyExternalDnsOptions, 'waitForRollout' | 'rolloutTimeoutMs'> = {},
): Promise<{ readonly objects: readonly KubernetesObject[]; readonly rollout?: RolloutStatus }> {
  const call = signalOnly(options);
  const deployment = objects.find((o) => o.kind === 'Deployment' && o.apiVersion === 'apps/v1');
  const byRef = new Map(objects.map((o) => [describeRef(refOf(o)), o]));
  await applySteps(
    plan.steps,
    async (step) => {
      await cluster.apply(byRef.get(describeRef(step.ref)) as KubernetesObject, { ...call, force: true });
    },
    { ...call, logger: deps.logger ?? noopLogger },
  );
  const stored: KubernetesObject[] = [];
  for (const object of objects) {
    const got = await cluster.get(refOf(object), call);
    if (got) stored.push(withoutSecretValues(got));
  }
  const rollout =
    deployment && options.waitForRollout !== false
      ? await waitForRollout(
          cluster,
          { namespace: deployment.metadata.namespace as string, name: deployment.metadata.name },
          deps,
          {
            ...call,
            ...(options.rolloutTimeoutMs === undefined ? {} : { timeoutMs: options.rolloutTimeoutMs }),
          },
        )
      : undefined;
  return { objects: stored, ...(rollout ? { rollout } : {}) };
}

/** A finished rollout. @public */
export interface RolloutStatus {
  readonly generation: number;
  readonly observedGeneration: number;
  readonly replicas: number;
  readonly availableReplicas: number;
}

interface DeploymentStatusView {
  observedGeneration?: number;
  replicas?: number;
  updatedReplicas?: number;
  availableReplicas?: number;
  conditions?: { type?: string; status?: string; reason?: string; message?: string }[];
}

/**
 * Waits until a Deployment is available at its current generation: `observedGeneration ≥ generation`,
 * every replica updated and available, and condition `Available=True`. Fails fast with `UNAVAILABLE`
 * when the Deployment reports `Progressing=False` (`ProgressDeadlineExceeded`), and with `TIMEOUT` after
 * `timeoutMs` (default 300 000). While it waits, `deps.logger` gets an info line
 * `waiting for rollout of Deployment/<ns>/<name> in cluster <c> (<available>/<replicas> ready)` when the
 * counts change (and every 30 s while they do not).
 * @public
 */
export async function waitForRollout(
  cluster: ClusterClient,
  target: { readonly namespace: string; readonly name: string },
  deps: ApplyDeps = {},
  options: CallOptions & { readonly timeoutMs?: number } = {},
): Promise<RolloutStatus> {
  const ref: ObjectRef = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    namespace: validateDnsLabel(target.namespace, 'Namespace'),
    name: target.name,
  };
  const logger = deps.logger ?? noopLogger;
  const clock = deps.clock ?? systemClock;
  // One progress line per change of the counts (and one every 30 s while they stay put), so a
  // caller's log shows the wait without a line per poll.
  let lastLine = '';
  let lastLoggedAt = 0;
  const progress = (line: string) => {
    const now = clock.now().getTime();
    if (line === lastLine && now - lastLoggedAt < 30_000) return;
    lastLine = line;
    lastLoggedAt = now;
    logger.info(line);
  };
  return pollUntil<RolloutStatus>(
    async () => {
      const d = await cluster.get(ref, signalOnly(options));
      if (!d)
        throw new ZonekeeperError(
          'NOT_FOUND',
          `Kubernetes: ${describeRef(ref)} not found in cluster ${cluster.name} while waiting for its rollout.`,
        );
      const generation = d.metadata.generation ?? 0;
      const spec = (d.spec ?? {}) as { replicas?: number };
      const status = (d.status ?? {}) as DeploymentStatusView;
      const replicas = spec.replicas ?? 1;
      const stalled = status.conditions?.find((c) => c.type === 'Progressing' && c.status === 'False');
      if (stalled && (status.observedGeneration ?? 0) >= generation) {
        throw new ZonekeeperError(
          'UNAVAILABLE',
          `Kubernetes: ${describeRef(ref)} in cluster ${cluster.name} failed to roll out (${stalled.reason ?? 'Progressing=False'}${stalled.message ? `: ${stalled.message}` : ''}); check its pods' events (image pull, crash loop, quota).`,
          { retry: 'permanent', details: { ref, reason: stalled.reason } },
        );
      }
      const available =
        status.conditions?.some((c) => c.type === 'Available' && c.status === 'True') ?? false;
      const done =
        (status.observedGeneration ?? 0) >= generation &&
        (status.updatedReplicas ?? 0) >= replicas &&
        (status.availableReplicas ?? 0) >= replicas &&
        (status.replicas ?? replicas) <= replicas &&
        available;
      if (!done)
        progress(
          `waiting for rollout of ${describeRef(ref)} in cluster ${cluster.name} (${status.availableReplicas ?? 0}/${replicas} ready${(status.observedGeneration ?? 0) < generation ? `, generation ${generation} not yet observed` : ''})`,
        );
      return done
        ? {
            done: true,
            value: {
              generation,
              observedGeneration: status.observedGeneration ?? 0,
              replicas,
              availableReplicas: status.availableReplicas ?? 0,
            },
          }
        : { done: false };
    },
    {
      clock,
      timeoutMs: options.timeoutMs ?? 300_000,
      initialDelayMs: 250,
      maxDelayMs: 5_000,
      what: `${describeRef(ref)} in cluster ${cluster.name} to roll out`,
      ...signalOnly(options),
    },
  );
}

/** A step of {@link uninstallExternalDns}. @public */
export type UninstallStep = { readonly op: 'delete-object'; readonly ref: ObjectRef };

/** What to uninstall. @public */
export interface UninstallTarget {
  /** The namespace ExternalDNS runs in (default `external-dns`). */
  readonly namespace?: string;
  /** The instance name (default `external-dns`). */
  readonly name?: string;
  /**
   * Only objects labelled for this organisation (`zonekeeper.io/organization`): another organisation's
   * installation in the same namespace is never removed.
   */
  readonly organization?: string;
}

const NAMESPACED_KINDS: readonly [string, string][] = [
  ['apps/v1', 'Deployment'],
  ['v1', 'Secret'],
  ['v1', 'ServiceAccount'],
];
const CLUSTER_KINDS: readonly [string, string][] = [
  ['rbac.authorization.k8s.io/v1', 'ClusterRoleBinding'],
  ['rbac.authorization.k8s.io/v1', 'ClusterRole'],
];

/** What {@link planUninstall} needs, as {@link gatherUninstall} read it. @public */
export interface UninstallState {
  readonly namespace: string;
  readonly name: string;
  readonly organization?: string;
  /** The namespace object, when it exists. */
  readonly namespaceObject?: KubernetesObject;
  /** The instance's objects found by label (namespaced ones only when the namespace exists). */
  readonly objects: readonly KubernetesObject[];
}

/** A plan of {@link planUninstall}. JSON data. @public */
export interface UninstallPlan {
  readonly steps: readonly UninstallStep[];
}

function uninstallTarget(target: UninstallTarget): {
  namespace: string;
  name: string;
  organization?: string;
} {
  const namespace = validateDnsLabel(target.namespace ?? 'external-dns', 'Namespace');
  const name = validateDnsLabel(target.name ?? 'external-dns', 'Instance name');
  return target.organization === undefined
    ? { namespace, name }
    : { namespace, name, organization: validateDnsLabel(target.organization, 'Organisation name') };
}

/**
 * Reads an installation's objects: the namespace, and the objects that carry zonekeeper's ownership label
 * and the instance's (and organisation's) labels.
 * @throws `INVALID_INPUT` for an invalid namespace, instance or organisation name (before any call).
 * @public
 */
export async function gatherUninstall(
  cluster: ClusterClient,
  target: UninstallTarget = {},
  options: CallOptions = {},
): Promise<UninstallState> {
  const { namespace, name, organization } = uninstallTarget(target);
  const call = signalOnly(options);
  const selector = `${ZonekeeperLabels.managedBy}=${ZONEKEEPER_MANAGER},app.kubernetes.io/name=${EXTERNAL_DNS_APP_NAME},app.kubernetes.io/instance=${name}${organization === undefined ? '' : `,${ZonekeeperLabels.organization}=${organization}`}`;
  const objects: KubernetesObject[] = [];
  const ns = await cluster.get({ apiVersion: 'v1', kind: 'Namespace', name: namespace }, call);
  const kinds = ns ? [...NAMESPACED_KINDS, ...CLUSTER_KINDS] : CLUSTER_KINDS;
  for (const [apiVersion, kind] of kinds) {
    const namespaced = NAMESPACED_KINDS.some(([v, k]) => v === apiVersion && k === kind);
    for (const o of await cluster.list(apiVersion, kind, {
      ...(namespaced ? { namespace } : {}),
      labelSelector: selector,
      ...call,
    }))
      objects.push({ ...o, apiVersion, kind });
  }
  return {
    namespace,
    name,
    ...(organization === undefined ? {} : { organization }),
    ...(ns ? { namespaceObject: ns } : {}),
    objects,
  };
}

/**
 * Plans {@link uninstallExternalDns}: delete the instance's namespaced objects, its cluster-scoped RBAC
 * (only the objects bound to this namespace), then the namespace if zonekeeper created it (for this
 * organisation, when one is given). Pure.
 * @public
 */
export function planUninstall(state: UninstallState): UninstallPlan {
  const { namespace, organization } = state;
  const steps: UninstallStep[] = [];
  const namespaced = state.objects.filter((o) => o.metadata.namespace !== undefined);
  const clusterScoped = state.objects.filter((o) => o.metadata.namespace === undefined);
  for (const o of namespaced) steps.push({ op: 'delete-object', ref: refOf(o) });
  for (const o of clusterScoped) {
    // Cluster-scoped objects of this instance are named after its namespace; leave other namespaces' alone.
    const subjects = (o.subjects ?? []) as { namespace?: string }[];
    if (o.kind === 'ClusterRoleBinding' && !subjects.some((s) => s.namespace === namespace)) continue;
    if (o.kind === 'ClusterRole' && !o.metadata.name.includes(`:${namespace}:`)) continue;
    steps.push({ op: 'delete-object', ref: refOf(o) });
  }
  const ns = state.namespaceObject;
  if (
    ns &&
    isOwned(ns) &&
    ns.metadata.labels?.[ZonekeeperLabels.createdNamespace] === 'true' &&
    (organization === undefined || ns.metadata.labels?.[ZonekeeperLabels.organization] === organization)
  )
    steps.push({ op: 'delete-object', ref: { apiVersion: 'v1', kind: 'Namespace', name: namespace } });
  return { steps };
}

/**
 * Executes a plan of {@link planUninstall} (an object already gone counts as deleted).
 * @public
 */
export async function applyUninstallPlan(
  cluster: ClusterClient,
  plan: UninstallPlan,
  deps: ApplyDeps = {},
  options: CallOptions = {},
): Promise<void> {
  const call = signalOnly(options);
  await applySteps(
    plan.steps,
    async (step) => {
      await cluster.delete(step.ref, call);
    },
    { ...call, logger: deps.logger ?? noopLogger },
  );
}

/**
 * Removes an ExternalDNS installation: only objects that carry zonekeeper's ownership label and this
 * instance's labels, and the namespace only if zonekeeper created it. Idempotent: nothing left → empty
 * plan.
 * @public
 */
export async function uninstallExternalDns(
  cluster: ClusterClient,
  target: UninstallTarget = {},
  deps: ApplyDeps = {},
  options: EnsureOptions = {},
): Promise<{ readonly plan: UninstallPlan; readonly dryRun: boolean }> {
  uninstallTarget(target);
  const outcome = await ensure(
    {
      gather: (call) => gatherUninstall(cluster, target, call),
      plan: planUninstall,
      apply: (plan, _state, call) => applyUninstallPlan(cluster, plan, deps, call),
    },
    options,
  );
  return { plan: outcome.plan, dryRun: outcome.dryRun };
}
