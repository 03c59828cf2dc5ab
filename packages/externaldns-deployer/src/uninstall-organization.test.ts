/** uninstallExternalDns with an organisation: another organisation's installation is never removed. */
import { describe, expect, it } from 'vitest';
import { applyExternalDns, uninstallExternalDns } from './apply.js';
import { createMemoryCluster } from './memory-cluster.js';
import { renderExternalDns } from './objects.js';
import type { ExternalDnsOptions } from './options.js';

const base: ExternalDnsOptions = {
  clusterId: 'c1',
  organization: 'acme',
  zoneName: 'acme.example.com',
  zoneId: 'Z0123456789ABC',
  credentials: {
    accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
    secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  },
  createNamespace: true,
};

describe('uninstallExternalDns({ organization })', () => {
  it("removes only the named organisation's objects, and its namespace only if it is labelled for it", async () => {
    const cluster = createMemoryCluster({ name: 'c1' });
    await applyExternalDns(cluster, renderExternalDns(base), {}, { waitForRollout: false });
    const other = await uninstallExternalDns(cluster, { organization: 'globex' }, {}, { dryRun: true });
    expect(other.plan.steps).toEqual([]);
    const mine = await uninstallExternalDns(cluster, { organization: 'acme' }, {}, { dryRun: true });
    expect(mine.plan.steps.map((s) => s.ref.kind).sort()).toEqual(
      ['ClusterRole', 'ClusterRoleBinding', 'Deployment', 'Namespace', 'Secret', 'ServiceAccount'].sort(),
    );
  });

  it('rejects an invalid organisation name before any call', async () => {
    const cluster = createMemoryCluster({ name: 'c1' });
    await expect(uninstallExternalDns(cluster, { organization: 'Acme' })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    expect(Object.values(cluster.calls).reduce((a, b) => a + (b ?? 0), 0)).toBe(0);
  });
});
