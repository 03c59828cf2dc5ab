/**
 * A leader lock on a Kubernetes `Lease` (coordination.k8s.io/v1), so that several replicas of the host
 * service can run the garbage collector and only one collects at a time. Pipeline ran its collector
 * every minute in every process with no lock.
 *
 * The protocol is client-go's leader election, reduced to what the collector needs: a holder renews
 * the lease well within `leaseDurationSeconds`; anyone may take it once `renewTime + duration` has
 * passed; every write is optimistic (resourceVersion), so two candidates can never both win.
 *
 * Real API server semantics it relies on (Kubernetes 1.32 `coordination.k8s.io` registry): a PUT of
 * a Lease that no longer exists creates it (201, the Lease was deleted between our GET and PUT, so
 * the write is still exclusive: a second candidate's PUT then meets a new resourceVersion and gets
 * 409), and a PUT without `resourceVersion` is a 422 (`must be specified for an update`) — the lock
 * never sends one: a new Lease is created (POST, 409 when someone else created it first). A cluster
 * without create-on-update answers such a PUT with 404, which counts as a lost round.
 *
 * @packageDocumentation
 */

import {
  type CallOptions,
  type Clock,
  type ClusterClient,
  hasErrorCode,
  invalidInput,
  type KubernetesObject,
  systemClock,
  validateDnsLabel,
  ZONEKEEPER_MANAGER,
  ZonekeeperLabels,
} from '@zonekeeper/core';

/** Where the lease lives and who we are. @public */
export interface LeaseOptions {
  /** The cluster holding the lease (any cluster all replicas can reach). */
  readonly cluster: ClusterClient;
  /** Namespace of the Lease object (must exist). */
  readonly namespace: string;
  /** Lease name (default `zonekeeper-gc`). */
  readonly name?: string;
  /** This replica's identity, unique among replicas (e.g. the pod name). */
  readonly identity: string;
  /** How long a lease stays valid without renewal (default 60 000 ms; renewed every third of it). */
  readonly durationMs?: number;
}

/** A lease lock. @public */
export interface LeaseLock {
  /** Takes the lease if free or expired, renews it if ours. Resolves whether we hold it now. */
  tryAcquireOrRenew(options?: CallOptions): Promise<boolean>;
  /** Gives the lease up if we hold it (others may take it at once). */
  release(options?: CallOptions): Promise<void>;
  /** Whether the last acquire/renew succeeded. */
  readonly held: boolean;
  readonly durationMs: number;
}

interface LeaseSpec {
  holderIdentity?: string | null;
  leaseDurationSeconds?: number;
  acquireTime?: string | null;
  renewTime?: string | null;
  leaseTransitions?: number;
}

/** Kubernetes MicroTime: RFC 3339 with microseconds. */
function microTime(d: Date): string {
  return `${d.toISOString().slice(0, 23)}000Z`;
}

/**
 * Creates a lease lock.
 * @public
 */
export function createLeaseLock(options: LeaseOptions, deps: { readonly clock?: Clock } = {}): LeaseLock {
  const clock = deps.clock ?? systemClock;
  const namespace = validateDnsLabel(options.namespace, 'Lease namespace');
  const name = validateDnsLabel(options.name ?? 'zonekeeper-gc', 'Lease name');
  if (
    typeof options.identity !== 'string' ||
    options.identity.length === 0 ||
    options.identity.length > 128
  ) {
    throw invalidInput(
      'Lease identity must be a non-empty string of at most 128 characters (e.g. the pod name).',
    );
  }
  const durationMs = options.durationMs ?? 60_000;
  if (!Number.isInteger(durationMs) || durationMs < 3000)
    throw invalidInput('Lease durationMs must be an integer ≥ 3000.');
  const ref = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', namespace, name };
  let held = false;

  const write = async (
    existing: KubernetesObject | undefined,
    spec: LeaseSpec,
    callOptions: CallOptions,
  ): Promise<boolean> => {
    const object: KubernetesObject = {
      apiVersion: ref.apiVersion,
      kind: ref.kind,
      metadata: {
        name,
        namespace,
        labels: { [ZonekeeperLabels.managedBy]: ZONEKEEPER_MANAGER },
        ...(existing?.metadata.resourceVersion ? { resourceVersion: existing.metadata.resourceVersion } : {}),
      },
      spec,
    };
    try {
      await options.cluster.replace(object, callOptions);
      return true;
    } catch (error) {
      // Someone else wrote first: they won this round. NOT_FOUND: the Lease was deleted between our
      // read and our write on a cluster whose PUT does not create; the next round creates it.
      if (hasErrorCode(error, ['CONFLICT', 'ALREADY_EXISTS', 'NOT_FOUND'])) return false;
      throw error;
    }
  };

  return {
    durationMs,
    get held() {
      return held;
    },
    async tryAcquireOrRenew(callOptions = {}) {
      const now = clock.now();
      const existing = await options.cluster.get(ref, callOptions);
      const spec = (existing?.spec ?? {}) as LeaseSpec;
      const seconds = Math.ceil(durationMs / 1000);
      if (existing && spec.holderIdentity === options.identity) {
        held = await write(
          existing,
          { ...spec, leaseDurationSeconds: seconds, renewTime: microTime(now) },
          callOptions,
        );
        return held;
      }
      const renewed = spec.renewTime ? Date.parse(spec.renewTime) : Number.NaN;
      const validFor = (spec.leaseDurationSeconds ?? seconds) * 1000;
      const free =
        !existing || !spec.holderIdentity || !Number.isFinite(renewed) || renewed + validFor <= now.getTime();
      if (!free) {
        held = false;
        return false;
      }
      held = await write(
        existing,
        {
          holderIdentity: options.identity,
          leaseDurationSeconds: seconds,
          acquireTime: microTime(now),
          renewTime: microTime(now),
          leaseTransitions: (spec.leaseTransitions ?? 0) + (existing ? 1 : 0),
        },
        callOptions,
      );
      return held;
    },
    async release(callOptions = {}) {
      if (!held) return;
      held = false;
      const existing = await options.cluster.get(ref, callOptions);
      const spec = (existing?.spec ?? {}) as LeaseSpec;
      if (!existing || spec.holderIdentity !== options.identity) return;
      await write(
        existing,
        { ...spec, holderIdentity: null, renewTime: null, acquireTime: null },
        callOptions,
      );
    },
  };
}
