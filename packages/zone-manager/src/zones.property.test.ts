import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMemoryDnsProvider } from './memory.js';
import { organizationCallerReference, ZoneTags } from './ownership.js';
import { planOrganizationZone } from './plan-zone.js';
import { ensureOrganizationZone, gatherOrganizationZone } from './zones.js';

const ZONE = 'acme.example.com';
const T0 = Date.parse('2026-06-01T00:00:00.000Z');

/** A zone of acme left behind by earlier (crashed or concurrent) runs. */
const leftover = fc.record({
  ageMs: fc.integer({ min: 0, max: 3_600_000 }),
  tagged: fc.boolean(),
  records: fc.integer({ min: 0, max: 3 }),
  protected: fc.boolean(),
});

describe('ensureOrganizationZone from any state its own runs can leave behind', () => {
  it('converges in one run: one canonical zone delegated, empty unprotected duplicates gone, re-plan empty', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(leftover, { maxLength: 6 }),
        fc.option(fc.nat({ max: 5 }), { nil: undefined }),
        async (zones, delegatedIndex) => {
          const dns = createMemoryDnsProvider();
          const parent = await dns.createZone({ name: 'example.com', callerReference: 'parent' });
          const ids: string[] = [];
          for (const [i, z] of zones.entries()) {
            const at = new Date(T0 - z.ageMs);
            const { zone } = await dns.createZone({
              name: ZONE,
              callerReference: organizationCallerReference(ZONE, at, `n${i}`),
            });
            ids.push(zone.id);
            const tags: Record<string, string> = {};
            if (z.tagged)
              Object.assign(tags, {
                [ZoneTags.managedBy]: 'zonekeeper',
                [ZoneTags.organization]: 'acme',
                [ZoneTags.createdAt]: at.toISOString(),
              });
            if (z.protected) tags[ZoneTags.protected] = 'true';
            if (Object.keys(tags).length > 0) await dns.changeTags(zone.id, { add: tags });
            for (let r = 0; r < z.records; r++) {
              await dns.changeRecords(zone.id, [
                {
                  action: 'CREATE',
                  recordSet: { name: `r${r}.${ZONE}`, type: 'A', ttl: 60, values: ['192.0.2.1'] },
                },
              ]);
            }
          }
          const target =
            delegatedIndex === undefined ? undefined : ids[delegatedIndex % Math.max(1, ids.length)];
          if (target) {
            const ns = (await dns.getZone(target))?.nameServers ?? [];
            await dns.changeRecords(parent.zone.id, [
              {
                action: 'UPSERT',
                recordSet: { name: ZONE, type: 'NS', ttl: 300, values: ns.map((s) => `${s}.`) },
              },
            ]);
          }

          const result = await ensureOrganizationZone(
            { organization: 'acme', baseDomain: 'example.com' },
            { dns },
          );

          const after = await gatherOrganizationZone({ zoneName: ZONE, baseDomain: 'example.com' }, dns);
          expect(
            planOrganizationZone(after, { organization: 'acme', baseDomain: 'example.com' }, new Date())
              .steps,
          ).toEqual([]);
          const canonical = result.zone?.id as string;
          expect(after.zones.map((z) => z.id)).toContain(canonical);
          // Whatever remains besides the canonical zone has records or is protected.
          for (const z of after.zones.filter((x) => x.id !== canonical)) {
            const i = ids.indexOf(z.id);
            const was = zones[i] as (typeof zones)[number];
            expect(was.records > 0 || was.protected).toBe(true);
          }
          // Every remaining zone carries the ownership tags.
          for (const z of after.zones) expect(z.tags[ZoneTags.organization]).toBe('acme');
          // The canonical zone is the oldest of the leftovers (ties: lowest id), when there were any.
          if (zones.length > 0) {
            const oldest = Math.max(...zones.map((z) => z.ageMs));
            const candidates = ids
              .filter((_, i) => (zones[i] as (typeof zones)[number]).ageMs === oldest)
              .sort();
            expect(canonical).toBe(candidates[0]);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
