/**
 * The role and OIDC adapters against a stubbed client: paging (moto ignores MaxItems), decoding and
 * the per-item reads of the list calls.
 */
import { describe, expect, it } from 'vitest';
import { createIamOidcProviderRegistry, createIamRoleProvider, type IamClientLike } from './index.js';

interface Sent {
  readonly op: string;
  readonly input: Record<string, unknown>;
}

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

function paged<T>(items: readonly T[], key: string, input: Record<string, unknown>) {
  const start = Number(input.Marker ?? 0);
  const next = start + Number(input.MaxItems ?? 100);
  return {
    [key]: items.slice(start, next),
    IsTruncated: next < items.length,
    ...(next < items.length ? { Marker: String(next) } : {}),
  };
}

const notFound = () =>
  Object.assign(new Error('gone'), { name: 'NoSuchEntityException', $metadata: { httpStatusCode: 404 } });
const TRUST =
  '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":"sts:AssumeRole"}]}';
const roles = Array.from({ length: 5 }, (_, i) => ({
  RoleName: `r${i}`,
  Path: '/zonekeeper/',
  Arn: `arn:aws:iam::123456789012:role/zonekeeper/r${i}`,
  RoleId: `AROA${i}`,
  CreateDate: new Date('2026-01-01T00:00:00Z'),
  AssumeRolePolicyDocument: encodeURIComponent(TRUST),
}));

describe('IAM role adapter with a stubbed client', () => {
  it('pages ListRoles and each role’s ListRoleTags, decodes trust policies, skips a role deleted meanwhile', async () => {
    const client = stub({
      ListRoles: (input) => paged(roles, 'Roles', input),
      ListRoleTags: (input) => {
        if (input.RoleName === 'r1') throw notFound();
        return paged(
          [
            { Key: 'zonekeeper:managed-by', Value: 'zonekeeper' },
            { Key: 'owner', Value: String(input.RoleName) },
            { Key: 'e' },
          ],
          'Tags',
          input,
        );
      },
    });
    const listed = await createIamRoleProvider({ client, pageSize: 2 }).listRoles('/zonekeeper/');
    expect(listed.map((r) => r.roleName)).toEqual(['r0', 'r2', 'r3', 'r4']);
    expect(listed[1]).toMatchObject({
      trustPolicy: TRUST,
      tags: { 'zonekeeper:managed-by': 'zonekeeper', owner: 'r2', e: '' },
      description: '',
    });
    expect(client.sent.filter((s) => s.op === 'ListRoles').map((s) => s.input.Marker)).toEqual([
      undefined,
      '2',
      '4',
    ]);
    expect(client.sent.filter((s) => s.op === 'ListRoleTags' && s.input.RoleName === 'r0').length).toBe(2);
  });

  it('pages ListRolePolicies and decodes GetRolePolicy and GetRole documents', async () => {
    const doc =
      '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"route53:GetChange","Resource":"*"}]}';
    const client = stub({
      ListRolePolicies: (input) => paged(['a', 'b', 'c'], 'PolicyNames', input),
      GetRolePolicy: () => ({ PolicyDocument: encodeURIComponent(doc) }),
      GetRole: () => ({ Role: { ...roles[0], Tags: [{ Key: 'k', Value: 'v' }], Description: 'd' } }),
    });
    const p = createIamRoleProvider({ client, pageSize: 2 });
    expect(await p.listRolePolicies('r0')).toEqual(['a', 'b', 'c']);
    expect(await p.getRolePolicy('r0', 'a')).toBe(doc);
    expect(await p.getRole('r0')).toMatchObject({ trustPolicy: TRUST, tags: { k: 'v' }, description: 'd' });
  });

  it('an answer without a role is INTERNAL', async () => {
    const p = createIamRoleProvider({ client: stub({ GetRole: () => ({}) }) });
    await expect(p.getRole('r0')).rejects.toMatchObject({ code: 'INTERNAL' });
  });
});

describe('IAM OIDC adapter with a stubbed client', () => {
  it('lists providers by reading each one, restores https:// in the URL, skips one deleted meanwhile', async () => {
    const arn = (h: string) => `arn:aws:iam::123456789012:oidc-provider/${h}`;
    const client = stub({
      ListOpenIDConnectProviders: () => ({
        OpenIDConnectProviderList: [
          { Arn: arn('b.example.com') },
          { Arn: arn('a.example.com/x') },
          { Arn: arn('gone.example.com') },
        ],
      }),
      GetOpenIDConnectProvider: (input) => {
        const a = String(input.OpenIDConnectProviderArn);
        if (a.includes('gone')) throw notFound();
        return {
          Url: a.split('oidc-provider/')[1],
          ClientIDList: ['sts.amazonaws.com'],
          ThumbprintList: ['9E99A48A9960B14926BB7F3B02E22DA2B0AB7280'],
          CreateDate: new Date('2026-01-01T00:00:00Z'),
          Tags: [{ Key: 'zonekeeper:managed-by', Value: 'zonekeeper' }],
        };
      },
    });
    const listed = await createIamOidcProviderRegistry({ client }).listOidcProviders();
    expect(listed.map((p) => p.url)).toEqual(['https://a.example.com/x', 'https://b.example.com']);
    expect(listed[0]).toMatchObject({
      thumbprints: ['9e99a48a9960b14926bb7f3b02e22da2b0ab7280'],
      tags: { 'zonekeeper:managed-by': 'zonekeeper' },
    });
  });

  it('sends client ids, thumbprints and tags on create, omitting empty ones', async () => {
    const client = stub({
      CreateOpenIDConnectProvider: () => ({
        OpenIDConnectProviderArn: 'arn:aws:iam::123456789012:oidc-provider/a.example.com',
      }),
    });
    const r = createIamOidcProviderRegistry({ client });
    await r.createOidcProvider({ url: 'https://a.example.com', clientIds: ['sts.amazonaws.com'], tags: {} });
    expect(client.sent[0]?.input).toEqual({
      Url: 'https://a.example.com',
      ClientIDList: ['sts.amazonaws.com'],
    });
  });
});
