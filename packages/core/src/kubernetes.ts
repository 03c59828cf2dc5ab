/**
 * The shared Kubernetes vocabulary: the object shape every package renders and the labels that mark
 * what zonekeeper owns in a cluster. The cluster port itself ({@link ClusterClient}) lives here too so
 * that `externaldns-deployer`, `cert-issuer` and the facade share one definition; its implementations
 * (in-memory and `@kubernetes/client-node`) live in `@zonekeeper/externaldns-deployer`.
 *
 * @packageDocumentation
 */

import type { CallOptions } from './runtime.js';

/**
 * A Kubernetes object as plain JSON (what `kubectl get -o json` prints). Rendered objects carry
 * `apiVersion`, `kind` and `metadata.name` (and `metadata.namespace` for namespaced kinds).
 * @public
 */
export interface KubernetesObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: KubernetesMetadata;
  readonly [field: string]: unknown;
}

/** The metadata fields zonekeeper reads and writes. @public */
export interface KubernetesMetadata {
  readonly name: string;
  readonly namespace?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly uid?: string;
  readonly resourceVersion?: string;
  readonly generation?: number;
  readonly creationTimestamp?: string;
  readonly [field: string]: unknown;
}

/**
 * Identifies one object: `apiVersion` + `kind` + name (+ namespace for namespaced kinds).
 * @public
 */
export interface ObjectRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
}

/**
 * Labels on every object zonekeeper creates in a cluster. `managedBy` marks ownership: zonekeeper only
 * ever deletes objects that carry `zonekeeper.io/managed-by: zonekeeper`.
 * @public
 */
export const ZonekeeperLabels = {
  /** Ownership label key; its value is always {@link ZONEKEEPER_MANAGER}. */
  managedBy: 'zonekeeper.io/managed-by',
  /** The organisation the object belongs to. */
  organization: 'zonekeeper.io/organization',
  /** The cluster id the object was rendered for. */
  cluster: 'zonekeeper.io/cluster',
  /** Set on a Namespace that zonekeeper created (so uninstall may delete it). */
  createdNamespace: 'zonekeeper.io/created-namespace',
} as const;

/** The value of the ownership label, and the server-side apply field manager. @public */
export const ZONEKEEPER_MANAGER = 'zonekeeper';

/** Options of {@link ClusterClient.apply}. @public */
export interface ApplyOptions extends CallOptions {
  /** Take ownership of fields another field manager owns (server-side apply `force`). Default true. */
  readonly force?: boolean;
}

/** Options of {@link ClusterClient.list}. @public */
export interface ListOptions extends CallOptions {
  /** Only objects in this namespace (namespaced kinds); all namespaces when absent. */
  readonly namespace?: string;
  /** A label selector such as `zonekeeper.io/managed-by=zonekeeper,app=x`. */
  readonly labelSelector?: string;
}

/**
 * The cluster port: the few Kubernetes calls zonekeeper makes. Vendor-faithful and small: it never
 * decides ownership and never retries. Errors are `ZonekeeperError`s: `NOT_FOUND`, `CONFLICT` (a stale
 * `resourceVersion` or a field-manager conflict), `INVALID_INPUT` (422 from the API server),
 * `PERMISSION_DENIED` (401/403), `UNAVAILABLE` (5xx, network).
 * @public
 */
export interface ClusterClient {
  /** A short name for messages, e.g. the cluster id or `memory`. */
  readonly name: string;
  /**
   * Server-side apply with field manager `zonekeeper`: creates the object or updates the fields we own.
   * Returns the object as stored (with `resourceVersion`, `generation`, `uid`).
   */
  apply(object: KubernetesObject, options?: ApplyOptions): Promise<KubernetesObject>;
  /** Reads one object; `undefined` when it does not exist. */
  get(ref: ObjectRef, options?: CallOptions): Promise<KubernetesObject | undefined>;
  /** Lists objects of one kind. */
  list(apiVersion: string, kind: string, options?: ListOptions): Promise<readonly KubernetesObject[]>;
  /** Deletes one object; resolves `false` when it did not exist. */
  delete(ref: ObjectRef, options?: CallOptions): Promise<boolean>;
  /**
   * Replaces an object with optimistic concurrency: `object.metadata.resourceVersion` must match the
   * stored one (else `CONFLICT`); without a resourceVersion the object must not exist yet (else
   * `ALREADY_EXISTS`) and is created. Used for leases.
   */
  replace(object: KubernetesObject, options?: CallOptions): Promise<KubernetesObject>;
}

/**
 * The reference of an object.
 * @public
 */
export function refOf(object: KubernetesObject): ObjectRef {
  const { apiVersion, kind, metadata } = object;
  return metadata.namespace === undefined
    ? { apiVersion, kind, name: metadata.name }
    : { apiVersion, kind, name: metadata.name, namespace: metadata.namespace };
}

/**
 * `kind/namespace/name` (or `kind/name`) for messages.
 * @public
 */
export function describeRef(ref: ObjectRef): string {
  return ref.namespace === undefined ? `${ref.kind}/${ref.name}` : `${ref.kind}/${ref.namespace}/${ref.name}`;
}
