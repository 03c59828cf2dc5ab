/**
 * `pnpm --filter @zonekeeper-examples/real-aws start -- [--org <org>] [--cluster <id>] [--dry-run] [--teardown]`
 *
 * zonekeeper against real Route 53, IAM, Vault and a Kubernetes cluster: the real adapters, the AWS SDK's
 * default credential chain, `VAULT_ADDR`/`VAULT_TOKEN` and the current kubeconfig context. Without all
 * of that (and an explicit `ZONEKEEPER_REAL_AWS=1`), it prints what it needs and exits 0 without
 * calling anything — which is all it ever does in CI.
 */
import { parseArgs } from 'node:util';
import { toZonekeeperError, validateClusterId, validateOrganizationName } from '@zonekeeper/core';
import { checkRequirements } from './requirements.js';

const print = (line = '') => console.log(line);

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      org: { type: 'string' },
      cluster: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      teardown: { type: 'boolean', default: false },
    },
    allowPositionals: false,
  });
  const env = process.env;
  const requirements = checkRequirements({ env });
  const missing = requirements.filter((r) => !r.met);
  if (missing.length > 0) {
    print('The real-AWS example needs (nothing was called):');
    for (const r of requirements) print(`  ${r.met ? '✓' : '✗'} ${r.name}${r.met ? '' : ` — ${r.hint}`}`);
    print('See examples/real-aws/README.md.');
    return 0;
  }

  // Everything is there: load the real adapters (only now, so the check above touches nothing).
  const [
    { createRoute53Provider },
    { createIamIdentityProvider },
    { createVaultSecretStore },
    { createKubernetesCluster },
    { runExample },
  ] = await Promise.all([
    import('@zonekeeper/zone-manager/route53'),
    import('@zonekeeper/iam-scoper/iam'),
    import('@zonekeeper/vault-keys/vault'),
    import('@zonekeeper/externaldns-deployer/kubernetes'),
    import('./example.js'),
  ]);
  const organization = validateOrganizationName(values.org ?? env.ZONEKEEPER_ORG ?? 'zkexample');
  const clusterId = validateClusterId(values.cluster ?? env.ZONEKEEPER_CLUSTER_ID ?? 'example-1');
  const parentZoneId = env.ZONEKEEPER_PARENT_ZONE_ID;
  await runExample(
    {
      // Leave most of the account's Route 53 budget to the ExternalDNS instances sharing it.
      dns: createRoute53Provider({ requestsPerSecond: 2 }),
      identity: createIamIdentityProvider(),
      secrets: createVaultSecretStore({ mount: env.ZONEKEEPER_VAULT_MOUNT ?? 'secret' }),
      cluster: createKubernetesCluster({ name: clusterId }),
      logger: {
        debug: () => {},
        info: (m) => print(`    · ${m}`),
        warn: (m) => print(`    ! ${m}`),
        error: (m) => print(`    ✗ ${m}`),
      },
    },
    {
      baseDomain: env.ZONEKEEPER_BASE_DOMAIN as string,
      ...(parentZoneId ? { parentZoneId } : {}),
      organization,
      clusterId,
      teardown: values.teardown === true,
      dryRun: values['dry-run'] === true,
    },
    print,
  );
  return 0;
}

try {
  process.exitCode = await main();
} catch (error) {
  // zonekeeper errors say what went wrong and what to do next, and never carry a secret.
  const e = toZonekeeperError(error);
  console.error(`real-aws example failed (${e.code}): ${e.message}`);
  process.exitCode = 1;
}
