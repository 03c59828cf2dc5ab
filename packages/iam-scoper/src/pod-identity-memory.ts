/**
 * An in-memory {@link PodIdentityAssociationProvider} that behaves like the EKS API where zonekeeper
 * depends on it:
 *
 * - only the clusters it was given exist (`NOT_FOUND` for any other, like EKS's
 *   `ResourceNotFoundException`); {@link MemoryPodIdentityProvider.addCluster} adds one;
 * - a service account has at most one association per cluster (`ALREADY_EXISTS`, EKS's
 *   `ResourceInUseException`);
 * - a create retried with the same `clientRequestToken` and the same request returns the association
 *   it created, with a different request it is `INVALID_INPUT` (EKS's idempotency);
 * - ids are `a-` + 17 characters of `a-z0-9` from an injectable random source, ARNs
 *   `arn:aws:eks:<region>:<account>:podidentityassociation/<cluster>/<id>`.
 *
 * moto (5.2) has no Pod Identity API at all, so this provider and the adapter's stubbed unit tests are
 * what the port is tested with.
 *
 * @packageDocumentation
 */

import { randomBytes } from 'node:crypto';
import {
  type CallOptions,
  type Clock,
  invalidInput,
  systemClock,
  throwIfAborted,
  ZonekeeperError,
} from '@zonekeeper/core';
import { validateTags } from './identity-validation.js';
import type {
  PodIdentityAssociation,
  PodIdentityAssociationProvider,
  PodIdentityAssociationSummary,
} from './pod-identity-ports.js';
import {
  validateAssociationId,
  validateClientRequestToken,
  validateEksClusterName,
  validateRoleArn,
} from './pod-identity-validation.js';
import {
  validateAccountId,
  validateKubernetesNamespace,
  validateServiceAccountName,
} from './trust-policy.js';

/** Options of {@link createMemoryPodIdentityProvider}. @public */
export interface MemoryPodIdentityProviderOptions {
  /** The names of the clusters that exist (default none). */
  readonly clusters?: readonly string[];
  /** Region in ARNs (default `eu-west-1`). */
  readonly region?: string;
  /** Account id in ARNs (default `123456789012`). */
  readonly accountId?: string;
  /** Stamps associations (default: the system clock). */
  readonly clock?: Clock;
  /** Random bytes for ids (default `crypto.randomBytes`). */
  readonly randomBytes?: (size: number) => Uint8Array;
}

/** The memory provider plus inspection helpers. @public */
export interface MemoryPodIdentityProvider extends PodIdentityAssociationProvider {
  readonly kind: 'memory';
  /** Makes a cluster exist. */
  addCluster(clusterName: string): void;
  /** Calls per method, failed ones included. */
  readonly calls: Readonly<Partial<Record<Exclude<keyof PodIdentityAssociationProvider, 'kind'>, number>>>;
  /** Every association, sorted by cluster, namespace and service account. */
  snapshot(): readonly PodIdentityAssociation[];
}

interface Stored extends PodIdentityAssociation {
  readonly token?: string;
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/**
 * Creates an in-memory Pod Identity association provider (see the module notes).
 *
 * @example
 * ```ts
 * const eks = createMemoryPodIdentityProvider({ clusters: ['acme-c1'] });
 * const a = await eks.createAssociation({ clusterName: 'acme-c1', namespace: 'external-dns', serviceAccount: 'external-dns', roleArn, tags: {} });
 * await eks.deleteAssociation('acme-c1', a.associationId);
 * ```
 * @public
 */
export function createMemoryPodIdentityProvider(
  options: MemoryPodIdentityProviderOptions = {},
): MemoryPodIdentityProvider {
  const clock = options.clock ?? systemClock;
  const random = options.randomBytes ?? ((n: number) => randomBytes(n));
  const region = options.region ?? 'eu-west-1';
  const accountId = validateAccountId(options.accountId ?? '123456789012');
  const clusters = new Map<string, Map<string, Stored>>(); // cluster → id → association
  for (const c of options.clusters ?? []) clusters.set(validateEksClusterName(c), new Map());
  const calls: Partial<Record<Exclude<keyof PodIdentityAssociationProvider, 'kind'>, number>> = {};

  const run = async <T>(
    method: Exclude<keyof PodIdentityAssociationProvider, 'kind'>,
    opts: CallOptions | undefined,
    body: () => T,
  ): Promise<T> => {
    calls[method] = (calls[method] ?? 0) + 1;
    throwIfAborted(opts?.signal);
    return body();
  };
  const cluster = (name: string) => {
    const c = clusters.get(name);
    if (!c) {
      throw new ZonekeeperError('NOT_FOUND', `memory EKS: no cluster found for name: ${name}.`, {
        details: { clusterName: name },
      });
    }
    return c;
  };
  const copy = (a: Stored): PodIdentityAssociation => {
    const { token: _token, ...rest } = a;
    return { ...rest, tags: { ...a.tags }, createdAt: new Date(a.createdAt) };
  };
  const freshId = (): string => {
    const bytes = random(17);
    let id = 'a-';
    for (let i = 0; i < 17; i++) id += ALPHABET[(bytes[i] ?? 0) % ALPHABET.length];
    return id;
  };

  return {
    kind: 'memory',
    calls,
    addCluster(name) {
      if (!clusters.has(validateEksClusterName(name))) clusters.set(name, new Map());
    },
    snapshot: () =>
      [...clusters.values()]
        .flatMap((m) => [...m.values()])
        .sort(
          (a, b) =>
            a.clusterName.localeCompare(b.clusterName) ||
            a.namespace.localeCompare(b.namespace) ||
            a.serviceAccount.localeCompare(b.serviceAccount),
        )
        .map(copy),

    createAssociation: (spec, opts) =>
      run('createAssociation', opts, () => {
        const clusterName = validateEksClusterName(spec?.clusterName);
        const namespace = validateKubernetesNamespace(spec.namespace);
        const serviceAccount = validateServiceAccountName(spec.serviceAccount);
        const roleArn = validateRoleArn(spec.roleArn);
        const tags = validateTags(spec.tags);
        const token = validateClientRequestToken(spec.clientRequestToken);
        const associations = cluster(clusterName);
        const existing = [...associations.values()].find(
          (a) => a.namespace === namespace && a.serviceAccount === serviceAccount,
        );
        if (existing && token !== undefined && existing.token === token) {
          if (existing.roleArn !== roleArn) {
            throw invalidInput(`memory EKS: client request token ${token} was used for a different request.`);
          }
          return copy(existing);
        }
        if (existing) {
          throw new ZonekeeperError(
            'ALREADY_EXISTS',
            `memory EKS: an association for service account ${namespace}/${serviceAccount} already exists in cluster ${clusterName} (${existing.associationId}).`,
            { details: { clusterName, namespace, serviceAccount, associationId: existing.associationId } },
          );
        }
        const associationId = freshId();
        const stored: Stored = {
          associationId,
          associationArn: `arn:aws:eks:${region}:${accountId}:podidentityassociation/${clusterName}/${associationId}`,
          clusterName,
          namespace,
          serviceAccount,
          roleArn,
          tags,
          createdAt: clock.now(),
          ...(token === undefined ? {} : { token }),
        };
        associations.set(associationId, stored);
        return copy(stored);
      }),

    describeAssociation: (clusterName, associationId, opts) =>
      run('describeAssociation', opts, () => {
        validateEksClusterName(clusterName);
        validateAssociationId(associationId);
        const a = clusters.get(clusterName)?.get(associationId);
        return a ? copy(a) : undefined;
      }),

    listAssociations: (clusterName, filter = {}, opts) =>
      run('listAssociations', opts, () => {
        validateEksClusterName(clusterName);
        const namespace =
          filter.namespace === undefined ? undefined : validateKubernetesNamespace(filter.namespace);
        const sa =
          filter.serviceAccount === undefined ? undefined : validateServiceAccountName(filter.serviceAccount);
        return [...cluster(clusterName).values()]
          .filter(
            (a) =>
              (namespace === undefined || a.namespace === namespace) &&
              (sa === undefined || a.serviceAccount === sa),
          )
          .map(
            (a): PodIdentityAssociationSummary => ({
              associationId: a.associationId,
              associationArn: a.associationArn,
              clusterName: a.clusterName,
              namespace: a.namespace,
              serviceAccount: a.serviceAccount,
            }),
          );
      }),

    deleteAssociation: (clusterName, associationId, opts) =>
      run('deleteAssociation', opts, () => {
        validateEksClusterName(clusterName);
        validateAssociationId(associationId);
        const associations = cluster(clusterName);
        if (!associations.delete(associationId)) {
          throw new ZonekeeperError(
            'NOT_FOUND',
            `memory EKS: association ${associationId} not found in cluster ${clusterName}.`,
            { details: { clusterName, associationId } },
          );
        }
      }),
  };
}
