/**
 * The real-AWS walk-through, on whatever ports it is given (`main.ts` gives it Route 53, IAM, Vault and
 * a Kubernetes cluster; the test gives it moto, the Vault fake and a memory cluster):
 *
 *   set up   ensureOrganization → namespace for the certificate → attachCluster (ExternalDNS + TLS)
 *   teardown detachCluster → namespace → organisation zone (delegation → records → zone)
 *            → IAM identities → Vault secrets — the collector's order, for this organisation only
 *
 * A zone deleted within 12 hours of its creation is not charged, so `--teardown` on the same day costs
 * nothing but the queries.
 */

import {
  type ClusterClient,
  type Logger,
  maskSecret,
  organizationZoneName,
  ZONEKEEPER_MANAGER,
  ZonekeeperLabels,
} from '@zonekeeper/core';
import { deleteZoneIdentity, type IdentityProvider, listZoneIdentities } from '@zonekeeper/iam-scoper';
import { deleteOrganizationSecrets, type SecretStore } from '@zonekeeper/vault-keys';
import { type DnsProvider, deleteOrganizationZone, listManagedZones } from '@zonekeeper/zone-manager';
import { createMemoryInventory, createZonekeeper } from 'zonekeeper';

/** The ports the example runs on. */
export interface ExamplePorts {
  readonly dns: DnsProvider;
  readonly identity: IdentityProvider;
  readonly secrets: SecretStore;
  /** The cluster ExternalDNS is installed in. */
  readonly cluster: ClusterClient;
  readonly logger?: Logger;
}

/** What to do. */
export interface ExampleOptions {
  readonly baseDomain: string;
  readonly parentZoneId?: string;
  readonly organization: string;
  readonly clusterId: string;
  /** Remove everything the set-up created instead. */
  readonly teardown?: boolean;
  /** Plan only. */
  readonly dryRun?: boolean;
  /** Rollout timeout (default 300 000 ms). */
  readonly rolloutTimeoutMs?: number;
  /** Vault secret prefix (default `zonekeeper`). */
  readonly secretPrefix?: string;
}

/** The namespace the example's TLS Secret goes to (created and deleted by the example). */
export const EXAMPLE_NAMESPACE = 'zonekeeper-example';

/** Runs the set-up or the teardown. Throws zonekeeper errors as they come. */
export async function runExample(
  ports: ExamplePorts,
  options: ExampleOptions,
  print: (line?: string) => void,
): Promise<void> {
  const { organization, clusterId, baseDomain } = options;
  const zoneName = organizationZoneName(organization, baseDomain);
  const zk = createZonekeeper({
    baseDomain,
    ...(options.parentZoneId ? { parentZoneId: options.parentZoneId } : {}),
    dns: ports.dns,
    identity: ports.identity,
    secrets: ports.secrets,
    clusters: { [clusterId]: ports.cluster },
    // The host platform's inventory; here, just this cluster (the example never runs the collector).
    inventory: createMemoryInventory([{ organization, clusterId, running: true }]),
    ...(ports.logger ? { logger: ports.logger } : {}),
    ...(options.secretPrefix ? { secretPrefix: options.secretPrefix } : {}),
    ...(options.rolloutTimeoutMs ? { externalDns: { rolloutTimeoutMs: options.rolloutTimeoutMs } } : {}),
  });
  const dryRun = options.dryRun === true;
  const nsRef = { apiVersion: 'v1', kind: 'Namespace', name: EXAMPLE_NAMESPACE };

  if (options.teardown) {
    print(`Tearing down ${organization} (${zoneName}) and cluster ${clusterId}${dryRun ? ' (dry run)' : ''}`);
    const detached = await zk.detachCluster(organization, clusterId, { dryRun });
    print(
      `  detachCluster: ${detached.uninstalled.map((s) => `${s.ref.kind}/${s.ref.name}`).join(', ') || 'nothing installed'}`,
    );
    const ns = await ports.cluster.get(nsRef);
    if (ns?.metadata.labels?.[ZonekeeperLabels.managedBy] === ZONEKEEPER_MANAGER) {
      if (!dryRun) await ports.cluster.delete(nsRef);
      print(`  namespace ${EXAMPLE_NAMESPACE}: deleted`);
    }
    const zone = (await listManagedZones({ dns: ports.dns }, { baseDomain })).find(
      (z) => z.organization === organization,
    );
    if (zone) {
      const deleted = await deleteOrganizationZone(zone.id, { dns: ports.dns }, { dryRun });
      print(`  zone ${zone.name} (${zone.id}): ${deleted.plan.steps.map((s) => s.op).join(', ')}`);
    } else print(`  zone ${zoneName}: none managed`);
    for (const user of await listZoneIdentities({ baseDomain, organization }, { identity: ports.identity })) {
      const deleted = await deleteZoneIdentity(
        { userName: user.userName },
        { identity: ports.identity },
        { dryRun },
      );
      print(`  IAM user ${user.userName}: ${deleted.plan.steps.map((s) => s.op).join(', ')}`);
    }
    const paths = dryRun
      ? []
      : (await deleteOrganizationSecrets(ports.secrets, organization, zk.secretLayout)).deleted;
    print(`  Vault: ${dryRun ? 'would delete' : 'deleted'} ${paths.length} secret(s) of ${organization}`);
    print('Done. A zone deleted within 12 hours of its creation is not charged.');
    return;
  }

  print(
    `Setting up ${organization} (${zoneName}) on cluster ${clusterId}${dryRun ? ' (dry run: nothing changes)' : ''}`,
  );
  const org = await zk.ensureOrganization(organization, { dryRun });
  const ops = Object.values(org.plans).flatMap((steps) => steps.map((s) => s.op));
  print(`  ensureOrganization: ${ops.join(', ') || 'nothing to do (converged)'}`);
  if (org.zone) {
    print(`  zone ${org.zone.name} (${org.zone.id}), name servers ${org.zone.nameServers.join(', ')}`);
    print(`  delegated from ${baseDomain}: check with  dig +short NS ${org.zone.name}`);
  }
  if (org.userName)
    print(
      `  IAM user ${org.userName}, access key ${maskSecret(org.accessKeyId ?? '', 4)} (the secret is only in Vault)`,
    );
  if (org.duplicateZones.length > 0)
    print(`  duplicate zones found (reported): ${org.duplicateZones.join(', ')}`);

  // The certificate's namespace must exist; the example creates its own, marked as zonekeeper's.
  if (!dryRun && !(await ports.cluster.get(nsRef)))
    await ports.cluster.apply({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: EXAMPLE_NAMESPACE, labels: { [ZonekeeperLabels.managedBy]: ZONEKEEPER_MANAGER } },
    });
  const attached = await zk.attachCluster(
    organization,
    {
      clusterId,
      certificates: [
        {
          name: 'example-tls',
          namespace: EXAMPLE_NAMESPACE,
          dnsNames: [`www.${zoneName}`, `*.apps.${zoneName}`],
        },
      ],
    },
    { dryRun },
  );
  const externalDns = attached.externalDns;
  const steps = externalDns
    ? externalDns.plan.steps.map((s) => `${s.change} ${s.ref.kind}/${s.ref.name}`)
    : ['rendered once the key this plan issues exists'];
  print(`  ExternalDNS: ${steps.join(', ') || 'unchanged'}`);
  if (externalDns?.rollout)
    print(
      `  rollout: generation ${externalDns.rollout.observedGeneration}, ${externalDns.rollout.availableReplicas} available`,
    );
  for (const cert of attached.certificates) {
    const c = cert.certificate;
    const did = cert.plan.steps.map((s) => s.op).join(', ') || 'unchanged';
    print(
      `  certificate example-tls: ${did}${c ? `; ${c.dnsNames.join(', ')}, until ${c.notAfter.toISOString()}, renew after ${c.renewAt.toISOString()}` : ''}`,
    );
  }
  if (!dryRun) {
    print('Next:');
    print(
      `  kubectl -n external-dns logs deploy/external-dns      (a new IAM key needs 5–15 s before AWS accepts it)`,
    );
    print(
      `  kubectl -n ${EXAMPLE_NAMESPACE} get secret example-tls -o jsonpath='{.data.ca\\.crt}' | base64 -d`,
    );
    print('  then run again with --teardown (free if within 12 hours of the zone’s creation)');
  }
}
