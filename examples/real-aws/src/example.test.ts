/**
 * The example's flow on emulators — never on AWS: Route 53 and IAM on moto through the real adapters,
 * Vault on the testkit fake through node-vault, and a memory cluster.
 */
import { createMemoryCluster, type MemoryCluster } from '@zonekeeper/externaldns-deployer';
import { createIamIdentityProvider } from '@zonekeeper/iam-scoper/iam';
import { type MotoServer, startMoto } from '@zonekeeper/testkit/moto';
import { startVaultFake, type VaultFake } from '@zonekeeper/testkit/vault';
import { createVaultSecretStore } from '@zonekeeper/vault-keys/vault';
import { createRoute53Provider } from '@zonekeeper/zone-manager/route53';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_NAMESPACE, type ExamplePorts, runExample } from './example.js';

let moto: MotoServer;
let vault: VaultFake;
beforeAll(async () => {
  [moto, vault] = await Promise.all([startMoto(), startVaultFake()]);
});
afterAll(async () => {
  await moto?.stop();
  await vault?.stop();
});

describe('the real-AWS example on emulators', () => {
  it('sets up an organisation and a cluster, converges on a re-run, and tears everything down', async () => {
    const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
    const cluster: MemoryCluster = createMemoryCluster({ name: 'example-1' });
    const ports: ExamplePorts = {
      dns: createRoute53Provider({ endpoint: moto.endpoint, credentials }),
      identity: createIamIdentityProvider({ endpoint: moto.endpoint, credentials }),
      secrets: createVaultSecretStore({ endpoint: vault.endpoint, token: vault.rootToken }),
      cluster,
    };
    await ports.dns.createZone({ name: 'example.com', callerReference: `parent-${Date.now()}` });
    const options = { baseDomain: 'example.com', organization: 'zkexample', clusterId: 'example-1' };
    const lines: string[] = [];
    const print = (l = '') => lines.push(l);

    await runExample(ports, options, print);
    let out = lines.splice(0).join('\n');
    expect(out).toContain(
      '  ensureOrganization: create-zone, tag-zone, upsert-delegation, create-user, put-policy, issue-key, create-ca',
    );
    expect(out).toMatch(/zone zkexample\.example\.com \(\w+\), name servers /);
    expect(out).toMatch(/ExternalDNS: create Namespace\/external-dns, .*create Deployment\/external-dns/);
    expect(out).toMatch(
      /certificate example-tls: issue-certificate, apply-tls-secret; www\.zkexample\.example\.com/,
    );
    expect(
      cluster
        .objects('Secret')
        .map((s) => `${s.metadata.namespace}/${s.metadata.name}`)
        .sort(),
    ).toEqual(['external-dns/external-dns-aws-credentials', `${EXAMPLE_NAMESPACE}/example-tls`]);
    expect(out).not.toContain(vault.rootToken);

    await runExample(ports, options, print);
    out = lines.splice(0).join('\n');
    expect(out).toContain('  ensureOrganization: nothing to do (converged)');
    expect(out).toContain('  ExternalDNS: unchanged');
    expect(out).toContain('  certificate example-tls: unchanged');

    await runExample(ports, { ...options, teardown: true }, print);
    out = lines.splice(0).join('\n');
    expect(out).toMatch(/detachCluster: .*Deployment\/external-dns/);
    expect(out).toContain(`namespace ${EXAMPLE_NAMESPACE}: deleted`);
    expect(out).toMatch(/zone zkexample\.example\.com \(\w+\): delete-delegation, .*delete-zone/);
    expect(out).toMatch(/IAM user zk-[0-9a-f]{8}\.zkexample: delete-access-key, delete-policy, delete-user/);
    expect(out).toMatch(/Vault: deleted \d+ secret\(s\) of zkexample/);
    expect(await ports.dns.findZonesByName('zkexample.example.com')).toEqual([]);
    expect(await ports.identity.listUsers('/zonekeeper/')).toEqual([]);
    expect(await ports.secrets.list('zonekeeper/platforms/example.com/orgs')).toEqual([]);
    expect(cluster.objects().map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['Namespace/default']);
  });
});
