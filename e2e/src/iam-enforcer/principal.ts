/**
 * Who sent a request and which identity policies apply to them, read from IAM (moto) for the access
 * key id of the request's SigV4 `Authorization` header: the key's user (`GetAccessKeyLastUsed`), the
 * key's status (`ListAccessKeys`), the user's inline and attached policies, and those of its groups.
 */

import {
  GetAccessKeyLastUsedCommand,
  GetGroupPolicyCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  type GetRoleCommandOutput,
  GetRolePolicyCommand,
  GetUserCommand,
  GetUserPolicyCommand,
  IAMClient,
  ListAccessKeysCommand,
  ListAttachedGroupPoliciesCommand,
  ListAttachedRolePoliciesCommand,
  ListAttachedUserPoliciesCommand,
  ListGroupPoliciesCommand,
  ListGroupsForUserCommand,
  ListRolePoliciesCommand,
  ListUserPoliciesCommand,
} from '@aws-sdk/client-iam';

/** The access key id of a SigV4 `Authorization` header (`Credential=<id>/<date>/<region>/<service>/aws4_request`). */
export function accessKeyIdOf(authorization: string | undefined): string | undefined {
  const match = authorization === undefined ? null : /Credential=([^/,\s]+)\//.exec(authorization);
  return match ? (match[1] as string) : undefined;
}

/** One identity policy of a principal. */
export interface PrincipalPolicy {
  /** `user/<name>/inline/<policy>`, `user/<name>/managed/<arn>`, `group/<g>/inline/<policy>`, … */
  readonly name: string;
  readonly policy: unknown;
}

/** An IAM user behind an access key, or a role session behind temporary credentials. */
export interface Principal {
  /** The user's name, or the role's. */
  readonly userName: string;
  readonly arn: string;
  readonly accountId: string;
  readonly policies: readonly PrincipalPolicy[];
}

/** Why a key does not authenticate: unknown to IAM, or not `Active`. */
export type KeyProblem = 'unknown-key' | 'inactive-key';

/** Reads principals from an IAM endpoint (moto) with administrator credentials. */
export interface PrincipalReader {
  read(accessKeyId: string): Promise<Principal | KeyProblem>;
  /**
   * A role session (`arn:aws:sts::<account>:assumed-role/<role>/<session>`) with the role's inline and
   * attached policies, read now (a policy change takes effect on the next request, as in AWS).
   */
  readRole(roleName: string, sessionName: string): Promise<Principal | KeyProblem>;
}

function document(encoded: string | undefined): unknown {
  // IAM returns policy documents URL-encoded (RFC 3986).
  return JSON.parse(decodeURIComponent(encoded ?? '{}'));
}

/** A reader over the IAM API at `endpoint` (moto's, bypassing every proxy). */
export function createPrincipalReader(options: {
  readonly endpoint: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
}): PrincipalReader {
  const iam = new IAMClient({
    endpoint: options.endpoint,
    region: 'us-east-1',
    credentials: options.credentials,
    maxAttempts: 2,
  });
  const managed = async (owner: string, arns: readonly string[]): Promise<PrincipalPolicy[]> =>
    Promise.all(
      arns.map(async (arn) => {
        const policy = await iam.send(new GetPolicyCommand({ PolicyArn: arn }));
        const version = await iam.send(
          new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: policy.Policy?.DefaultVersionId }),
        );
        return { name: `${owner}/managed/${arn}`, policy: document(version.PolicyVersion?.Document) };
      }),
    );
  return {
    async readRole(roleName, sessionName) {
      let role: GetRoleCommandOutput;
      try {
        role = await iam.send(new GetRoleCommand({ RoleName: roleName }));
      } catch (error) {
        if ((error as { name?: string }).name === 'NoSuchEntityException') return 'unknown-key';
        throw error;
      }
      const roleArn = role.Role?.Arn as string;
      const accountId = roleArn.split(':')[4] as string;
      const [inlineNames, attached] = await Promise.all([
        iam.send(new ListRolePoliciesCommand({ RoleName: roleName })),
        iam.send(new ListAttachedRolePoliciesCommand({ RoleName: roleName })),
      ]);
      const policies: PrincipalPolicy[] = [];
      for (const name of inlineNames.PolicyNames ?? []) {
        const p = await iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: name }));
        policies.push({ name: `role/${roleName}/inline/${name}`, policy: document(p.PolicyDocument) });
      }
      policies.push(
        ...(await managed(
          `role/${roleName}`,
          (attached.AttachedPolicies ?? []).flatMap((a) => (a.PolicyArn ? [a.PolicyArn] : [])),
        )),
      );
      const partition = roleArn.split(':')[1] as string;
      return {
        userName: roleName,
        arn: `arn:${partition}:sts::${accountId}:assumed-role/${roleName}/${sessionName}`,
        accountId,
        policies,
      };
    },
    async read(accessKeyId) {
      let userName: string | undefined;
      try {
        userName = (await iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: accessKeyId }))).UserName;
      } catch (error) {
        if ((error as { name?: string }).name === 'NoSuchEntityException') return 'unknown-key';
        throw error;
      }
      if (userName === undefined) return 'unknown-key';
      const keys = await iam.send(new ListAccessKeysCommand({ UserName: userName }));
      const key = keys.AccessKeyMetadata?.find((k) => k.AccessKeyId === accessKeyId);
      if (!key) return 'unknown-key';
      if (key.Status !== 'Active') return 'inactive-key';
      const [user, inlineNames, attached, groups] = await Promise.all([
        iam.send(new GetUserCommand({ UserName: userName })),
        iam.send(new ListUserPoliciesCommand({ UserName: userName })),
        iam.send(new ListAttachedUserPoliciesCommand({ UserName: userName })),
        iam.send(new ListGroupsForUserCommand({ UserName: userName })),
      ]);
      const policies: PrincipalPolicy[] = [];
      for (const name of inlineNames.PolicyNames ?? []) {
        const p = await iam.send(new GetUserPolicyCommand({ UserName: userName, PolicyName: name }));
        policies.push({ name: `user/${userName}/inline/${name}`, policy: document(p.PolicyDocument) });
      }
      policies.push(
        ...(await managed(
          `user/${userName}`,
          (attached.AttachedPolicies ?? []).flatMap((a) => (a.PolicyArn ? [a.PolicyArn] : [])),
        )),
      );
      for (const group of groups.Groups ?? []) {
        const groupName = group.GroupName as string;
        const names = await iam.send(new ListGroupPoliciesCommand({ GroupName: groupName }));
        for (const name of names.PolicyNames ?? []) {
          const p = await iam.send(new GetGroupPolicyCommand({ GroupName: groupName, PolicyName: name }));
          policies.push({ name: `group/${groupName}/inline/${name}`, policy: document(p.PolicyDocument) });
        }
        const groupAttached = await iam.send(new ListAttachedGroupPoliciesCommand({ GroupName: groupName }));
        policies.push(
          ...(await managed(
            `group/${groupName}`,
            (groupAttached.AttachedPolicies ?? []).flatMap((a) => (a.PolicyArn ? [a.PolicyArn] : [])),
          )),
        );
      }
      const arn = user.User?.Arn as string;
      return { userName, arn, accountId: arn.split(':')[4] as string, policies };
    },
  };
}
