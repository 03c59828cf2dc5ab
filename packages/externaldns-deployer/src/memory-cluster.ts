/**
 * An in-memory {@link ClusterClient}: a small model of a Kubernetes API server for users' tests and the
 * embedded demo. It keeps objects by kind/namespace/name with uid, resourceVersion (bumped only when an
 * object really changes), generation (bumped on spec changes), Secret `stringData` folding, label
 * selectors, and a simulated Deployment controller that marks a rollout complete (or failed with
 * `ProgressDeadlineExceeded` for deployments told to fail).
 *
 * Server-side apply is modelled for a single field manager: the applied object replaces the stored
 * one's content (metadata and status are kept). That is what zonekeeper, the only writer in the demo,
 * needs; multi-manager field ownership is exercised against the testkit Kubernetes fake instead.
 *
 * @packageDocumentation
 */

import {
  type ApplyOptions,
  type CallOptions,
  type Clock,
  type ClusterClient,
  describeRef,
  invalidInput,
  type KubernetesObject,
  type ListOptions,
  type ObjectRef,
  refOf,
  systemClock,
  throwIfAborted,
  ZonekeeperError,
} from '@zonekeeper/core';

/** The kinds the memory cluster serves, with whether they are namespaced. @public */
export const MEMORY_CLUSTER_KINDS: Readonly<Record<string, boolean>> = Object.freeze({
  'v1/Namespace': false,
  'v1/ServiceAccount': true,
  'v1/Secret': true,
  'v1/ConfigMap': true,
  'v1/Service': true,
  'rbac.authorization.k8s.io/v1/ClusterRole': false,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': false,
  'rbac.authorization.k8s.io/v1/Role': true,
  'rbac.authorization.k8s.io/v1/RoleBinding': true,
  'apps/v1/Deployment': true,
  'coordination.k8s.io/v1/Lease': true,
  // cert-manager's, approver-policy's and trust-manager's kinds (zonekeeper's cert-manager mode).
  'cert-manager.io/v1/Issuer': true,
  'policy.cert-manager.io/v1alpha1/CertificateRequestPolicy': false,
  'trust.cert-manager.io/v1alpha1/Bundle': false,
});

/** Options of {@link createMemoryCluster}. @public */
export interface MemoryClusterOptions {
  /** The cluster's name in messages (default `memory`). */
  readonly name?: string;
  /** Stamps creation times (default: the system clock). */
  readonly clock?: Clock;
  /** Namespaces that exist from the start (default `['default']`, as in every real cluster). */
  readonly namespaces?: readonly string[];
}

/** A memory cluster plus inspection and control helpers for tests and demos. @public */
export interface MemoryCluster extends ClusterClient {
  /** Every stored object (deep copies), optionally of one kind. */
  objects(kind?: string): readonly KubernetesObject[];
  /** Makes the named Deployment's rollouts fail with `ProgressDeadlineExceeded` (or succeed again). */
  setRolloutFailure(namespace: string, name: string, fail: boolean): void;
  /** Number of calls per method (for "no write on the second run" assertions). */
  readonly calls: Readonly<Record<string, number>>;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function keyOf(ref: ObjectRef): string {
  return `${ref.apiVersion}/${ref.kind}/${ref.namespace ?? ''}/${ref.name}`;
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

/** Deep equality on JSON data, ignoring key order. */
function sameJson(a: unknown, b: unknown): boolean {
  const canonical = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canonical)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.keys(v as object)
              .sort()
              .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
          )
        : v;
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

/** Parses `a=b,c!=d,e,!f` (equality, inequality, existence). */
function matchesSelector(
  labels: Readonly<Record<string, string>> | undefined,
  selector: string | undefined,
): boolean {
  if (!selector) return true;
  const l = labels ?? {};
  return selector
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .every((term) => {
      const ne = /^([^!=\s]+)\s*!=\s*(.*)$/.exec(term);
      if (ne) return l[ne[1] as string] !== ne[2];
      const eq = /^([^!=\s]+)\s*==?\s*(.*)$/.exec(term);
      if (eq) return l[eq[1] as string] === eq[2];
      if (term.startsWith('!')) return !(term.slice(1) in l);
      return term in l;
    });
}

/**
 * Creates an in-memory cluster.
 *
 * @example
 * ```ts
 * const cluster = createMemoryCluster({ name: 'prod-1' });
 * await cluster.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'external-dns' } });
 * ```
 * @public
 */
export function createMemoryCluster(options: MemoryClusterOptions = {}): MemoryCluster {
  const clock = options.clock ?? systemClock;
  const store = new Map<string, KubernetesObject>();
  const failing = new Set<string>();
  const calls: Record<string, number> = {};
  let resourceVersion = 1000;
  let uid = 0;
  const enter = (method: string, opts: CallOptions | undefined) => {
    calls[method] = (calls[method] ?? 0) + 1;
    throwIfAborted(opts?.signal);
  };

  const checkKind = (apiVersion: string, kind: string, namespace: string | undefined) => {
    const namespaced = MEMORY_CLUSTER_KINDS[`${apiVersion}/${kind}`];
    if (namespaced === undefined)
      throw invalidInput(`memory cluster: unsupported kind ${apiVersion} ${kind}.`);
    if (namespaced && !namespace)
      throw invalidInput(`memory cluster: ${kind} is namespaced; metadata.namespace is required.`);
    if (!namespaced && namespace)
      throw invalidInput(`memory cluster: ${kind} is cluster-scoped; remove metadata.namespace.`);
    if (
      namespaced &&
      namespace &&
      !store.has(keyOf({ apiVersion: 'v1', kind: 'Namespace', name: namespace }))
    ) {
      throw new ZonekeeperError('NOT_FOUND', `memory cluster: namespaces "${namespace}" not found.`);
    }
  };

  const normalise = (object: KubernetesObject): Mutable<KubernetesObject> => {
    const copy = clone(object) as Mutable<KubernetesObject> & {
      stringData?: Record<string, string>;
      data?: Record<string, string>;
    };
    if (copy.kind === 'Secret' && copy.stringData) {
      copy.data = {
        ...copy.data,
        ...Object.fromEntries(
          Object.entries(copy.stringData).map(([k, v]) => [k, Buffer.from(v, 'utf8').toString('base64')]),
        ),
      };
      delete copy.stringData;
    }
    return copy;
  };

  const content = (o: KubernetesObject) => {
    const { metadata, status: _status, ...rest } = o as KubernetesObject & { status?: unknown };
    const {
      resourceVersion: _rv,
      uid: _uid,
      generation: _g,
      creationTimestamp: _c,
      managedFields: _m,
      ...meta
    } = metadata;
    return { ...rest, metadata: meta };
  };

  const rollout = (o: Mutable<KubernetesObject>) => {
    if (o.kind !== 'Deployment') return;
    const spec = (o.spec ?? {}) as { replicas?: number };
    const replicas = spec.replicas ?? 1;
    const generation = o.metadata.generation ?? 1;
    const now = clock.now().toISOString();
    const failed = failing.has(`${o.metadata.namespace}/${o.metadata.name}`);
    o.status = failed
      ? {
          observedGeneration: generation,
          replicas,
          updatedReplicas: 0,
          unavailableReplicas: replicas,
          conditions: [
            { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', lastUpdateTime: now },
            {
              type: 'Progressing',
              status: 'False',
              reason: 'ProgressDeadlineExceeded',
              message: `ReplicaSet "${o.metadata.name}" has timed out progressing.`,
              lastUpdateTime: now,
            },
          ],
        }
      : {
          observedGeneration: generation,
          replicas,
          updatedReplicas: replicas,
          readyReplicas: replicas,
          availableReplicas: replicas,
          conditions: [
            { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', lastUpdateTime: now },
            { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', lastUpdateTime: now },
          ],
        };
  };

  const write = (incoming: KubernetesObject, mode: 'apply' | 'replace'): KubernetesObject => {
    if (!incoming || typeof incoming !== 'object' || !incoming.metadata?.name)
      throw invalidInput('memory cluster: object needs apiVersion, kind and metadata.name.');
    const ref = refOf(incoming);
    checkKind(ref.apiVersion, ref.kind, ref.namespace);
    const key = keyOf(ref);
    const existing = store.get(key);
    const desired = normalise(incoming);
    if (mode === 'replace') {
      const rv = incoming.metadata.resourceVersion;
      if (existing && rv !== existing.metadata.resourceVersion) {
        throw new ZonekeeperError(
          'CONFLICT',
          `memory cluster: Operation cannot be fulfilled on ${describeRef(ref)}: the object has been modified; please apply your changes to the latest version and try again.`,
          { retry: 'transient' },
        );
      }
      if (!existing && rv !== undefined)
        throw new ZonekeeperError('NOT_FOUND', `memory cluster: ${describeRef(ref)} not found.`);
    }
    if (existing && sameJson(content(existing), content(desired))) return clone(existing);
    // A Deployment's generation also moves on annotation changes (the real registry does that).
    const specChanged =
      !existing ||
      !sameJson((existing as { spec?: unknown }).spec, (desired as { spec?: unknown }).spec) ||
      (desired.kind === 'Deployment' &&
        !sameJson(existing.metadata.annotations, desired.metadata.annotations));
    resourceVersion += 1;
    const next: Mutable<KubernetesObject> = {
      ...desired,
      metadata: {
        ...desired.metadata,
        uid: existing?.metadata.uid ?? `00000000-0000-4000-8000-${(++uid).toString(16).padStart(12, '0')}`,
        resourceVersion: String(resourceVersion),
        generation: existing ? (existing.metadata.generation ?? 1) + (specChanged ? 1 : 0) : 1,
        creationTimestamp:
          existing?.metadata.creationTimestamp ?? `${clock.now().toISOString().slice(0, 19)}Z`,
      },
    };
    if (existing && (existing as { status?: unknown }).status !== undefined)
      next.status = (existing as { status?: unknown }).status;
    if (specChanged || !existing) rollout(next);
    store.set(key, next);
    return clone(next);
  };

  for (const ns of options.namespaces ?? ['default'])
    write({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }, 'apply');

  return {
    name: options.name ?? 'memory',
    calls,
    async apply(object, opts: ApplyOptions = {}) {
      enter('apply', opts);
      return write(object, 'apply');
    },
    async replace(object, opts = {}) {
      enter('replace', opts);
      if (!object.metadata?.resourceVersion && store.has(keyOf(refOf(object)))) {
        throw new ZonekeeperError(
          'ALREADY_EXISTS',
          `memory cluster: ${describeRef(refOf(object))} already exists.`,
        );
      }
      return write(object, 'replace');
    },
    async get(ref, opts = {}) {
      enter('get', opts);
      const found = store.get(keyOf(ref));
      return found && clone(found);
    },
    async list(apiVersion, kind, opts: ListOptions = {}) {
      enter('list', opts);
      return [...store.values()]
        .filter((o) => o.apiVersion === apiVersion && o.kind === kind)
        .filter((o) => opts.namespace === undefined || o.metadata.namespace === opts.namespace)
        .filter((o) => matchesSelector(o.metadata.labels, opts.labelSelector))
        .map(clone);
    },
    async delete(ref, opts = {}) {
      enter('delete', opts);
      const key = keyOf(ref);
      if (!store.has(key)) return false;
      store.delete(key);
      if (ref.kind === 'Namespace' && ref.apiVersion === 'v1') {
        for (const [k, o] of store) if (o.metadata.namespace === ref.name) store.delete(k);
      }
      return true;
    },
    objects: (kind) => [...store.values()].filter((o) => kind === undefined || o.kind === kind).map(clone),
    setRolloutFailure(namespace, name, fail) {
      if (fail) failing.add(`${namespace}/${name}`);
      else failing.delete(`${namespace}/${name}`);
      const o = store.get(keyOf({ apiVersion: 'apps/v1', kind: 'Deployment', namespace, name })) as
        | Mutable<KubernetesObject>
        | undefined;
      if (o) rollout(o);
    },
  };
}
