/**
 * One scenario's world: a platform on one AWS account with two organisations' worth of room, every
 * backend real or wire-level, nothing shared with another test file.
 *
 * ```
 *  zonekeeper facade (createZonekeeper, production adapters)
 *     ├─ Route 53 + IAM ──► fault proxy ──► moto            (administrator key "test")
 *     ├─ Vault (node-vault) ──► Vault fake
 *     └─ clusters (createKubernetesCluster, @kubernetes/client-node) ──► one Kubernetes API fake each
 *  ExternalDNS (the real binary, one process per loop or a long-running "pod")
 *     ├─ Kubernetes ──► the cluster's fake (kubeconfig)
 *     └─ Route 53 ──► IAM enforcer ──► fault proxy ──► moto   (the organisation's or cluster's key)
 * ```
 *
 * The parent zone `example.com` exists in moto before anything runs, as on a real platform.
 */

import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateHostedZoneCommand,
  ListHostedZonesCommand,
  ListResourceRecordSetsCommand,
  type ResourceRecordSet,
  Route53Client,
} from '@aws-sdk/client-route-53';
import type { ClusterClient } from '@zonekeeper/core';
import { createKubernetesCluster } from '@zonekeeper/externaldns-deployer/kubernetes';
import type { OidcProviderRegistry, RoleProvider } from '@zonekeeper/iam-scoper';
import {
  createIamIdentityProvider,
  createIamOidcProviderRegistry,
  createIamRoleProvider,
} from '@zonekeeper/iam-scoper/iam';
import { type KubernetesFake, startKubernetesFake } from '@zonekeeper/kube-apiserver-fake';
import { type FaultProxy, startFaultProxy } from '@zonekeeper/testkit/fault-proxy';
import { type MotoServer, startMoto } from '@zonekeeper/testkit/moto';
import type { TestOidcIssuer } from '@zonekeeper/testkit/oidc-issuer';
import { startVaultFake, type VaultFake } from '@zonekeeper/testkit/vault';
import { createVaultSecretStore } from '@zonekeeper/vault-keys/vault';
import { createRoute53Provider } from '@zonekeeper/zone-manager/route53';
import { createMemoryInventory, createZonekeeper, type Zonekeeper, type ZonekeeperConfig } from 'zonekeeper';
import {
  type DeploymentRef,
  type ExternalDnsPod,
  type ExternalDnsRun,
  type PodTarget,
  type RunOnceOptions,
  runExternalDnsOnce,
  startExternalDnsPod,
} from './external-dns/pod.js';
import { type IamEnforcer, startIamEnforcer } from './iam-enforcer/enforcer.js';

export const BASE_DOMAIN = 'example.com';
export const ADMIN = { accessKeyId: 'test', secretAccessKey: 'test' } as const;
/** An ELB-style load-balancer host name (ExternalDNS knows its canonical zone: an ALIAS, no ELB API call). */
export const ELB_HOSTNAME = 'a1b2c3d4e5-1234567890.us-east-1.elb.amazonaws.com';

/** A record as Route 53 lists it, in one line: `name type value…` (alias: `ALIAS <dns name>`). */
export function recordLine(set: ResourceRecordSet): string {
  const name = (set.Name ?? '').replace(/\\052/g, '*');
  const value = set.AliasTarget
    ? `ALIAS ${set.AliasTarget.DNSName?.replace(/\.$/, '')}`
    : (set.ResourceRecords ?? []).map((r) => r.Value).join(' ');
  return `${name} ${set.Type} ${value}`;
}

/** The IAM roles and OIDC providers as the facade's one `roles` port. */
function iamRoles(options: Parameters<typeof createIamRoleProvider>[0]): RoleProvider & OidcProviderRegistry {
  const roles = createIamRoleProvider(options);
  const oidc = createIamOidcProviderRegistry(options);
  const port: Record<string, unknown> = { kind: roles.kind };
  for (const source of [roles, oidc] as const)
    for (const [name, value] of Object.entries(source))
      if (typeof value === 'function') port[name] = (value as (...a: unknown[]) => unknown).bind(source);
  return port as unknown as RoleProvider & OidcProviderRegistry;
}

/** Options of {@link startWorld}. */
export interface WorldOptions {
  readonly identityScope?: ZonekeeperConfig['identityScope'];
  readonly externalDns?: ZonekeeperConfig['externalDns'];
  /**
   * The service-account issuer of each cluster that has one (web identity): it signs the projected
   * tokens of that cluster's pods, and the IAM enforcer fetches its discovery document and JWKS.
   */
  readonly issuers?: Readonly<Record<string, TestOidcIssuer>>;
}

/** A running world (dispose it with `await using`). */
export interface World extends AsyncDisposable {
  readonly zk: Zonekeeper;
  readonly moto: MotoServer;
  readonly faults: FaultProxy;
  readonly enforcer: IamEnforcer;
  readonly vault: VaultFake;
  /** The Kubernetes fake of a cluster (started on first use). */
  cluster(clusterId: string): Promise<KubernetesFake>;
  /** The zone id of a zone name (moto, read directly). */
  zoneId(zoneName: string): Promise<string>;
  /** Every record of a zone as {@link recordLine}s, sorted (moto, read directly). */
  records(zoneName: string): Promise<string[]>;
  /** One ExternalDNS loop of the cluster's Deployment (`external-dns/external-dns` unless given). */
  runOnce(
    clusterId: string,
    options?: RunOnceOptions & { readonly ref?: DeploymentRef },
  ): Promise<ExternalDnsRun>;
  /** A long-running ExternalDNS "pod" for the cluster's Deployment. */
  startPod(clusterId: string, ref?: DeploymentRef): Promise<ExternalDnsPod>;
  /** Runs kubectl against the cluster's fake; rejects with its stderr on a non-zero exit. */
  kubectl(clusterId: string, args: readonly string[], stdin?: string): Promise<string>;
  /** Plays the cloud's load-balancer controller: writes `status.loadBalancer` through `/status`. */
  setLoadBalancer(
    clusterId: string,
    resource: 'service' | 'ingress',
    namespace: string,
    name: string,
    hostname: string,
  ): Promise<void>;
  stop(): Promise<void>;
}

const DEFAULT_REF: DeploymentRef = { namespace: 'external-dns', name: 'external-dns' };

/** Starts moto, the proxies, the Vault fake and the facade; clusters start lazily. */
export async function startWorld(options: WorldOptions = {}): Promise<World> {
  const cleanups: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  };
  try {
    const moto = await startMoto();
    cleanups.push(() => moto.stop());
    const faults = await startFaultProxy({ target: moto.endpoint });
    cleanups.push(() => faults.stop());
    const issuers = Object.values(options.issuers ?? {});
    const enforcer = await startIamEnforcer({
      target: faults.endpoint,
      iamEndpoint: moto.endpoint,
      adminCredentials: ADMIN,
      issuerFetch: (input, init) => {
        const url = String(input instanceof Request ? input.url : input);
        const issuer = issuers.find((i) => url.startsWith(`${i.issuer}/`));
        return issuer ? issuer.fetch(input, init) : fetch(input, init);
      },
    });
    cleanups.push(() => enforcer.stop());
    const vault = await startVaultFake();
    cleanups.push(() => vault.stop());
    const dir = await mkdtemp(join(tmpdir(), 'zk-e2e-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));

    const inspect = new Route53Client({ endpoint: moto.endpoint, region: 'us-east-1', credentials: ADMIN });
    await inspect.send(
      new CreateHostedZoneCommand({ Name: BASE_DOMAIN, CallerReference: 'platform-parent-zone' }),
    );

    const fakes = new Map<string, Promise<KubernetesFake>>();
    const clients = new Map<string, ClusterClient>();
    const cluster = (id: string): Promise<KubernetesFake> => {
      let fake = fakes.get(id);
      if (!fake) {
        fake = startKubernetesFake({ rolloutDelayMs: 0 });
        fakes.set(id, fake);
        cleanups.push(async () => (await fake)?.stop());
      }
      return fake;
    };
    const aws = { endpoint: faults.endpoint, region: 'us-east-1', credentials: ADMIN };
    const zk = createZonekeeper({
      baseDomain: BASE_DOMAIN,
      dns: createRoute53Provider({ ...aws, requestsPerSecond: 200 }),
      identity: createIamIdentityProvider(aws),
      roles: iamRoles(aws),
      keyless: { accountId: '123456789012' },
      secrets: createVaultSecretStore({ endpoint: vault.endpoint, token: vault.rootToken }),
      inventory: createMemoryInventory(),
      clusters: async (id) => {
        let client = clients.get(id);
        if (!client) {
          const fake = await cluster(id);
          client = createKubernetesCluster({ name: id, kubeconfigYaml: fake.kubeconfig().yaml });
          clients.set(id, client);
        }
        return client;
      },
      ...(options.identityScope ? { identityScope: options.identityScope } : {}),
      ...(options.externalDns ? { externalDns: options.externalDns } : {}),
    });

    const zoneId = async (zoneName: string): Promise<string> => {
      let marker: string | undefined;
      for (;;) {
        const page = await inspect.send(new ListHostedZonesCommand(marker ? { Marker: marker } : {}));
        const zone = page.HostedZones?.find((z) => z.Name === `${zoneName}.`);
        if (zone?.Id) return zone.Id.replace('/hostedzone/', '');
        if (!page.IsTruncated) throw new Error(`no zone ${zoneName} in moto`);
        marker = page.NextMarker;
      }
    };
    const kubectl = async (clusterId: string, args: readonly string[], stdin?: string): Promise<string> => {
      const fake = await cluster(clusterId);
      const kubeconfig = await fake.writeKubeconfig(join(dir, clusterId));
      return runKubectl(kubeconfig, args, stdin);
    };

    const podTarget = async (clusterId: string): Promise<PodTarget> => {
      const issuer = options.issuers?.[clusterId];
      return {
        cluster: await cluster(clusterId),
        awsEndpoint: enforcer.endpoint,
        ...(issuer
          ? {
              tokenIssuer: (r) =>
                issuer.serviceAccountToken({
                  namespace: r.namespace,
                  serviceAccount: r.serviceAccount,
                  audience: r.audience,
                  lifetimeSeconds: r.expirationSeconds,
                }),
            }
          : {}),
      };
    };

    const world: World = {
      zk,
      moto,
      faults,
      enforcer,
      vault,
      cluster,
      zoneId,
      async records(zoneName) {
        const id = await zoneId(zoneName);
        const out: string[] = [];
        let next: { name?: string; type?: string } = {};
        for (;;) {
          const page = await inspect.send(
            new ListResourceRecordSetsCommand({
              HostedZoneId: id,
              ...(next.name ? { StartRecordName: next.name } : {}),
              ...(next.type ? { StartRecordType: next.type as never } : {}),
            }),
          );
          out.push(...(page.ResourceRecordSets ?? []).map(recordLine));
          if (!page.IsTruncated) break;
          next = { name: page.NextRecordName as string, type: page.NextRecordType as string };
        }
        return out.sort();
      },
      async runOnce(clusterId, runOptions = {}) {
        return runExternalDnsOnce(await podTarget(clusterId), runOptions.ref ?? DEFAULT_REF, runOptions);
      },
      async startPod(clusterId, ref = DEFAULT_REF) {
        const pod = await startExternalDnsPod(await podTarget(clusterId), ref);
        cleanups.push(() => pod.stop());
        return pod;
      },
      kubectl,
      async setLoadBalancer(clusterId, resource, namespace, name, hostname) {
        await kubectl(clusterId, [
          'patch',
          resource,
          name,
          '-n',
          namespace,
          '--subresource=status',
          '--type=merge',
          '-p',
          JSON.stringify({ status: { loadBalancer: { ingress: [{ hostname }] } } }),
        ]);
      },
      stop,
      [Symbol.asyncDispose]: stop,
    };
    return world;
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Runs kubectl with a kubeconfig file; rejects with its stderr on a non-zero exit. */
export function runKubectl(kubeconfig: string, args: readonly string[], stdin?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('kubectl', ['--kubeconfig', kubeconfig, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString();
    });
    child.on('error', (e) =>
      reject(new Error(`kubectl could not start (${e.message}); install kubectl (Debian: kubectl)`)),
    );
    child.on('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`kubectl ${args.join(' ')} failed (${code}): ${err}`)),
    );
    child.stdin.end(stdin ?? '');
  });
}

/** The ExternalDNS log lines that say what it changed (`Desired change: CREATE web.acme.example.com A`). */
export function desiredChanges(run: { readonly lines: readonly string[] }): string[] {
  return run.lines.flatMap((l) => {
    const m = /msg="Desired change: (\w+) (\S+) (\w+)"/.exec(l);
    return m ? [`${m[1]} ${m[2]} ${m[3]}`] : [];
  });
}

/** ExternalDNS log lines at level error or fatal. */
export function errorLines(run: { readonly lines: readonly string[] }): string[] {
  return run.lines.filter((l) => /level=(error|fatal)/.test(l));
}
