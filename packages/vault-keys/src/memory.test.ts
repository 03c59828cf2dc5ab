import { createManualClock } from '@zonekeeper/core';
import { describe, expect, it } from 'vitest';
import { createMemorySecretStore } from './memory.js';
import { secretStoreContract, storeLockContract } from './testing.js';

secretStoreContract({ name: 'memory', create: async () => ({ store: createMemorySecretStore() }) });

storeLockContract({
  name: 'memory',
  create: async () => {
    const store = createMemorySecretStore();
    // Another object over the same data: a second "process" sharing the store.
    return { store, otherProcess: new Proxy(store, {}) };
  },
});

describe('memory secret store', () => {
  it('stamps versions with the injected clock and counts calls', async () => {
    const clock = createManualClock(new Date('2026-05-01T00:00:00Z'));
    const store = createMemorySecretStore({ clock });
    await store.write('a/b', { x: '1' }, { cas: 0 });
    await clock.advance(60_000);
    await store.write('a/b', { x: '2' }, { cas: 1 });
    const meta = await store.readMetadata('a/b');
    expect(meta?.createdAt.toISOString()).toBe('2026-05-01T00:00:00.000Z');
    expect(meta?.updatedAt.toISOString()).toBe('2026-05-01T00:01:00.000Z');
    expect(store.calls).toMatchObject({ write: 2, readMetadata: 1 });
    expect(store.paths()).toEqual(['a/b']);
  });

  it('never puts a secret value into an error', async () => {
    const store = createMemorySecretStore();
    await store.write('k', { secret: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' }, { cas: 0 });
    const e = await store
      .write('k', { secret: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' }, { cas: 0 })
      .catch((x) => x);
    expect(JSON.stringify({ ...e, message: e.message })).not.toContain('EXAMPLEKEY');
    const bad = await store.write('k2', { secret: 42 as unknown as string }, { cas: 0 }).catch((x) => x);
    expect(bad.message).toContain('"secret"');
  });
});
