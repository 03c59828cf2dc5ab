import { createManualClock, hasErrorCode, ZonekeeperError } from '@zonekeeper/core';
import { describe, expect, it } from 'vitest';
import { createMemoryIdentityProvider } from './identity-memory.js';
import { identityProviderContract } from './testing.js';

const SMALL_POLICY =
  '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"route53:GetChange","Resource":"*"}]}';

identityProviderContract({
  name: 'memory',
  create: async () => ({ provider: createMemoryIdentityProvider() }),
});

/** A deterministic byte source: 0, 1, 2, … */
function counterBytes(): (size: number) => Uint8Array {
  let next = 0;
  return (size) => Uint8Array.from({ length: size }, () => next++ % 256);
}

describe('memory identity provider', () => {
  it('draws key ids and secrets from the injected random source and stamps with the clock', async () => {
    const clock = createManualClock(new Date('2026-05-01T00:00:00Z'));
    const p = createMemoryIdentityProvider({ clock, randomBytes: counterBytes(), accountId: '000011112222' });
    const user = await p.createUser({ userName: 'u', path: '/zonekeeper/', tags: {} });
    expect(user.arn).toBe('arn:aws:iam::000011112222:user/zonekeeper/u');
    // bytes 0–16 went to the user id; the key id takes the next 16, the secret the 40 after.
    expect(user.userId).toBe('AIDAABCDEFGHIJKLMNOPQ');
    await clock.advance(60_000);
    const key = await p.createAccessKey('u');
    expect(key.accessKeyId).toBe('AKIARSTUVWXYZ234567A');
    expect(key.secretAccessKey).toBe('hijklmnopqrstuvwxyz0123456789+/ABCDEFGHI');
    expect(key.createdAt.toISOString()).toBe('2026-05-01T00:01:00.000Z');
  });

  it('does not keep the secret: the snapshot and every read are secret-free', async () => {
    const p = createMemoryIdentityProvider();
    await p.createUser({
      userName: 'u',
      path: '/zonekeeper/',
      tags: { 'zonekeeper:managed-by': 'zonekeeper' },
    });
    const key = await p.createAccessKey('u');
    await p.putUserPolicy('u', 'p', SMALL_POLICY);
    const snap = p.snapshot();
    expect(snap).toEqual([
      {
        userName: 'u',
        path: '/zonekeeper/',
        arn: 'arn:aws:iam::123456789012:user/zonekeeper/u',
        tags: { 'zonekeeper:managed-by': 'zonekeeper' },
        policies: { p: SMALL_POLICY },
        accessKeys: [{ accessKeyId: key.accessKeyId, status: 'Active', createdAt: key.createdAt }],
      },
    ]);
    expect(JSON.stringify(snap)).not.toContain(key.secretAccessKey);
  });

  it('counts calls per method and write calls', async () => {
    const p = createMemoryIdentityProvider();
    await p.createUser({ userName: 'u', path: '/', tags: {} });
    await p.getUser('u');
    await p.getUser('nobody');
    await p.createAccessKey('u');
    await p.createAccessKey('u');
    await p.createAccessKey('u').catch(() => undefined);
    expect(p.calls).toEqual({ createUser: 1, getUser: 2, createAccessKey: 3 });
    expect(p.writes()).toBe(4);
    p.resetCalls();
    expect(p.calls).toEqual({});
    expect(p.writes()).toBe(0);
  });

  it("injects faults: 'before' changes nothing, 'after' applies the call and then fails", async () => {
    const p = createMemoryIdentityProvider();
    await p.createUser({ userName: 'u', path: '/', tags: {} });
    p.injectFault({ method: 'createAccessKey', when: 'before' });
    expect(hasErrorCode(await p.createAccessKey('u').catch((e) => e), 'UNAVAILABLE')).toBe(true);
    expect(await p.listAccessKeys('u')).toEqual([]);
    p.injectFault({ method: 'createAccessKey', when: 'after' });
    expect(hasErrorCode(await p.createAccessKey('u').catch((e) => e), 'UNAVAILABLE')).toBe(true);
    expect((await p.listAccessKeys('u')).length).toBe(1);
    // used up: the next call works
    await p.createAccessKey('u');
    expect((await p.listAccessKeys('u')).length).toBe(2);

    const custom = new ZonekeeperError('THROTTLED', 'slow down');
    p.injectFault({ method: 'getUser', when: 'before', error: custom, times: 2 });
    expect(await p.getUser('u').catch((e) => e)).toBe(custom);
    expect(await p.getUser('u').catch((e) => e)).toBe(custom);
    expect((await p.getUser('u'))?.userName).toBe('u');
    p.injectFault({ method: 'getUser', when: 'before' });
    p.clearFaults();
    expect((await p.getUser('u'))?.userName).toBe('u');
    expect(() => p.injectFault({ method: 'getUser', times: 0 })).toThrow(TypeError);
  });

  it('finds users ignoring case, as IAM does, and keeps the created spelling', async () => {
    const p = createMemoryIdentityProvider();
    await p.createUser({ userName: 'Mixed.Case', path: '/', tags: {} });
    expect((await p.getUser('mixed.case'))?.userName).toBe('Mixed.Case');
  });

  it('refuses more than 50 tags: INVALID_INPUT at creation, CONFLICT (LimitExceeded) when tagging adds up past it', async () => {
    const p = createMemoryIdentityProvider();
    const tags = (n: number, prefix: string) =>
      Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}${i}`, 'v']));
    expect(
      hasErrorCode(
        await p.createUser({ userName: 'u', path: '/', tags: tags(51, 'k') }).catch((e) => e),
        'INVALID_INPUT',
      ),
    ).toBe(true);
    await p.createUser({ userName: 'u', path: '/', tags: tags(30, 'a') });
    expect(hasErrorCode(await p.tagUser('u', tags(21, 'b')).catch((e) => e), 'CONFLICT')).toBe(true);
    expect(Object.keys((await p.getUser('u'))?.tags ?? {}).length).toBe(30);
  });
});
