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
  invalidInput,
  type KubernetesObject,
  type Logger,
  noopLogger,
  type ObjectRef,
  pollUntil,
  refOf,
  systemClock,
  validateDnsLabel,
  ZONEKEEPER_MANAGER,
  ZonekeeperError,
  ZonekeeperLabels,
} from '@zonekeeper/core';
import { EXTERNAL_DNS_APP_NAME } from './objects.js';
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

/** Whether every field of `desired` is present with the same value in `actual` (extra fields are fine). */
export function isSubsetOf(desired: unknown, actual: unknown): boolean {
  if (desired === null || typeof desired !== 'object') return desired === actual;
  if (Array.isArray(desired)) {
    return (
      Array.isArray(actual) &&
      actual.length === desired.length &&
      desired.every((d, i) => isSubsetOf(d, actual[i]))
    );
  }
  if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return false;
  return Object.entries(desired).every(
    ([k, v]) => v === undefined || isSubsetOf(v, (actual as Record<string, unknown>)[k]),
  );
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

function signalOf(options: CallOptions): CallOptions {
  return options.signal === undefined ? {} : { signal: options.signal };
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
 * @throws `NOT_OWNED` (an object exists that zonekeeper does not own), `TIMEOUT` or `UNAVAILABLE`
 * (rollout), and the cluster client's errors.
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
  const deployment = objects.find((o) => o.kind === 'Deployment' && o.apiVersion === 'apps/v1');
  const current = new Map<string, KubernetesObject | undefined>();
  for (const object of objects)
    current.set(describeRef(refOf(object)), await cluster.get(refOf(object), signalOf(options)));
  const plan = planApply(objects, current, cluster.name);
  if (options.dryRun) return { plan, dryRun: true };

  const byRef = new Map(objects.map((o) => [describeRef(refOf(o)), o]));
  await applySteps(
    plan.steps,
    async (step) => {
      await cluster.apply(byRef.get(describeRef(step.ref)) as KubernetesObject, {
        ...signalOf(options),
        force: true,
      });
    },
    { ...signalOf(options), logger: deps.logger ?? noopLogger },
  );
  const stored: KubernetesObject[] = [];
  for (const object of objects) {
    const got = await cluster.get(refOf(object), signalOf(options));
    if (got) stored.push(withoutSecretValues(got));
  }
  const rollout =
    deployment && options.waitForRollout !== false
      ? await waitForRollout(
          cluster,
          { namespace: deployment.metadata.namespace as string, name: deployment.metadata.name },
          deps,
          {
            ...signalOf(options),
            ...(options.rolloutTimeoutMs === undefined ? {} : { timeoutMs: options.rolloutTimeoutMs }),
          },
        )
      : undefined;
  return { plan, dryRun: false, objects: stored, ...(rollout ? { rollout } : {}) };
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
 * `timeoutMs` (default 300 000).
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
  return pollUntil<RolloutStatus>(
    async () => {
      const d = await cluster.get(ref, signalOf(options));
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
      clock: deps.clock ?? systemClock,
      timeoutMs: options.timeoutMs ?? 300_000,
      initialDelayMs: 250,
      maxDelayMs: 5_000,
      what: `${describeRef(ref)} in cluster ${cluster.name} to roll out`,
      ...signalOf(options),
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

/**
 * Removes an ExternalDNS installation: only objects that carry zonekeeper's ownership label and this
 * instance's labels, and the namespace only if zonekeeper created it (and it holds nothing else we
 * know of is left). Idempotent: nothing left → empty plan.
 * @public
 */
export async function uninstallExternalDns(
  cluster: ClusterClient,
  target: UninstallTarget = {},
  deps: ApplyDeps = {},
  options: EnsureOptions = {},
): Promise<{ readonly plan: { readonly steps: readonly UninstallStep[] }; readonly dryRun: boolean }> {
  const namespace = validateDnsLabel(target.namespace ?? 'external-dns', 'Namespace');
  const name = validateDnsLabel(target.name ?? 'external-dns', 'Instance name');
  const selector = `${ZonekeeperLabels.managedBy}=${ZONEKEEPER_MANAGER},app.kubernetes.io/name=${EXTERNAL_DNS_APP_NAME},app.kubernetes.io/instance=${name}`;
  const steps: UninstallStep[] = [];
  const nsRef: ObjectRef = { apiVersion: 'v1', kind: 'Namespace', name: namespace };
  const ns = await cluster.get(nsRef, signalOf(options));
  if (ns) {
    for (const [apiVersion, kind] of NAMESPACED_KINDS) {
      for (const o of await cluster.list(apiVersion, kind, {
        namespace,
        labelSelector: selector,
        ...signalOf(options),
      }))
        steps.push({ op: 'delete-object', ref: refOf({ ...o, apiVersion, kind }) });
    }
  }
  for (const [apiVersion, kind] of CLUSTER_KINDS) {
    for (const o of await cluster.list(apiVersion, kind, { labelSelector: selector, ...signalOf(options) })) {
      // Cluster-scoped objects of this instance are named after its namespace; leave other namespaces' alone.
      const subjects = (o.subjects ?? []) as { namespace?: string }[];
      if (kind === 'ClusterRoleBinding' && !subjects.some((s) => s.namespace === namespace)) continue;
      if (kind === 'ClusterRole' && !o.metadata.name.includes(`:${namespace}:`)) continue;
      steps.push({ op: 'delete-object', ref: refOf({ ...o, apiVersion, kind }) });
    }
  }
  if (ns && isOwned(ns) && ns.metadata.labels?.[ZonekeeperLabels.createdNamespace] === 'true')
    steps.push({ op: 'delete-object', ref: nsRef });
  const plan = { steps };
  if (options.dryRun) return { plan, dryRun: true };
  await applySteps(
    steps,
    async (step) => {
      await cluster.delete(step.ref, signalOf(options));
    },
    { ...signalOf(options), logger: deps.logger ?? noopLogger },
  );
  return { plan, dryRun: false };
}
