/**
 * `auditFleet` on the emulators, through the production adapters — moto (Route 53, IAM) behind the
 * fault proxy, the Vault fake behind a second proxy, a Kubernetes API fake per cluster: a fleet made by
 * ensure/attach is clean on the wire too, drift made behind zonekeeper's back is found, and the audit
 * sends no write request at all (counted by the proxy and the Vault fake's request log, and by a
 * harness around every port, clusters included).
 */

import { systemClock } from '@zonekeeper/core';
import { identityPolicyName, identityUserName } from '@zonekeeper/iam-scoper';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryInventory } from '../inventory.js';
import { BASE_DOMAIN, type EmulatorBackend, emulatorBackend } from '../reliability/backends.test.support.js';
import { Harness } from '../reliability/harness.test.support.js';
import { createZonekeeper } from '../zonekeeper.js';

let backend: EmulatorBackend;

beforeAll(async () => {
  backend = await emulatorBackend({ seed: 'audit' });
});
afterAll(async () => {
  await backend?.stop();
});

describe('auditFleet on the emulators', () => {
  it('is clean after ensure/attach, finds a leaked key and a changed policy, and writes nothing', async () => {
    await backend.reset(systemClock);
    const inventory = createMemoryInventory([
      { organization: 'acme', clusterId: 'c1', running: true },
      { organization: 'acme', clusterId: 'c2', running: true },
      { organization: 'globex', clusterId: 'g1', running: true },
    ]);
    const zonekeeper = (harness?: Harness) =>
      createZonekeeper({ baseDomain: BASE_DOMAIN, inventory, ...backend.config(harness) });
    const zk = zonekeeper();
    await zk.attachCluster('acme', { clusterId: 'c1' });
    await zk.attachCluster('acme', { clusterId: 'c2', identityScope: 'cluster' });
    await zk.ensureOrganization('globex');

    const audit = async () => {
      backend.mark?.();
      const harness = new Harness();
      const result = await zonekeeper(harness).auditFleet();
      expect(backend.wireWrites?.()).toEqual({ aws: 0, vault: 0 });
      expect(harness.writes).toEqual([]);
      expect(harness.calls).toBeGreaterThan(10);
      return result;
    };
    const clean = await audit();
    expect(clean.findings).toEqual([]);
    expect(clean.organizations).toEqual(['acme', 'globex']);

    const user = identityUserName({ baseDomain: BASE_DOMAIN, organization: 'acme' });
    const leaked = await backend.inspect.identity.createAccessKey(user);
    await backend.inspect.identity.putUserPolicy(
      identityUserName({ baseDomain: BASE_DOMAIN, organization: 'globex' }),
      identityPolicyName({ baseDomain: BASE_DOMAIN, organization: 'globex' }),
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: 'route53:*', Resource: '*' }],
      }),
    );
    const drift = await audit();
    expect(drift.findings.map((f) => [f.reason, f.organization])).toEqual([
      ['key-unknown-to-store', 'acme'],
      ['policy-drift', 'globex'],
    ]);
    expect(drift.findings[0]?.message).toContain(leaked.accessKeyId);
    expect(JSON.stringify(drift)).not.toContain(leaked.secretAccessKey);
  }, 120_000);
});
