import { hasErrorCode } from '@zonekeeper/core';
import { describe, expect, it } from 'vitest';
import {
  type CurrentZoneIdentity,
  type DesiredZoneIdentity,
  planAccessKeyReconciliation,
  planZoneIdentity,
  planZoneIdentityDeletion,
  samePolicyDocument,
} from './identity-plan.js';
import { buildZonePolicy, clusterRecordNames, minifyPolicy } from './policy.js';

const policy = buildZonePolicy({ zoneId: 'Z0123456789ABC', zoneName: 'acme.example.com' });
const doc = minifyPolicy(policy);
const tags = {
  'zonekeeper:managed-by': 'zonekeeper',
  'zonekeeper:organization': 'acme',
  'zonekeeper:zone-id': 'Z0123456789ABC',
  'zonekeeper:base-domain': 'example.com',
};
const desired: DesiredZoneIdentity = {
  userName: 'zk-a379a6f6.acme',
  path: '/zonekeeper/',
  tags,
  policyName: 'zk-a379a6f6.acme.route53',
  policy,
};
const ours = { userName: desired.userName, path: '/zonekeeper/', tags };
const converged: CurrentZoneIdentity = { user: ours, policyNames: [desired.policyName], policyDocument: doc };

describe('planZoneIdentity', () => {
  const table: Record<string, [CurrentZoneIdentity, DesiredZoneIdentity, readonly unknown[]]> = {
    'a missing user is created, then given its policy': [
      { policyNames: [] },
      desired,
      [
        { op: 'create-user', userName: desired.userName, path: '/zonekeeper/', tags },
        { op: 'put-policy', userName: desired.userName, policyName: desired.policyName, document: doc },
      ],
    ],
    'an identity as desired plans nothing': [converged, desired, []],
    'the same policy with whitespace, reordered actions and statements plans nothing': [
      {
        ...converged,
        policyDocument: JSON.stringify(
          {
            ...policy,
            Statement: [...policy.Statement]
              .reverse()
              .map((s) => ({ ...s, Action: [...s.Action].reverse() })),
          },
          null,
          2,
        ),
      },
      desired,
      [],
    ],
    'a missing policy is put': [
      { user: ours, policyNames: [] },
      desired,
      [{ op: 'put-policy', userName: desired.userName, policyName: desired.policyName, document: doc }],
    ],
    'a policy for another zone is replaced': [
      {
        ...converged,
        policyDocument: minifyPolicy(buildZonePolicy({ zoneId: 'ZOLD', zoneName: 'acme.example.com' })),
      },
      desired,
      [{ op: 'put-policy', userName: desired.userName, policyName: desired.policyName, document: doc }],
    ],
    'a stored document that is not JSON is replaced': [
      { ...converged, policyDocument: '{not json' },
      desired,
      [{ op: 'put-policy', userName: desired.userName, policyName: desired.policyName, document: doc }],
    ],
    'a changed zone id tag is updated, and only that tag': [
      { ...converged, user: { ...ours, tags: { ...tags, 'zonekeeper:zone-id': 'ZOLD' } } },
      desired,
      [{ op: 'tag-user', userName: desired.userName, tags: { 'zonekeeper:zone-id': 'Z0123456789ABC' } }],
    ],
    'tags other than ours are left alone': [
      { ...converged, user: { ...ours, tags: { ...tags, 'cost-center': '42' } } },
      desired,
      [],
    ],
    'other inline policies are deleted before the policy is put (they share the size budget)': [
      { user: ours, policyNames: ['legacy', 'zz-old'] },
      desired,
      [
        { op: 'delete-stale-policies', userName: desired.userName, policyNames: ['legacy', 'zz-old'] },
        { op: 'put-policy', userName: desired.userName, policyName: desired.policyName, document: doc },
      ],
    ],
    'a missing base-domain tag (older release) is added': [
      {
        ...converged,
        user: {
          ...ours,
          tags: Object.fromEntries(Object.entries(tags).filter(([k]) => k !== 'zonekeeper:base-domain')),
        },
      },
      desired,
      [{ op: 'tag-user', userName: desired.userName, tags: { 'zonekeeper:base-domain': 'example.com' } }],
    ],
  };
  for (const [sentence, [current, want, steps]] of Object.entries(table)) {
    it(sentence, () => {
      expect(planZoneIdentity(current, want).steps).toEqual(steps);
    });
  }

  const refusals: Record<string, [CurrentZoneIdentity, string]> = {
    'a user without the ownership tag is NOT_OWNED': [
      { user: { ...ours, tags: { team: 'x' } }, policyNames: [] },
      'NOT_OWNED',
    ],
    'a user with a different ownership value is NOT_OWNED': [
      { user: { ...ours, tags: { ...tags, 'zonekeeper:managed-by': 'someone-else' } }, policyNames: [] },
      'NOT_OWNED',
    ],
    'a user of ours tagged for another organisation is a CONFLICT (name collision)': [
      { user: { ...ours, tags: { ...tags, 'zonekeeper:organization': 'other' } }, policyNames: [] },
      'CONFLICT',
    ],
    'a user of ours tagged for another platform is a CONFLICT': [
      { user: { ...ours, tags: { ...tags, 'zonekeeper:base-domain': 'example.org' } }, policyNames: [] },
      'CONFLICT',
    ],
    'an organisation identity that carries a cluster tag is a CONFLICT': [
      { user: { ...ours, tags: { ...tags, 'zonekeeper:cluster': 'c1' } }, policyNames: [] },
      'CONFLICT',
    ],
    'a user of ours at another path is a CONFLICT': [
      { user: { ...ours, path: '/' }, policyNames: [] },
      'CONFLICT',
    ],
  };
  for (const [sentence, [current, code]] of Object.entries(refusals)) {
    it(sentence, () => {
      let thrown: unknown;
      try {
        planZoneIdentity(current, desired);
      } catch (e) {
        thrown = e;
      }
      expect(hasErrorCode(thrown, code as 'NOT_OWNED')).toBe(true);
      expect((thrown as Error).message).toContain(desired.userName);
    });
  }

  it('a cluster identity plans the cluster-scoped policy', () => {
    const clusterPolicy = buildZonePolicy({
      zoneId: 'Z0123456789ABC',
      zoneName: 'acme.example.com',
      recordNames: clusterRecordNames('acme.example.com', 'c1'),
    });
    const steps = planZoneIdentity({ policyNames: [] }, { ...desired, policy: clusterPolicy }).steps;
    const put = steps.find((s) => s.op === 'put-policy');
    expect(put && 'document' in put ? JSON.parse(put.document ?? 'null') : undefined).toEqual(clusterPolicy);
    expect(put && 'document' in put ? put.document : '').toContain('"*.c1.acme.example.com"');
  });

  it('is pure: the same input gives the same plan, and the inputs are not modified', () => {
    const current: CurrentZoneIdentity = {
      user: { ...ours, tags: { ...tags, 'zonekeeper:zone-id': 'Z1' } },
      policyNames: ['x'],
    };
    const before = JSON.stringify([current, desired]);
    expect(planZoneIdentity(current, desired)).toEqual(planZoneIdentity(current, desired));
    expect(JSON.stringify([current, desired])).toBe(before);
    expect(JSON.parse(JSON.stringify(planZoneIdentity(current, desired)))).toEqual(
      planZoneIdentity(current, desired),
    );
  });
});

describe('samePolicyDocument', () => {
  const base = {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'A',
        Effect: 'Allow',
        Action: ['s3:GetObject', 's3:PutObject'],
        Resource: 'arn:x',
        Condition: { StringEquals: { k: ['a', 'b'] } },
      },
    ],
  };
  const table: Record<string, [unknown, boolean]> = {
    'the identical document is the same': [base, true],
    'reordered actions are the same': [
      { ...base, Statement: [{ ...base.Statement[0], Action: ['s3:PutObject', 's3:GetObject'] }] },
      true,
    ],
    'action names differing in case are the same (IAM ignores it)': [
      { ...base, Statement: [{ ...base.Statement[0], Action: ['S3:getobject', 's3:PutObject'] }] },
      true,
    ],
    'a single string equals a one-element list': [
      {
        ...base,
        Statement: {
          ...base.Statement[0],
          Resource: ['arn:x'],
          Condition: { StringEquals: { k: ['b', 'a'] } },
        },
      },
      true,
    ],
    'a different resource differs': [
      { ...base, Statement: [{ ...base.Statement[0], Resource: 'arn:y' }] },
      false,
    ],
    'a resource differing in case differs (ARNs are case-sensitive)': [
      { ...base, Statement: [{ ...base.Statement[0], Resource: 'ARN:X' }] },
      false,
    ],
    'a missing condition value differs': [
      { ...base, Statement: [{ ...base.Statement[0], Condition: { StringEquals: { k: ['a'] } } }] },
      false,
    ],
    'an extra statement differs': [
      { ...base, Statement: [...base.Statement, { Sid: 'B', Effect: 'Deny', Action: '*', Resource: '*' }] },
      false,
    ],
    'Deny instead of Allow differs': [
      { ...base, Statement: [{ ...base.Statement[0], Effect: 'Deny' }] },
      false,
    ],
  };
  for (const [sentence, [other, same]] of Object.entries(table)) {
    it(sentence, () => {
      expect(samePolicyDocument(JSON.stringify(base), JSON.stringify(other))).toBe(same);
      expect(samePolicyDocument(other as object, base)).toBe(same);
    });
  }
  it('text that is not JSON is never the same', () => {
    expect(samePolicyDocument('{', '{')).toBe(false);
  });
});

describe('planAccessKeyReconciliation', () => {
  const table: Record<string, [readonly string[], readonly string[], readonly string[]]> = {
    'keys the caller knows are kept': [['AKIA1111111111111111'], ['AKIA1111111111111111'], []],
    'a leaked key is deleted': [
      ['AKIA1111111111111111', 'AKIA2222222222222222'],
      ['AKIA1111111111111111'],
      ['AKIA2222222222222222'],
    ],
    'an empty known set deletes every key': [
      ['AKIA1111111111111111', 'AKIA2222222222222222'],
      [],
      ['AKIA1111111111111111', 'AKIA2222222222222222'],
    ],
    'known ids that IAM no longer has change nothing': [[], ['AKIA1111111111111111'], []],
  };
  for (const [sentence, [have, known, deleted]] of Object.entries(table)) {
    it(sentence, () => {
      expect(
        planAccessKeyReconciliation({ userName: 'u', accessKeyIds: have, knownAccessKeyIds: known }).steps,
      ).toEqual(deleted.map((accessKeyId) => ({ op: 'delete-access-key', userName: 'u', accessKeyId })));
    });
  }
});

describe('planZoneIdentityDeletion', () => {
  it('a user that is gone plans nothing', () => {
    expect(planZoneIdentityDeletion({ userName: 'u', accessKeyIds: [], policyNames: [] }).steps).toEqual([]);
  });
  it('keys go first, then inline policies, then the user', () => {
    expect(
      planZoneIdentityDeletion({
        userName: 'u',
        user: { tags },
        accessKeyIds: ['AKIA1111111111111111'],
        policyNames: ['z', 'a'],
      }).steps,
    ).toEqual([
      { op: 'delete-access-key', userName: 'u', accessKeyId: 'AKIA1111111111111111' },
      { op: 'delete-policy', userName: 'u', policyName: 'a' },
      { op: 'delete-policy', userName: 'u', policyName: 'z' },
      { op: 'delete-user', userName: 'u' },
    ]);
  });
  it('a user without the ownership tag is NOT_OWNED', () => {
    expect(() =>
      planZoneIdentityDeletion({ userName: 'u', user: { tags: {} }, accessKeyIds: [], policyNames: [] }),
    ).toThrow(expect.objectContaining({ code: 'NOT_OWNED' }));
  });
});
