/**
 * The IAM adapter against a stubbed client: paging (moto ignores MaxItems, so it cannot show it),
 * decoding and odd answers.
 */

import { hasErrorCode } from '@zonekeeper/core';
import { describe, expect, it } from 'vitest';
import { rejectionOf } from '../test-helpers.test.util.js';
import { createIamIdentityProvider, type IamClientLike } from './index.js';

interface Sent {
  readonly op: string;
  readonly input: Record<string, unknown>;
}

/** A client that answers from `handlers` by command name and records what was sent. */
function stub(
  handlers: Record<string, (input: Record<string, unknown>) => unknown>,
): IamClientLike & { sent: Sent[] } {
  const sent: Sent[] = [];
  return {
    sent,
    async send(command: unknown) {
      const c = command as { constructor: { name: string }; input: Record<string, unknown> };
      const op = c.constructor.name.replace(/Command$/, '');
      sent.push({ op, input: c.input });
      const handler = handlers[op];
      if (!handler) throw new Error(`unexpected ${op}`);
      return handler(c.input);
    },
  };
}

/** Pages `items` by `Marker` (an index) and `MaxItems`. */
function paged<T>(items: readonly T[], key: string, input: Record<string, unknown>) {
  const start = Number(input.Marker ?? 0);
  const size = Number(input.MaxItems ?? 100);
  const next = start + size;
  return {
    [key]: items.slice(start, next),
    IsTruncated: next < items.length,
    ...(next < items.length ? { Marker: String(next) } : {}),
  };
}

const date = new Date('2026-01-01T00:00:00Z');
const users = Array.from({ length: 5 }, (_, i) => ({
  UserName: `u${i}`,
  Path: '/zonekeeper/',
  Arn: `arn:aws:iam::123456789012:user/zonekeeper/u${i}`,
  UserId: `AIDA${i}`,
  CreateDate: date,
}));

describe('IAM adapter with a stubbed client', () => {
  it('pages ListUsers and each user’s ListUserTags with MaxItems and Marker', async () => {
    const client = stub({
      ListUsers: (input) => paged(users, 'Users', input),
      ListUserTags: (input) =>
        paged(
          [
            { Key: 'zonekeeper:managed-by', Value: 'zonekeeper' },
            { Key: 'owner', Value: String(input.UserName) },
            { Key: 'empty' },
          ],
          'Tags',
          input,
        ),
    });
    const p = createIamIdentityProvider({ client, pageSize: 2 });
    const listed = await p.listUsers('/zonekeeper/');
    expect(listed.map((u) => u.userName)).toEqual(['u0', 'u1', 'u2', 'u3', 'u4']);
    expect(listed[3]?.tags).toEqual({ 'zonekeeper:managed-by': 'zonekeeper', owner: 'u3', empty: '' });
    const listCalls = client.sent.filter((s) => s.op === 'ListUsers');
    expect(listCalls.map((s) => s.input)).toEqual([
      { PathPrefix: '/zonekeeper/', MaxItems: 2 },
      { PathPrefix: '/zonekeeper/', MaxItems: 2, Marker: '2' },
      { PathPrefix: '/zonekeeper/', MaxItems: 2, Marker: '4' },
    ]);
    expect(client.sent.filter((s) => s.op === 'ListUserTags').length).toBe(5 * 2);
  });

  it('skips a user deleted between ListUsers and ListUserTags', async () => {
    const client = stub({
      ListUsers: (input) => paged(users.slice(0, 2), 'Users', input),
      ListUserTags: (input) => {
        if (input.UserName === 'u0')
          throw Object.assign(new Error('gone'), {
            name: 'NoSuchEntityException',
            $metadata: { httpStatusCode: 404 },
          });
        return { Tags: [], IsTruncated: false };
      },
    });
    expect((await createIamIdentityProvider({ client }).listUsers('/')).map((u) => u.userName)).toEqual([
      'u1',
    ]);
  });

  it('pages ListAccessKeys and ListUserPolicies to the end', async () => {
    const keys = Array.from({ length: 3 }, (_, i) => ({
      AccessKeyId: `AKIA000000000000000${i}`,
      Status: i === 2 ? 'Inactive' : 'Active',
      CreateDate: date,
    }));
    const names = ['a', 'b', 'c', 'd', 'e'];
    const client = stub({
      ListAccessKeys: (input) => paged(keys, 'AccessKeyMetadata', input),
      ListUserPolicies: (input) => paged(names, 'PolicyNames', input),
    });
    const p = createIamIdentityProvider({ client, pageSize: 2 });
    expect(await p.listAccessKeys('u')).toEqual(
      keys.map((k) => ({ accessKeyId: k.AccessKeyId, status: k.Status, createdAt: date })),
    );
    expect(await p.listUserPolicies('u')).toEqual(names);
    expect(client.sent.map((s) => s.op)).toEqual([
      'ListAccessKeys',
      'ListAccessKeys',
      'ListUserPolicies',
      'ListUserPolicies',
      'ListUserPolicies',
    ]);
  });

  it('decodes a URL-encoded policy document, and leaves undecodable text as it is', async () => {
    const doc =
      '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"x:Y","Resource":"arn:aws:route53:::change/*"}]}';
    let answer = encodeURIComponent(doc);
    const client = stub({
      GetUserPolicy: () => ({ UserName: 'u', PolicyName: 'p', PolicyDocument: answer }),
    });
    const p = createIamIdentityProvider({ client });
    expect(await p.getUserPolicy('u', 'p')).toBe(doc);
    answer = '{"bad":"%E0%A4%A"}';
    expect(await p.getUserPolicy('u', 'p')).toBe(answer);
  });

  it('sends CreateUser with path and tags, and TagUser with the tag list', async () => {
    const client = stub({
      CreateUser: (input) => ({
        User: { ...users[0], UserName: input.UserName, Path: input.Path, Tags: input.Tags },
      }),
      TagUser: () => ({}),
    });
    const p = createIamIdentityProvider({ client });
    const user = await p.createUser({ userName: 'u0', path: '/zonekeeper/', tags: { a: '1' } });
    expect(user.tags).toEqual({ a: '1' });
    await p.tagUser('u0', { b: '2', c: '' });
    expect(client.sent.map((s) => s.input)).toEqual([
      { UserName: 'u0', Path: '/zonekeeper/', Tags: [{ Key: 'a', Value: '1' }] },
      {
        UserName: 'u0',
        Tags: [
          { Key: 'b', Value: '2' },
          { Key: 'c', Value: '' },
        ],
      },
    ]);
  });

  it('an answer without the expected fields is INTERNAL (and CreateAccessKey says how to repair)', async () => {
    const client = stub({ GetUser: () => ({ User: { UserName: 'u' } }), CreateAccessKey: () => ({}) });
    const p = createIamIdentityProvider({ client });
    expect(hasErrorCode(await rejectionOf(p.getUser('u')), 'INTERNAL')).toBe(true);
    const e = await rejectionOf(p.createAccessKey('u'));
    expect(hasErrorCode(e, 'INTERNAL')).toBe(true);
    expect(e.message).toContain('reconcileAccessKeys');
  });

  it('an AWS error zonekeeper does not know is INTERNAL, with the vendor code kept', async () => {
    const client = stub({
      GetUser: () => {
        throw Object.assign(new Error('odd'), {
          name: 'BrandNewException',
          $metadata: { httpStatusCode: 418, requestId: 'r-1' },
        });
      },
    });
    const e = await rejectionOf(createIamIdentityProvider({ client }).getUser('u'));
    expect(hasErrorCode(e, 'INTERNAL')).toBe(true);
    expect(e.details).toMatchObject({ awsCode: 'BrandNew', httpStatusCode: 418, requestId: 'r-1' });
  });
});
