/**
 * Test support (not shipped): run as a child process by `runtime.test.ts` with the Node binary under
 * test, as a user's program would run — no test runner, no warning switches. Imports every public entry
 * of every package (the specifiers are the arguments), then makes one call through each adapter
 * (Route 53 and IAM against moto, Vault against the Vault fake, Kubernetes against the Kubernetes fake)
 * and prints what it saw as one JSON line.
 */

import { createKubernetesCluster } from '@zonekeeper/externaldns-deployer/kubernetes';
import { createIamIdentityProvider } from '@zonekeeper/iam-scoper/iam';
import { createVaultSecretStore } from '@zonekeeper/vault-keys/vault';
import { createRoute53Provider } from '@zonekeeper/zone-manager/route53';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`adapter-calls: ${name} is not set (runtime.test.ts sets it)`);
  return value;
}

const imported: string[] = [];
for (const specifier of process.argv.slice(2)) {
  const entry = (await import(specifier)) as Record<string, unknown>;
  if (Object.keys(entry).length === 0) throw new Error(`adapter-calls: ${specifier} exports nothing`);
  imported.push(specifier);
}

const aws = {
  endpoint: required('ZK_RUNTIME_MOTO'),
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
};
const zones = await createRoute53Provider(aws).listZones();
const users = await createIamIdentityProvider(aws).listUsers('/');
const secrets = await createVaultSecretStore({
  endpoint: required('ZK_RUNTIME_VAULT'),
  token: required('ZK_RUNTIME_VAULT_TOKEN'),
}).list('');
const namespace = await createKubernetesCluster({ kubeconfigYaml: required('ZK_RUNTIME_KUBECONFIG') }).get({
  apiVersion: 'v1',
  kind: 'Namespace',
  name: 'default',
});

process.stdout.write(
  `${JSON.stringify({
    node: process.version,
    imported,
    zones: zones.length,
    users: users.length,
    secrets: secrets.length,
    namespace: namespace?.metadata?.name ?? null,
  })}\n`,
);
