import { createManualClock } from '@zonekeeper/core';
import { readAccessKey } from '@zonekeeper/vault-keys';
import { describe, expect, it } from 'vitest';
import { createMemoryInventory, createZonekeeper } from 'zonekeeper';
import { runStory } from './story.js';

describe('the demo story (memory backend)', () => {
  it('runs end to end and shows zonekeeper cheaper than both other policies', async () => {
    const clock = createManualClock(new Date('2026-03-10T08:00:00.000Z'), { autoAdvance: true });
    const inventory = createMemoryInventory();
    const zk = createZonekeeper({ baseDomain: 'example.com', clock, inventory });
    const lines: string[] = [];
    const cost = await runStory({
      zk,
      inventory,
      clock,
      backend: 'memory',
      print: (l = '') => lines.push(l),
    });
    const out = lines.join('\n');
    expect(out).toMatch(/globex\s+delete\s+FREE_DELETION_WINDOW\s+deleted/);
    expect(out).toMatch(/initech\s+defer\s+ALREADY_CHARGED\s+2026-03-31T23:00:00Z/);
    expect(out).toMatch(/initech\s+delete\s+BEFORE_NEXT_CHARGE\s+deleted/);
    expect(out).toMatch(/zones left after 2026-03-31T23:00:00Z: acme$/m);
    expect(out).toContain('nothing to do (converged)');
    expect(out).toMatch(/generation 1 → 2/);
    expect(cost).toEqual({ zonekeeper: 7, immediate: 7.5, never: 19.5 });
    // No secret reaches the output: every key is masked.
    expect(out).not.toMatch(/AKIA[A-Z0-9]{16}/);
    const key = await readAccessKey(zk.ports.secrets, { organization: 'acme' }, zk.secretLayout);
    expect(key?.secretAccessKey.length).toBeGreaterThan(20);
    expect(out).not.toContain(key?.secretAccessKey);
    expect(out).not.toContain('PRIVATE KEY');
  });
});

describe('the demo story (emulator backend: moto, Vault and Kubernetes fakes over HTTP)', () => {
  it('runs end to end over the real clients', async () => {
    const { startEmulators } = await import('./emulators.js');
    await using emulators = await startEmulators();
    const lines: string[] = [];
    const cost = await runStory({ ...emulators.context, print: (l = '') => lines.push(l) });
    const out = lines.join('\n');
    expect(out).toMatch(/globex\s+delete\s+FREE_DELETION_WINDOW\s+deleted/);
    expect(out).toMatch(/initech\s+delete\s+BEFORE_NEXT_CHARGE\s+deleted/);
    expect(out).toContain('nothing to do (converged)');
    expect(out).toMatch(/generation 1 → 2/);
    expect(cost.zonekeeper).toBeLessThan(cost.immediate);
    expect(cost.zonekeeper).toBeLessThan(cost.never);
    expect(out).not.toMatch(/AKIA[A-Z0-9]{16}/);
  }, 120_000);
});
