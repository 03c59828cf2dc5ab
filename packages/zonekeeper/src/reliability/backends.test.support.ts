/**
 * Test support (not shipped): the backends the reliability matrix runs on.
 *
 * - `emulatorBackend()`: Route 53 and IAM on moto behind the testkit fault proxy (the real AWS SDK
 *   clients through `createRoute53Provider` / `createIamIdentityProvider`, fast retry strategies), Vault
 *   on the testkit Vault fake behind a second fault proxy (the real node-vault client through
 *   `createVaultSecretStore`), and clusters from a {@link ClusterBackend}.
 * - `memoryBackend()`: the shipped memory ports.
 *
 * The cluster side is pluggable ({@link ClusterBackend}): the emulator backend uses one testkit
 * Kubernetes API fake per cluster through the production adapter ({@link kubernetesClusterBackend});
 * the memory backend uses memory clusters. `CLUSTERS` below picks the emulators' one.
 */

import { type Clock, type ClusterClient, systemClock, ZonekeeperError } from '@zonekeeper/core';
import { createMemoryCluster } from '@zonekeeper/externaldns-deployer';
import { createKubernetesCluster } from '@zonekeeper/externaldns-deployer/kubernetes';
import {
  createMemoryIdentityProvider,
  createMemoryPodIdentityProvider,
  createMemoryRoleProvider,
  type IdentityProvider,
  type OidcProviderRegistry,
  type PodIdentityAssociationProvider,
  type RoleProvider,
} from '@zonekeeper/iam-scoper';
import { createIamIdentityProvider } from '@zonekeeper/iam-scoper/iam';
import { type KubernetesFake, startKubernetesFake } from '@zonekeeper/kube-apiserver-fake';
import { type FaultProxy, type FaultRule, startFaultProxy } from '@zonekeeper/testkit/fault-proxy';
import { type MotoServer, startMoto } from '@zonekeeper/testkit/moto';
import { startVaultFake, type VaultFake } from '@zonekeeper/testkit/vault';
import { createMemorySecretStore, type SecretStore } from '@zonekeeper/vault-keys';
import { createVaultSecretStore } from '@zonekeeper/vault-keys/vault';
import { createMemoryDnsProvider, type DnsProvider } from '@zonekeeper/zone-manager';
import { createRoute53Provider, createRoute53RetryStrategy } from '@zonekeeper/zone-manager/route53';
import type { ZonekeeperConfig } from '../config.js';
import { type Dropper, Harness, PORT_METHODS, type PortKind } from './harness.test.support.js';
import type { Inspect } from './world.test.support.js';

export const BASE_DOMAIN = 'example.com';

/** A crash's one-shot faults: the request is forwarded and applied, then its answer is lost or a 5xx. */
const DROP: FaultRule['fault'] = { kind: 'drop', when: 'after' };
const UNAVAILABLE_AFTER: FaultRule['fault'] = {
  kind: 'error',
  code: 'ServiceUnavailable',
  status: 503,
  when: 'after',
};
const VAULT_503_AFTER: FaultRule['fault'] = {
  kind: 'error',
  code: 'ServiceUnavailable',
  status: 503,
  message: 'Vault is sealed',
  when: 'after',
};

/** The AWS write operations (what a crash or a drop can hit). */
export const ROUTE53_WRITES =
  /^(CreateHostedZone|DeleteHostedZone|ChangeTagsForResource|ChangeResourceRecordSets)$/;
export const IAM_WRITES =
  /^(CreateUser|TagUser|DeleteUser|PutUserPolicy|DeleteUserPolicy|CreateAccessKey|DeleteAccessKey)$/;

/** Counts of one backend, for the figures. */
export interface Counters {
  /** Requests that reached a backend API (HTTP requests for the emulators, port calls for memory). */
  apiCalls: number;
  /** Faults injected by the proxies, the Vault fake and the cluster wrapper. */
  faults: number;
}

/** Where the matrix's clusters come from. */
export interface ClusterBackend {
  readonly name: string;
  /** The client of a cluster (created on first use), already wrapped for counting and faults. */
  client(id: string): Promise<ClusterClient>;
  /** Forgets every cluster (the next `client` call starts empty). */
  reset(clock: Clock): Promise<void>;
  /** Makes the next `count` calls (matching `match`, if given) fail with `UNAVAILABLE` before being applied. */
  failNext(count: number, match?: (method: string) => boolean): void;
  readonly counters: Counters;
  stop(): Promise<void>;
}

/**
 * Clusters of one kind behind a small counting, fault-injecting `ClusterClient` wrapper. `open` makes
 * the client of a cluster id; `close` releases everything `open` made.
 */
function wrappedClusterBackend(
  name: string,
  open: (id: string, clock: Clock) => Promise<ClusterClient>,
  close: () => Promise<void>,
): ClusterBackend {
  let clients = new Map<string, ClusterClient>();
  let clock: Clock = systemClock;
  const counters: Counters = { apiCalls: 0, faults: 0 };
  const failures: { remaining: number; match: ((method: string) => boolean) | undefined }[] = [];
  const wrapped = (inner: ClusterClient): ClusterClient =>
    new Proxy(inner, {
      get: (object, property, receiver) => {
        const value = Reflect.get(object, property, receiver) as unknown;
        if (
          typeof property !== 'string' ||
          typeof value !== 'function' ||
          !PORT_METHODS.cluster.all.has(property)
        )
          return value;
        const fn = value as (...args: unknown[]) => Promise<unknown>;
        return async (...args: unknown[]) => {
          counters.apiCalls += 1;
          const rule = failures.find((f) => f.remaining > 0 && (f.match?.(property) ?? true));
          if (rule) {
            rule.remaining -= 1;
            counters.faults += 1;
            throw new ZonekeeperError(
              'UNAVAILABLE',
              `Kubernetes: ${property} failed with HTTP 503 (injected by the cluster wrapper); retry later.`,
            );
          }
          return fn.apply(object, args);
        };
      },
    });
  return {
    name,
    async client(id) {
      let c = clients.get(id);
      if (!c) {
        c = wrapped(await open(id, clock));
        clients.set(id, c);
      }
      return c;
    },
    async reset(next) {
      clock = next;
      clients = new Map();
      failures.length = 0;
      await close();
    },
    failNext(count, match) {
      failures.push({ remaining: count, match });
    },
    counters,
    stop: close,
  };
}

/** Memory clusters (from `@zonekeeper/externaldns-deployer`). */
export function memoryClusterBackend(): ClusterBackend {
  return wrappedClusterBackend(
    'memory clusters',
    async (id, clock) => createMemoryCluster({ name: id, clock }),
    async () => {},
  );
}

/**
 * One testkit Kubernetes API fake per cluster id (HTTPS, real `Status` errors, server-side apply with
 * field ownership, a Deployment controller), driven through the production adapter on
 * `@kubernetes/client-node`.
 */
export function kubernetesClusterBackend(): ClusterBackend {
  const fakes: KubernetesFake[] = [];
  return wrappedClusterBackend(
    'Kubernetes API fakes (@kubernetes/client-node)',
    async (id) => {
      const fake = await startKubernetesFake({ rolloutDelayMs: 0 });
      fakes.push(fake);
      return createKubernetesCluster({ name: id, kubeconfigYaml: fake.kubeconfig().yaml });
    },
    async () => {
      await Promise.all(fakes.splice(0).map((f) => f.stop()));
    },
  );
}

/** The one line to change to run the matrix on another cluster backend. */
export const CLUSTERS: () => ClusterBackend = kubernetesClusterBackend;

/** A backend the matrix runs on. */
export interface Backend {
  readonly name: string;
  readonly clusters: ClusterBackend;
  /** Fresh state for one case: only the parent zone exists; IAM, the store and the clusters are empty. */
  reset(clock: Clock): Promise<void>;
  /**
   * The ports of a zonekeeper under test, through `harness` when given; the memory backend also has
   * keyless credentials' roles and Pod Identity associations (the emulators do not: their scenarios
   * are the access-key ones).
   */
  config(
    harness?: Harness,
  ): Pick<
    ZonekeeperConfig,
    'dns' | 'identity' | 'secrets' | 'clusters' | 'roles' | 'podIdentity' | 'keyless'
  >;
  /** Read-only access that bypasses proxies and harnesses. */
  readonly inspect: Inspect;
  /** The wire-level drops of this backend. */
  readonly droppers: Partial<Record<PortKind, Dropper>>;
  /** The wire-level 5xx answers after the request was applied, of this backend. */
  readonly failers: Partial<Record<PortKind, Dropper>>;
  /** Totals since the backend started. */
  counters(): Counters;
  /** Write requests that reached Route 53/IAM and Vault since the last `mark()` (emulators only). */
  wireWrites?(): { readonly aws: number; readonly vault: number };
  /** Starts a new window for `wireWrites`. */
  mark?(): void;
  stop(): Promise<void>;
}

function harnessed(backend: Pick<Backend, 'clusters'>, harness: Harness | undefined) {
  return async (id: string) => {
    const client = await backend.clusters.client(id);
    return harness ? harness.wrap(client, 'cluster', id) : client;
  };
}

/** The AWS account of the memory backend's keyless roles. */
export const KEYLESS_ACCOUNT = '123456789012';
/** The EKS clusters the memory backend's Pod Identity knows (named like the cluster ids). */
export const EKS_CLUSTERS = ['c3'];

/** The shipped memory ports, fresh for every case. */
export function memoryBackend(clusters: ClusterBackend = memoryClusterBackend()): Backend {
  let dns: DnsProvider = createMemoryDnsProvider();
  let identity: IdentityProvider = createMemoryIdentityProvider();
  let secrets: SecretStore = createMemorySecretStore();
  let roles: RoleProvider & OidcProviderRegistry = createMemoryRoleProvider({ accountId: KEYLESS_ACCOUNT });
  let podIdentity: PodIdentityAssociationProvider = createMemoryPodIdentityProvider({
    accountId: KEYLESS_ACCOUNT,
    clusters: EKS_CLUSTERS,
  });
  let calls = 0;
  const counting = <T extends object>(port: T, kind: PortKind): T =>
    new Proxy(port, {
      get: (object, property, receiver) => {
        const value = Reflect.get(object, property, receiver) as unknown;
        if (
          typeof property !== 'string' ||
          typeof value !== 'function' ||
          !PORT_METHODS[kind].all.has(property)
        )
          return value;
        return (...args: unknown[]) => {
          calls += 1;
          return (value as (...a: unknown[]) => unknown).apply(object, args);
        };
      },
    });
  const backend: Backend = {
    name: 'memory',
    clusters,
    async reset(clock) {
      dns = createMemoryDnsProvider({ clock });
      identity = createMemoryIdentityProvider({ clock });
      secrets = createMemorySecretStore({ clock });
      roles = createMemoryRoleProvider({ clock, accountId: KEYLESS_ACCOUNT });
      podIdentity = createMemoryPodIdentityProvider({
        clock,
        accountId: KEYLESS_ACCOUNT,
        clusters: EKS_CLUSTERS,
      });
      await dns.createZone({ name: BASE_DOMAIN, callerReference: 'parent' });
      await clusters.reset(clock);
    },
    config(harness) {
      const wrap = <T extends object>(port: T, kind: PortKind) => {
        const counted = counting(port, kind);
        return harness ? harness.wrap(counted, kind) : counted;
      };
      return {
        dns: wrap(dns, 'dns'),
        identity: wrap(identity, 'identity'),
        secrets: wrap(secrets, 'secrets'),
        clusters: harnessed(backend, harness),
        roles: wrap(roles, 'roles'),
        podIdentity: wrap(podIdentity, 'podIdentity'),
        keyless: { accountId: KEYLESS_ACCOUNT },
      };
    },
    inspect: {
      baseDomain: BASE_DOMAIN,
      get dns() {
        return dns;
      },
      get roles() {
        return roles;
      },
      get podIdentity() {
        return podIdentity;
      },
      eksClusters: EKS_CLUSTERS,
      get identity() {
        return identity;
      },
      get secrets() {
        return secrets;
      },
      cluster: (id) => clusters.client(id),
    },
    droppers: {},
    failers: {},
    counters: () => ({
      apiCalls: calls + clusters.counters.apiCalls,
      faults: clusters.counters.faults,
    }),
    async stop() {
      await clusters.stop();
    },
  };
  return backend;
}

const AWS_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

export interface EmulatorBackend extends Backend {
  readonly moto: MotoServer;
  readonly awsProxy: FaultProxy;
  readonly vault: VaultFake;
  readonly vaultProxy: FaultProxy;
  /** Fault rules applied to every AWS request from now on (besides a crash's one-shot drop). */
  setAwsRules(rules: readonly FaultRule[]): void;
}

/**
 * moto + fault proxy for Route 53 and IAM, the Vault fake + fault proxy for the store, and clusters from
 * `clusters`. One per test file; `reset()` between cases.
 */
export async function emulatorBackend(
  options: { readonly clusters?: ClusterBackend; readonly maxAttempts?: number; readonly seed?: string } = {},
): Promise<EmulatorBackend> {
  const clusters = options.clusters ?? CLUSTERS();
  const moto = await startMoto();
  const awsProxy = await startFaultProxy({ target: moto.endpoint, seed: options.seed ?? 'zonekeeper' });
  const vault = await startVaultFake();
  const vaultProxy = await startFaultProxy({ target: vault.endpoint, seed: options.seed ?? 'zonekeeper' });
  const retryStrategy = () =>
    createRoute53RetryStrategy({ maxAttempts: options.maxAttempts ?? 10, baseDelayMs: 2, maxDelayMs: 10 });
  const dns = createRoute53Provider({
    endpoint: awsProxy.endpoint,
    credentials: AWS_CREDENTIALS,
    requestsPerSecond: 1_000,
    retryStrategy: retryStrategy(),
  });
  const identity = createIamIdentityProvider({
    endpoint: awsProxy.endpoint,
    region: 'us-east-1',
    credentials: AWS_CREDENTIALS,
    retryStrategy: retryStrategy(),
  });
  const secrets = createVaultSecretStore({
    endpoint: vaultProxy.endpoint,
    token: vault.rootToken,
    requestTimeoutMs: 10_000,
  });
  const inspect: Inspect = {
    baseDomain: BASE_DOMAIN,
    dns: createRoute53Provider({
      endpoint: moto.endpoint,
      credentials: AWS_CREDENTIALS,
      requestsPerSecond: 1_000,
    }),
    identity: createIamIdentityProvider({
      endpoint: moto.endpoint,
      region: 'us-east-1',
      credentials: AWS_CREDENTIALS,
    }),
    secrets: createVaultSecretStore({ endpoint: vault.endpoint, token: vault.rootToken }),
    cluster: (id) => clusters.client(id),
  };
  let awsRules: readonly FaultRule[] = [];
  const totals = { aws: 0, awsFaults: 0, vault: 0, vaultFaults: 0 };
  /** Moves the proxies' and the fake's logs into the totals. */
  const absorb = () => {
    totals.aws += awsProxy.count();
    totals.awsFaults += awsProxy.count({ faulted: true });
    totals.vault += vault.requests.length;
    totals.vaultFaults +=
      vault.requests.filter((r) => r.injected).length + vaultProxy.count({ faulted: true });
    awsProxy.clearLog();
    vaultProxy.clearLog();
    vault.clearRequests();
  };
  const crashWith =
    (
      fault: FaultRule['fault'],
      proxy: FaultProxy,
      rule: Omit<FaultRule, 'fault'>,
      restore: () => readonly FaultRule[],
    ): Dropper =>
    async (run) => {
      proxy.setRules([{ ...rule, fault, times: 1, label: 'crash' }, ...restore()]);
      try {
        return await run();
      } finally {
        proxy.setRules(restore());
      }
    };
  const backend: EmulatorBackend = {
    name: 'moto + Vault fake + Kubernetes fakes',
    moto,
    awsProxy,
    vault,
    vaultProxy,
    clusters,
    setAwsRules(rules) {
      awsRules = rules;
      awsProxy.setRules(rules);
    },
    async reset(clock) {
      absorb();
      awsRules = [];
      awsProxy.setRules([]);
      vaultProxy.setRules([]);
      await moto.reset();
      vault.reset();
      await inspect.dns.createZone({ name: BASE_DOMAIN, callerReference: `parent-${Date.now()}` });
      await clusters.reset(clock);
      absorb();
    },
    config(harness) {
      const wrap = <T extends object>(port: T, kind: PortKind) => (harness ? harness.wrap(port, kind) : port);
      return {
        dns: wrap(dns, 'dns'),
        identity: wrap(identity, 'identity'),
        secrets: wrap(secrets, 'secrets'),
        clusters: harnessed(backend, harness),
      };
    },
    inspect,
    droppers: {
      dns: crashWith(DROP, awsProxy, { service: 'route53', operation: ROUTE53_WRITES }, () => awsRules),
      identity: crashWith(DROP, awsProxy, { service: 'iam', operation: IAM_WRITES }, () => awsRules),
      secrets: crashWith(DROP, vaultProxy, {}, () => []),
    },
    failers: {
      dns: crashWith(
        UNAVAILABLE_AFTER,
        awsProxy,
        { service: 'route53', operation: ROUTE53_WRITES },
        () => awsRules,
      ),
      identity: crashWith(
        UNAVAILABLE_AFTER,
        awsProxy,
        { service: 'iam', operation: IAM_WRITES },
        () => awsRules,
      ),
      secrets: crashWith(VAULT_503_AFTER, vaultProxy, {}, () => []),
    },
    counters() {
      const live = {
        aws: awsProxy.count(),
        awsFaults: awsProxy.count({ faulted: true }),
        vault: vault.requests.length,
        vaultFaults: vault.requests.filter((r) => r.injected).length + vaultProxy.count({ faulted: true }),
      };
      return {
        apiCalls: totals.aws + live.aws + totals.vault + live.vault + clusters.counters.apiCalls,
        faults:
          totals.awsFaults +
          live.awsFaults +
          totals.vaultFaults +
          live.vaultFaults +
          clusters.counters.faults,
      };
    },
    mark() {
      absorb();
    },
    wireWrites() {
      return {
        aws:
          awsProxy.count({ operation: ROUTE53_WRITES, faulted: false }) +
          awsProxy.count({ operation: IAM_WRITES, faulted: false }),
        vault: vault.requests.filter((r) => r.method !== 'GET' && !r.injected).length,
      };
    },
    async stop() {
      await clusters.stop();
      await vaultProxy.stop();
      await vault.stop();
      await awsProxy.stop();
      await moto.stop();
    },
  };
  return backend;
}

export { Harness };
