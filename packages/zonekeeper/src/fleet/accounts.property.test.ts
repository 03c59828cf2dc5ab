/**
 * The fleet's promises as properties (fast-check) on memory ports: for any quotas, foreign zones and
 * sequence of ensures — some of them concurrent, from two processes — every organisation's zone is in
 * exactly one account, the one every ensure of it answered; no account holds more zones than its quota;
 * a refusal is `no-capacity` and leaves no zone of the organisation anywhere.
 */

import { fc, test as fcTest } from '@fast-check/vitest';
import { hasErrorCode } from '@zonekeeper/core';
import { createMemorySecretStore } from '@zonekeeper/vault-keys';
import { createMemoryDnsProvider, type MemoryDnsProvider } from '@zonekeeper/zone-manager';
import { describe, expect } from 'vitest';
import { createFleet } from './accounts.js';

const BASE = 'example.com';
const ORGS = ['acme', 'globex', 'initech', 'umbrella', 'hooli', 'stark'] as const;
const IDS = ['a', 'b', 'c'] as const;

const worldArb = fc.record({
  quotas: fc.tuple(...IDS.map(() => fc.integer({ min: 1, max: 4 }))),
  foreign: fc.tuple(...IDS.map(() => fc.integer({ min: 0, max: 3 }))),
  // Each step: one ensure, or two at once from two processes.
  steps: fc.array(
    fc.oneof(
      fc.constantFrom(...ORGS).map((o) => [o] as const),
      fc.tuple(fc.constantFrom(...ORGS), fc.constantFrom(...ORGS)),
    ),
    { minLength: 1, maxLength: 7 },
  ),
});

describe('createFleet properties', () => {
  fcTest.prop([worldArb], { numRuns: 40 })(
    'one account per organisation, stable across ensures, never past a quota',
    async ({ quotas, foreign, steps }) => {
      const dns: Record<string, MemoryDnsProvider> = {};
      for (const [i, id] of IDS.entries()) {
        const d = createMemoryDnsProvider({ idPrefix: id.toUpperCase() });
        for (let n = 0; n < (foreign[i] ?? 0); n++)
          await d.createZone({ name: `f${n}.${id}.test`, callerReference: `f${n}` });
        dns[id] = d;
      }
      await dns.a?.createZone({ name: BASE, callerReference: 'parent' });
      const secrets = createMemorySecretStore();
      const fleet = () =>
        createFleet({
          baseDomain: BASE,
          secrets,
          parent: { account: 'a' },
          accounts: IDS.map((id, i) => ({
            id,
            dns: dns[id] as MemoryDnsProvider,
            zoneQuota: quotas[i] ?? 1,
          })),
        });
      const processes = [fleet(), fleet()];
      const answered = new Map<string, Set<string>>();
      for (const step of steps) {
        const outcomes = await Promise.allSettled(
          step.map(
            (org, i) =>
              (processes[i] ?? processes[0])?.ensureOrganization(org) as Promise<{ account: string }>,
          ),
        );
        for (const [i, o] of outcomes.entries()) {
          const org = step[i] as string;
          if (o.status === 'fulfilled') {
            const set = answered.get(org) ?? new Set();
            set.add(o.value.account);
            answered.set(org, set);
          } else {
            expect(hasErrorCode(o.reason, 'CONFLICT')).toBe(true);
            expect((o.reason as { details?: { reason?: string } }).details?.reason).toBe('no-capacity');
          }
        }
      }
      const holding = (org: string) =>
        IDS.filter((id) => dns[id]?.snapshot().some((z) => z.name === `${org}.${BASE}`));
      for (const org of ORGS) {
        const said = answered.get(org);
        if (said === undefined) expect(holding(org)).toEqual([]);
        else {
          expect(said.size).toBe(1);
          expect(holding(org)).toEqual([...said]);
        }
      }
      for (const [i, id] of IDS.entries())
        expect(dns[id]?.snapshot().length).toBeLessThanOrEqual(
          Math.max(quotas[i] ?? 1, (foreign[i] ?? 0) + (id === 'a' ? 1 : 0)),
        );
    },
  );
});
