/**
 * The emulator backend of the demo: the same story over real HTTP. Route 53 and IAM run on moto, Vault
 * and each cluster on the testkit fakes, driven by the real AWS SDK v3, node-vault and
 * @kubernetes/client-node through zonekeeper's production adapters.
 */
import type { ClusterClient } from '@zonekeeper/core';
import { createManualClock } from '@zonekeeper/core';
import { createKubernetesCluster } from '@zonekeeper/externaldns-deployer/kubernetes';
import { createIamIdentityProvider } from '@zonekeeper/iam-scoper/iam';
import { type KubernetesFake, startKubernetesFake } from '@zonekeeper/kube-apiserver-fake';
import { startMoto } from '@zonekeeper/testkit/moto';
import { startVaultFake } from '@zonekeeper/testkit/vault';
import { createVaultSecretStore } from '@zonekeeper/vault-keys/vault';
import { createRoute53Provider } from '@zonekeeper/zone-manager/route53';
import { createMemoryInventory, createZonekeeper } from 'zonekeeper';
import type { StoryContext } from './story.js';

/** Running emulators and the story context wired to them. */
export interface Emulators extends AsyncDisposable {
  readonly context: Omit<StoryContext, 'print'>;
  describe(): string;
}

/** Starts moto, the Vault fake and (lazily) one Kubernetes fake per cluster, and builds the facade on them. */
export async function startEmulators(): Promise<Emulators> {
  const moto = await startMoto();
  const vault = await startVaultFake().catch(async (e) => {
    await moto.stop();
    throw e;
  });
  const fakes = new Map<string, KubernetesFake>();
  const clients = new Map<string, ClusterClient>();
  const stop = async () => {
    await Promise.allSettled([moto.stop(), vault.stop(), ...[...fakes.values()].map((f) => f.stop())]);
  };
  try {
    const aws = {
      endpoint: moto.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    };
    const dns = createRoute53Provider({ ...aws, requestsPerSecond: 50 });
    await dns.createZone({
      name: 'example.com',
      callerReference: `demo-parent-${Date.now()}`,
      comment: 'The platform base domain',
    });
    const clock = createManualClock(new Date(), { autoAdvance: true });
    const inventory = createMemoryInventory();
    const zk = createZonekeeper({
      baseDomain: 'example.com',
      clock,
      inventory,
      dns,
      identity: createIamIdentityProvider(aws),
      secrets: createVaultSecretStore({ endpoint: vault.endpoint, token: vault.rootToken }),
      clusters: async (id) => {
        let client = clients.get(id);
        if (!client) {
          const fake = await startKubernetesFake({ rolloutDelayMs: 0 });
          fakes.set(id, fake);
          client = createKubernetesCluster({ name: id, kubeconfigYaml: fake.kubeconfig().yaml });
          clients.set(id, client);
        }
        return client;
      },
    });
    return {
      context: {
        zk,
        inventory,
        clock,
        backend: `emulators (moto ${moto.endpoint}, Vault fake ${vault.endpoint}, one Kubernetes API fake per cluster)`,
      },
      describe: () => `moto pid ${moto.pid}, Vault fake, ${fakes.size} Kubernetes API fakes, all stopped`,
      [Symbol.asyncDispose]: stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
