/**
 * The zonekeeper demo. Until the facade lands this prints the garbage collector's plan for a sample
 * fleet of organisation zones at a few instants of a simulated month.
 */
import { planGarbageCollection, type ZoneFacts } from '@zonekeeper/gc-policy';

const H = 3_600_000;
const start = new Date('2026-03-10T09:00:00.000Z');
const fleet: ZoneFacts[] = [
  { zoneId: 'Z0ACME', managed: true, inUse: true, createdAt: new Date('2025-06-01T10:00:00Z') },
  { zoneId: 'Z0GLOBEX', managed: true, inUse: false, createdAt: new Date('2026-03-10T05:00:00Z') },
  { zoneId: 'Z0INITECH', managed: true, inUse: false, createdAt: new Date('2026-01-20T08:00:00Z') },
  {
    zoneId: 'Z0UMBRELLA',
    managed: true,
    inUse: false,
    protected: true,
    createdAt: new Date('2025-12-01T00:00:00Z'),
  },
  { zoneId: 'Z0PARENT', managed: false, inUse: false },
  { zoneId: 'Z0HOOLI', managed: true, inUse: false },
];

for (const now of [start, new Date(start.getTime() + 6 * H), new Date('2026-03-31T23:10:00.000Z')]) {
  const plan = planGarbageCollection(fleet, now);
  console.log(
    `\nGC plan at ${now.toISOString()} (next review ${plan.nextReviewAt?.toISOString() ?? 'none'})`,
  );
  console.table(
    plan.decisions.map((d) => ({
      zone: d.zoneId,
      action: d.action,
      reason: d.reason,
      eligibleAt: d.eligibleAt?.toISOString() ?? '',
    })),
  );
  console.log(`delete now: ${plan.toDelete.join(', ') || 'nothing'}`);
}
