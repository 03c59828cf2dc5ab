import { createMemoryInventory, createZonekeeper } from 'zonekeeper';

const inventory = createMemoryInventory(); // the host platform's view of its clusters
const zk = createZonekeeper({ baseDomain: 'example.com', inventory }); // no ports given: all in memory

const org = await zk.ensureOrganization('acme'); // zone + delegation, IAM identity, key in Vault, CA
console.log(org.zone?.name, org.zone?.nameServers.length); // acme.example.com 4

inventory.set({ organization: 'acme', clusterId: 'prod-1', running: true });
const cluster = await zk.ports.cluster('prod-1');
await cluster.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'web' } });
const attached = await zk.attachCluster('acme', {
  clusterId: 'prod-1', // ExternalDNS with acme's key, and a TLS Secret before any load balancer exists
  certificates: [{ name: 'web', namespace: 'web', dnsNames: ['www.acme.example.com'] }],
});
console.log(attached.externalDns?.rollout?.replicas, attached.certificates[0]?.certificate?.dnsNames);

inventory.remove('acme', 'prod-1'); // the cluster is gone
await zk.detachCluster('acme', 'prod-1');
const gc = await zk.collectGarbage(); // the zone is minutes old: deleting it is free
console.log(gc.plan.decisions.map((d) => `${d.action} ${d.reason}`)); // [ 'delete FREE_DELETION_WINDOW' ]
