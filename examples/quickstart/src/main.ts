/**
 * The zonekeeper quickstart (`pnpm --filter @zonekeeper-examples/quickstart start`): one organisation,
 * one cluster and one garbage collection on the embedded in-memory backend. No AWS account, Vault or
 * cluster is needed: `createZonekeeper` with only a base domain uses the in-memory ports, which follow
 * Route 53, IAM, Vault KV v2 and Kubernetes semantics. docs/quickstart.md walks through it.
 */
import { maskSecret } from '@zonekeeper/core';
import { createMemoryInventory, createZonekeeper } from 'zonekeeper';

const print = (line = '') => console.log(line);

// The host platform's cluster inventory: the collector deletes a zone only when it says the
// organisation has no running cluster.
const inventory = createMemoryInventory();
const zk = createZonekeeper({ baseDomain: 'example.com', inventory });

// 1. An organisation: its zone delegated from example.com, an IAM identity scoped to that zone, an
//    access key in the secret store, and the organisation's certificate authority.
const org = await zk.ensureOrganization('acme');
print(`zone ${org.zone?.name} (${org.zone?.id}), delegated to ${org.zone?.nameServers.join(', ')}`);
print(
  `identity ${org.userName}, access key ${maskSecret(org.accessKeyId ?? '', 4)} stored in the secret store`,
);
const planned = Object.values(org.plans).flatMap((steps) => steps.map((s) => s.op));
print(`planned and applied: ${planned.join(', ')}`);
const again = await zk.ensureOrganization('acme');
const replanned = Object.values(again.plans).flatMap((steps) => steps.map((s) => s.op));
print(
  `ensureOrganization again: ${replanned.length === 0 ? 'nothing to do (converged)' : replanned.join(', ')}`,
);

// 2. A cluster: ExternalDNS with the organisation's key, and a TLS certificate issued before any load
//    balancer exists, injected as a kubernetes.io/tls Secret.
inventory.set({ organization: 'acme', clusterId: 'prod-1', running: true });
const cluster = await zk.ports.cluster('prod-1');
await cluster.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'web' } });
const attached = await zk.attachCluster('acme', {
  clusterId: 'prod-1',
  certificates: [
    { name: 'web', namespace: 'web', dnsNames: ['www.acme.example.com', '*.apps.acme.example.com'] },
  ],
});
const applied = (attached.externalDns?.plan.steps ?? []).map((s) => s.ref.kind);
print(
  `ExternalDNS on prod-1: applied ${applied.join(', ')}; ${attached.externalDns?.rollout?.availableReplicas} replica available`,
);
for (const cert of attached.certificates) {
  const c = cert.certificate;
  print(
    `certificate web: ${c?.dnsNames.join(', ')}, valid until ${c?.notAfter.toISOString()}, renewed after ${c?.renewAt.toISOString()}`,
  );
}

// 3. The cluster goes away. The collector deletes the unused zone: it is minutes old, so deleting it is
//    free (Route 53 does not charge a zone deleted within 12 hours of its creation).
inventory.remove('acme', 'prod-1');
const detached = await zk.detachCluster('acme', 'prod-1');
print(`detached prod-1: removed ${detached.uninstalled.map((s) => s.ref.kind).join(', ')}`);
const gc = await zk.collectGarbage();
for (const d of gc.plan.decisions) {
  const zone = gc.zones.find((z) => z.id === d.zoneId);
  const result = gc.results.find((r) => r.zoneId === d.zoneId);
  print(`collector: ${zone?.name} ${d.action} (${d.reason}) → ${result?.status ?? 'kept'}`);
}
const left = await zk.collectGarbage({ dryRun: true });
print(`managed zones left: ${left.zones.length}`);
