import { describe, expect, it } from 'vitest';
import {
  createMemoryDnsProvider,
  deleteOrganizationZone,
  ensureOrganizationZone,
  listManagedZones,
} from './index.js';

describe('README example', () => {
  it('ensures, lists and deletes an organisation zone on the memory provider', async () => {
    const dns = createMemoryDnsProvider();
    await dns.createZone({ name: 'example.com', callerReference: 'parent' });

    const { zone, plan } = await ensureOrganizationZone(
      { organization: 'acme', baseDomain: 'example.com' },
      { dns },
    );
    expect(zone?.nameServers).toHaveLength(4);
    expect(plan.steps.map((s) => s.op)).toEqual(['create-zone', 'tag-zone', 'upsert-delegation']);
    expect(
      (await ensureOrganizationZone({ organization: 'acme', baseDomain: 'example.com' }, { dns })).plan.steps,
    ).toEqual([]);

    const zones = await listManagedZones({ dns }, { baseDomain: 'example.com' });
    expect(zones).toEqual([
      {
        id: zone?.id,
        name: 'acme.example.com',
        organization: 'acme',
        createdAt: expect.any(Date),
        protected: false,
        callerReference: expect.stringMatching(/^zk1:/),
      },
    ]);

    const deleted = await deleteOrganizationZone((zones[0] as { id: string }).id, { dns });
    expect(deleted.plan.steps.map((s) => s.op)).toEqual(['delete-delegation', 'delete-zone']);
    expect(await listManagedZones({ dns })).toEqual([]);
  });
});
