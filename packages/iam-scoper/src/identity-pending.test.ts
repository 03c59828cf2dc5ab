/**
 * Planning an identity before its zone exists (the facade plans the zone's creation and the identity in
 * one plan, so a dry run of a new organisation shows every step without inventing a zone id).
 */
import { describe, expect, it } from 'vitest';
import {
  applyZoneIdentityPlan,
  desiredZoneIdentity,
  ensureZoneIdentity,
  gatherZoneIdentity,
} from './identity.js';
import { createMemoryIdentityProvider } from './identity-memory.js';
import { IDENTITY_TAGS, planZoneIdentity } from './identity-plan.js';
import { buildZonePolicy, minifyPolicy } from './policy.js';

const acme = { baseDomain: 'example.com', organization: 'acme', zoneName: 'acme.example.com' };

describe('an identity planned before its zone exists', () => {
  it('a new user: create-user with a null zone-id tag and put-policy with a null document', () => {
    const desired = desiredZoneIdentity({ ...acme, zoneId: null });
    expect(desired.policy).toBeNull();
    const plan = planZoneIdentity({ policyNames: [] }, desired);
    expect(plan.steps).toEqual([
      {
        op: 'create-user',
        userName: desired.userName,
        path: '/zonekeeper/',
        tags: expect.objectContaining({ [IDENTITY_TAGS.zoneId]: null, [IDENTITY_TAGS.organization]: 'acme' }),
      },
      { op: 'put-policy', userName: desired.userName, policyName: desired.policyName, document: null },
    ]);
    // Plain JSON data, nothing invented.
    expect(JSON.parse(JSON.stringify(plan))).toEqual(plan);
  });

  it('applying fills the nulls from the zone that now exists, and then plans nothing', async () => {
    const identity = createMemoryIdentityProvider();
    const pending = desiredZoneIdentity({ ...acme, zoneId: null });
    const plan = planZoneIdentity(await gatherZoneIdentity(pending, identity), pending);
    const known = desiredZoneIdentity({ ...acme, zoneId: 'Z0123456789ABC' });
    await applyZoneIdentityPlan(plan, known, { identity });
    const user = await identity.getUser(known.userName);
    expect(user?.tags[IDENTITY_TAGS.zoneId]).toBe('Z0123456789ABC');
    expect(JSON.parse((await identity.getUserPolicy(known.userName, known.policyName)) ?? '{}')).toEqual(
      JSON.parse(minifyPolicy(buildZonePolicy({ zoneId: 'Z0123456789ABC', zoneName: acme.zoneName }))),
    );
    const again = await ensureZoneIdentity(
      { ...acme, zoneId: 'Z0123456789ABC' },
      { identity },
      { dryRun: true },
    );
    expect(again.plan.steps).toEqual([]);
  });

  it('an existing user whose zone is re-created: re-tag and re-put the policy, both pending', async () => {
    const identity = createMemoryIdentityProvider();
    await ensureZoneIdentity({ ...acme, zoneId: 'ZOLD0000000001' }, { identity });
    const pending = desiredZoneIdentity({ ...acme, zoneId: null });
    const plan = planZoneIdentity(await gatherZoneIdentity(pending, identity), pending);
    expect(plan.steps).toEqual([
      { op: 'tag-user', userName: pending.userName, tags: { [IDENTITY_TAGS.zoneId]: null } },
      { op: 'put-policy', userName: pending.userName, policyName: pending.policyName, document: null },
    ]);
  });

  it('refuses to apply pending steps without a known zone (INTERNAL, nothing written)', async () => {
    const identity = createMemoryIdentityProvider();
    const pending = desiredZoneIdentity({ ...acme, zoneId: null });
    const plan = planZoneIdentity({ policyNames: [] }, pending);
    await expect(applyZoneIdentityPlan(plan, pending, { identity })).rejects.toMatchObject({
      code: 'INTERNAL',
    });
    expect(await identity.getUser(pending.userName)).toBeUndefined();
  });
});
