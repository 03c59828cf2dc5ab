import { hasErrorCode } from '@zonekeeper/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type OrganizationTsigState, planOrganizationTsig } from './tsig-identity.js';
import { type OrganizationTsigRotationStep, planOrganizationTsigRotation } from './tsig-rotation.js';

const ZONE = 'acme.example.com';
const A = `zonekeeper-update.${ZONE}`;
const B = `zonekeeper-update-b.${ZONE}`;
/** Both, sorted as the gather sorts them (`-` sorts before `.`). */
const AB = [A, B].sort();
const desired = { organization: 'acme', zoneName: ZONE, allowTransfer: false, consumers: ['c2', 'c1'] };
const key = (name: string, fingerprint = `fp-${name}`) => ({ name, algorithm: 'hmac-sha256', fingerprint });

/** A converged organisation whose key is `A`. */
const converged: OrganizationTsigState = {
  zoneExists: true,
  serverKey: key(A),
  storedKey: { ...key(A), version: 3 },
  updateKeys: [A],
  updateSources: ['10.0.0.0/8'],
  transferKeys: [],
};

const ops = (steps: readonly OrganizationTsigRotationStep[]) =>
  steps.map((s) => `${s.op}${'name' in s ? ` ${s.name === A ? 'A' : s.name === B ? 'B' : s.name}` : ''}`);

describe('planOrganizationTsigRotation (pure)', () => {
  it('a new rotation: the other name, stored first, both allowed, published, old retired, forgotten', () => {
    const plan = planOrganizationTsigRotation(converged, desired);
    expect(plan).toMatchObject({ keyName: B, previousKeyName: A, resumed: false });
    expect(plan.steps).toEqual([
      { op: 'store-key', name: B, organization: 'acme', algorithm: 'hmac-sha256', cas: 3, previousName: A },
      { op: 'create-key', name: B, organization: 'acme', reason: 'rotation' },
      { op: 'set-update-keys', zoneName: ZONE, keyNames: AB, reason: 'overlap' },
      { op: 'publish-key', name: B, clusterIds: ['c1', 'c2'] },
      { op: 'set-update-keys', zoneName: ZONE, keyNames: [B], reason: 'retire' },
      { op: 'delete-key', name: A, reason: 'previous-key' },
      { op: 'forget-previous-key', organization: 'acme', name: A },
    ]);
    expect(JSON.parse(JSON.stringify(plan))).toEqual(plan);
  });

  it('from B goes back to A; with AXFR on, the transfer keys follow the update keys', () => {
    const fromB: OrganizationTsigState = {
      ...converged,
      serverKey: key(B),
      storedKey: { ...key(B), version: 5 },
      updateKeys: [B],
      transferKeys: [B],
    };
    const plan = planOrganizationTsigRotation(fromB, { ...desired, allowTransfer: true });
    expect(plan.keyName).toBe(A);
    expect(ops(plan.steps)).toEqual([
      'store-key A',
      'create-key A',
      'set-update-keys',
      'set-transfer-keys',
      'publish-key A',
      'set-update-keys',
      'set-transfer-keys',
      'delete-key B',
      'forget-previous-key B',
    ]);
  });

  it('an unstored key under the new name is deleted first (never adopted); no clusters: nothing to publish', () => {
    const plan = planOrganizationTsigRotation(
      { ...converged, otherServerKey: key(B, 'planted') },
      { ...desired, consumers: [] },
    );
    expect(plan.steps[0]).toEqual({ op: 'delete-key', name: B, reason: 'unknown-key' });
    expect(ops(plan.steps)).not.toContain('publish-key B');
  });

  describe('resuming after a crash (the store records the previous key)', () => {
    const rotating = { ...key(B, 'new'), version: 4, previousName: A };
    const cases: [string, OrganizationTsigState, string[]][] = [
      [
        'after store-key',
        { zoneExists: true, storedKey: rotating, otherServerKey: key(A), updateKeys: [A], updateSources: [] },
        [
          'create-key B',
          'set-update-keys',
          'publish-key B',
          'set-update-keys',
          'delete-key A',
          'forget-previous-key A',
        ],
      ],
      [
        'after create-key',
        { ...converged, storedKey: rotating, serverKey: key(B, 'new'), otherServerKey: key(A) },
        ['set-update-keys', 'publish-key B', 'set-update-keys', 'delete-key A', 'forget-previous-key A'],
      ],
      [
        'after the overlap (or during publishing)',
        {
          ...converged,
          storedKey: rotating,
          serverKey: key(B, 'new'),
          otherServerKey: key(A),
          updateKeys: AB,
        },
        ['publish-key B', 'set-update-keys', 'delete-key A', 'forget-previous-key A'],
      ],
      [
        'after the retire',
        {
          ...converged,
          storedKey: rotating,
          serverKey: key(B, 'new'),
          otherServerKey: key(A),
          updateKeys: [B],
        },
        ['publish-key B', 'delete-key A', 'forget-previous-key A'],
      ],
      [
        'after the old key was deleted',
        { ...converged, storedKey: rotating, serverKey: key(B, 'new'), updateKeys: [B] },
        ['publish-key B', 'forget-previous-key A'],
      ],
      [
        'the new key was replaced on the server by someone else',
        {
          ...converged,
          storedKey: rotating,
          serverKey: key(B, 'forged'),
          otherServerKey: key(A),
          updateKeys: AB,
        },
        [
          'delete-key B',
          'create-key B',
          'publish-key B',
          'set-update-keys',
          'delete-key A',
          'forget-previous-key A',
        ],
      ],
    ];
    for (const [what, state, expected] of cases) {
      it(what, () => {
        const plan = planOrganizationTsigRotation(state, desired);
        expect(plan.resumed).toBe(true);
        expect(plan.keyName).toBe(B);
        expect(ops(plan.steps)).toEqual(expected);
        // The old key is only ever deleted after the new one is published to every cluster.
        const published = plan.steps.findIndex((s) => s.op === 'publish-key');
        const deleted = plan.steps.findIndex((s) => s.op === 'delete-key' && s.name === A);
        if (deleted >= 0) expect(published).toBeLessThan(deleted);
      });
    }
  });

  it('while a rotation is under way, ensure keeps the previous key allowed and changes nothing else', () => {
    const rotating = { ...key(B, 'new'), version: 4, previousName: A };
    const mid: OrganizationTsigState = {
      ...converged,
      storedKey: rotating,
      serverKey: key(B, 'new'),
      otherServerKey: key(A),
      updateKeys: AB,
    };
    const ensureDesired = { organization: 'acme', zoneName: ZONE, allowTransfer: false };
    expect(planOrganizationTsig(mid, ensureDesired).steps).toEqual([]);
    expect(planOrganizationTsig({ ...mid, updateKeys: [B] }, ensureDesired).steps).toEqual([]);
    // The overlap was not yet set: ensure sets it (never the new key alone: clusters may run A).
    expect(planOrganizationTsig({ ...mid, updateKeys: [A] }, ensureDesired).steps).toEqual([
      {
        op: 'set-update-keys',
        zoneName: ZONE,
        keyNames: AB,
        reason: 'update-keys-differ',
      },
    ]);
    // A foreign key in the metadata is dropped, the previous one kept.
    expect(
      planOrganizationTsig({ ...mid, updateKeys: [...AB, 'ops.example.com'].sort() }, ensureDesired).steps[0],
    ).toMatchObject({ op: 'set-update-keys', keyNames: AB });
  });

  it('refuses without a usable stored key or zone: NOT_FOUND, naming ensureOrganization', () => {
    const { storedKey: _s, ...none } = converged;
    for (const state of [
      none,
      { ...converged, zoneExists: false },
      { ...converged, storedKey: { ...key(A), algorithm: 'hmac-md5', version: 1 } },
      { ...converged, storedKey: { ...key('zonekeeper-update.other.example.com'), version: 1 } },
    ]) {
      let error: unknown;
      try {
        planOrganizationTsigRotation(state, desired);
      } catch (e) {
        error = e;
      }
      expect(hasErrorCode(error, 'NOT_FOUND')).toBe(true);
      expect(String((error as Error).message)).toContain('ensureOrganization');
    }
  });

  it('property: every plan deletes only the organisation’s two names, and never the key in use before publishing', () => {
    const name = fc.constantFrom(A, B);
    const state = fc.record({
      current: name,
      previous: fc.option(fc.constant('x'), { nil: undefined }),
      serverCurrent: fc.constantFrom('same', 'other', 'none'),
      otherOnServer: fc.boolean(),
      updateKeys: fc.subarray([A, B, 'ops.example.com']),
      transfer: fc.boolean(),
    });
    fc.assert(
      fc.property(state, (s) => {
        const other = s.current === A ? B : A;
        const st: OrganizationTsigState = {
          zoneExists: true,
          storedKey: {
            ...key(s.current, 'stored'),
            version: 2,
            ...(s.previous ? { previousName: other } : {}),
          },
          ...(s.serverCurrent === 'none'
            ? {}
            : { serverKey: key(s.current, s.serverCurrent === 'same' ? 'stored' : 'x') }),
          ...(s.otherOnServer ? { otherServerKey: key(other) } : {}),
          updateKeys: [...s.updateKeys].sort(),
          updateSources: [],
          transferKeys: [],
        };
        const plan = planOrganizationTsigRotation(st, { ...desired, allowTransfer: s.transfer });
        const published = plan.steps.findIndex((x) => x.op === 'publish-key');
        for (const [i, step] of plan.steps.entries()) {
          if (step.op !== 'delete-key') continue;
          expect([A, B]).toContain(step.name);
          if (step.name === plan.previousKeyName) expect(i).toBeGreaterThan(published);
        }
        expect(plan.steps.at(-1)?.op).toBe('forget-previous-key');
        const last = plan.steps.filter((x) => x.op === 'set-update-keys').at(-1);
        if (last) expect(last).toMatchObject({ keyNames: [plan.keyName] });
        else expect(st.updateKeys).toEqual([plan.keyName]);
      }),
    );
  });
});
