/**
 * A PowerDNS world for the rfc2136 scenarios: a real `pdns_server` holding a parent zone and two
 * organisations' zones, each organisation's TSIG key made by `ensureOrganizationTsigKey` and kept in a
 * secret store (vault-keys' layout), and one Kubernetes API fake as acme's cluster, with acme's
 * ExternalDNS rendered (`--provider=rfc2136`) and applied. With `via: 'facade'` the same world is built
 * by `createZonekeeper({ powerdns })`: `ensureOrganization('globex')` and
 * `attachCluster('acme', { clusterId: 'acme-prod' })` make the zones, the keys and acme's ExternalDNS.
 *
 * ```
 *  kubectl ──► Kubernetes API fake ◄── ExternalDNS (--once) ──RFC 2136 + TSIG(acme)──► pdns_server
 *                                                                          dig / nsupdate ──┘
 * ```
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  applyExternalDns,
  type ExternalDnsPolicy,
  renderExternalDns,
} from '@zonekeeper/externaldns-deployer';
import { createKubernetesCluster } from '@zonekeeper/externaldns-deployer/kubernetes';
import { type KubernetesFake, startKubernetesFake } from '@zonekeeper/kube-apiserver-fake';
import {
  type NsupdateKey,
  type PowerDnsOptions,
  type PowerDnsServer,
  startPowerDns,
} from '@zonekeeper/testkit/powerdns';
import { createMemorySecretStore, readTsigKey, writeTsigKey } from '@zonekeeper/vault-keys';
import {
  createPowerDnsAdmin,
  createPowerDnsProvider,
  ensureOrganizationTsigKey,
  type PowerDnsAdmin,
  type PowerDnsProvider,
  type TsigKeyStore,
} from '@zonekeeper/zone-manager/powerdns';
import { createZonekeeper, type Zonekeeper } from 'zonekeeper';
import { type ExternalDnsRun, runExternalDnsOnce } from './external-dns/pod.js';
import { runKubectl } from './world.js';

export const PARENT = 'example.com';
export const ACME = 'acme.example.com';
export const GLOBEX = 'globex.example.com';
export const REF = { namespace: 'external-dns', name: 'external-dns' } as const;

/** Options of {@link startPowerDnsWorld}. */
export interface PowerDnsWorldOptions {
  /** Let each organisation's key transfer its zone, and render acme's ExternalDNS with `--rfc2136-axfr`. */
  readonly axfr?: boolean;
  /** acme's `--policy` (default `upsert-only`). */
  readonly policy?: ExternalDnsPolicy;
  /** More `pdns.conf` settings. */
  readonly settings?: PowerDnsOptions['settings'];
  /** `facade`: provision through `createZonekeeper({ powerdns })` instead of the packages by hand. */
  readonly via?: 'packages' | 'facade';
}

/** A running PowerDNS world (stop it in `afterAll`). */
export interface PowerDnsWorld {
  readonly pdns: PowerDnsServer;
  readonly dns: PowerDnsProvider;
  readonly admin: PowerDnsAdmin;
  /** Each zone's organisation key, read back from the secret store. */
  readonly keys: Readonly<Record<string, NsupdateKey>>;
  readonly cluster: KubernetesFake;
  /** The facade that provisioned the world (`via: 'facade'` only). */
  readonly zk?: Zonekeeper;
  /** `{ port }` of the server's DNS, for dig and nsupdate. */
  server(): { readonly port: number };
  kubectl(args: readonly string[], stdin?: string): Promise<string>;
  /** Every record of a zone as the API lists it, `name type values…`, sorted. */
  records(zone: string): Promise<string[]>;
  /** Creates (or updates) an annotated LoadBalancer Service in `default` and sets its address. */
  service(name: string, hostnames: string, ip: string): Promise<void>;
  /** One ExternalDNS loop of acme's Deployment. */
  runOnce(options?: { tamper?: (args: readonly string[]) => readonly string[] }): Promise<ExternalDnsRun>;
  stop(): Promise<void>;
}

/** Starts the server, provisions both organisations, and applies acme's ExternalDNS. */
export async function startPowerDnsWorld(options: PowerDnsWorldOptions = {}): Promise<PowerDnsWorld> {
  const cleanups: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  };
  try {
    const pdns = await startPowerDns(options.settings ? { settings: options.settings } : {});
    cleanups.push(() => pdns.stop());
    const dns = createPowerDnsProvider({
      apiUrl: pdns.apiUrl,
      apiKey: pdns.apiKey,
      nameServers: ['ns1.pdns.test'],
    });
    const admin = createPowerDnsAdmin(dns.api);
    await dns.createZone({ name: PARENT, callerReference: 'platform-parent' });
    const dir = await mkdtemp(join(tmpdir(), 'zk-e2e-pdns-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const cluster = await startKubernetesFake({ rolloutDelayMs: 0 });
    cleanups.push(() => cluster.stop());
    const acmeCluster = createKubernetesCluster({
      name: 'acme-prod',
      kubeconfigYaml: cluster.kubeconfig().yaml,
    });
    // Each organisation's identity: its key created over the API, kept in the secret store, alone
    // allowed to update (and, with axfr, to transfer) its zone.
    const secrets = createMemorySecretStore();
    const store: TsigKeyStore = {
      read: (organization, o) => readTsigKey(secrets, { organization }, o),
      write: (organization, key, o) => writeTsigKey(secrets, { organization }, key, o),
    };
    const keys: Record<string, NsupdateKey> = {};
    let zk: Zonekeeper | undefined;
    if (options.via === 'facade') {
      zk = createZonekeeper({
        baseDomain: PARENT,
        secrets,
        clusters: { 'acme-prod': acmeCluster },
        powerdns: {
          apiUrl: pdns.apiUrl,
          apiKey: pdns.apiKey,
          nameServers: ['ns1.pdns.test'],
          dnsUpdate: { host: '127.0.0.1', port: pdns.dnsPort },
          updateSources: ['127.0.0.0/8'],
          ...(options.axfr ? { axfr: true } : {}),
        },
        ...(options.policy ? { externalDns: { policy: options.policy } } : {}),
      });
      await zk.ensureOrganization('globex');
      await zk.attachCluster('acme', { clusterId: 'acme-prod' });
      for (const [organization, zone] of [
        ['acme', ACME],
        ['globex', GLOBEX],
      ] as const) {
        const key = await readTsigKey(secrets, { organization }, zk.secretLayout);
        if (!key) throw new Error(`no stored key for ${organization}`);
        keys[zone] = { name: key.name, algorithm: key.algorithm, secret: key.secret };
      }
    }
    for (const [organization, zone] of options.via === 'facade'
      ? []
      : ([
          ['acme', ACME],
          ['globex', GLOBEX],
        ] as const)) {
      await dns.createZone({ name: zone, callerReference: `org-${zone}` });
      await ensureOrganizationTsigKey(
        { admin, store },
        {
          organization,
          zoneName: zone,
          updateSources: ['127.0.0.0/8'],
          ...(options.axfr ? { allowTransfer: true } : {}),
        },
      );
      const key = await readTsigKey(secrets, { organization });
      if (!key) throw new Error(`no stored key for ${organization}`);
      keys[zone] = { name: key.name, algorithm: key.algorithm, secret: key.secret };
    }
    const acmeKey = keys[ACME] as NsupdateKey;
    if (options.via !== 'facade')
      await applyExternalDns(
        acmeCluster,
        renderExternalDns({
          clusterId: 'acme-prod',
          organization: 'acme',
          zoneName: ACME,
          createNamespace: true,
          ...(options.policy ? { policy: options.policy } : {}),
          rfc2136: {
            host: '127.0.0.1',
            port: pdns.dnsPort,
            axfr: options.axfr === true,
            tsigKey: { name: acmeKey.name, algorithm: 'hmac-sha256', secret: acmeKey.secret },
          },
        }),
      );
    const kubectl = async (args: readonly string[], stdin?: string) =>
      runKubectl(await cluster.writeKubeconfig(dir), args, stdin);
    return {
      pdns,
      dns,
      admin,
      keys,
      cluster,
      ...(zk ? { zk } : {}),
      server: () => ({ port: pdns.dnsPort }),
      kubectl,
      async records(zone) {
        const [found] = await dns.findZonesByName(zone);
        if (!found) throw new Error(`no zone ${zone}`);
        const page = await dns.listRecords(found.id, { maxItems: 300 });
        return page.recordSets.map((r) => `${r.name} ${r.type} ${(r.values ?? []).join(' ')}`).sort();
      },
      async service(name, hostnames, ip) {
        await kubectl(
          ['apply', '-f', '-'],
          [
            'apiVersion: v1',
            'kind: Service',
            'metadata:',
            `  name: ${name}`,
            '  namespace: default',
            '  annotations:',
            `    external-dns.kubernetes.io/hostname: ${hostnames}`,
            'spec:',
            '  type: LoadBalancer',
            '  ports: [{ port: 443 }]',
            '',
          ].join('\n'),
        );
        await kubectl([
          'patch',
          'service',
          name,
          '-n',
          'default',
          '--subresource=status',
          '--type=merge',
          '-p',
          JSON.stringify({ status: { loadBalancer: { ingress: [{ ip }] } } }),
        ]);
      },
      runOnce: (runOptions = {}) => runExternalDnsOnce({ cluster }, REF, runOptions),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
