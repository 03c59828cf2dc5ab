/**
 * ExternalDNS rendered for the keyless modes: IRSA (the ServiceAccount names the role), EKS Pod
 * Identity (nothing for credentials) and generic web identity (a projected token, AWS_ROLE_ARN and
 * AWS_WEB_IDENTITY_TOKEN_FILE). No Secret in any of them; a switch of mode or role rolls the pod and
 * rewrites the ServiceAccount; bad input is a typed error that never echoes an access key.
 */
import { describeRef, hasErrorCode, type KubernetesObject, refOf } from '@zonekeeper/core';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { describe, expect, it } from 'vitest';
import {
  CREDENTIALS_HASH_ANNOTATION,
  CREDENTIALS_MODE_ANNOTATION,
  credentialsHash,
  DEFAULT_TOKEN_AUDIENCE,
  DEFAULT_TOKEN_EXPIRATION_SECONDS,
  type ExternalDnsCredentials,
  type ExternalDnsOptions,
  IRSA_ROLE_ARN_ANNOTATION,
  type KeylessCredentials,
  planApply,
  renderExternalDns,
  toYaml,
  validateExternalDnsCredentials,
  WEB_IDENTITY_TOKEN_MOUNT_PATH,
} from './index.js';
import { createMemoryCluster } from './memory-cluster.js';

const ROLE = 'arn:aws:iam::123456789012:role/zonekeeper/zk-a379a6f6.acme';
const OTHER_ROLE = 'arn:aws:iam::123456789012:role/zonekeeper/zk-a379a6f6.beta';
const KEY = {
  accessKeyId: 'AKIAZKFAKE0TEST00001',
  secretAccessKey: 'zkFAKE/secretKEY+for0TESTS0nly0notREAL12',
};

const base = (credentials: ExternalDnsCredentials): ExternalDnsOptions => ({
  clusterId: 'prod-eu',
  organization: 'acme',
  zoneName: 'acme.example.com',
  zoneId: 'Z0123456789ABCDEFGHIJ',
  credentials,
});

type Obj = Record<string, unknown>;
const byKind = (objects: readonly KubernetesObject[], kind: string) => {
  const found = objects.find((o) => o.kind === kind);
  if (!found) throw new Error(`no ${kind} rendered`);
  return found;
};
const podSpecOf = (objects: readonly KubernetesObject[]) =>
  ((byKind(objects, 'Deployment').spec as Obj).template as Obj).spec as Obj;
const containerOf = (objects: readonly KubernetesObject[]) =>
  (podSpecOf(objects).containers as Obj[])[0] as Obj;
const envOf = (objects: readonly KubernetesObject[]) =>
  Object.fromEntries(((containerOf(objects).env as Obj[]) ?? []).map((e) => [e.name, e.value]));
const hashOf = (objects: readonly KubernetesObject[]) =>
  (((byKind(objects, 'Deployment').spec as Obj).template as Obj).metadata as { annotations: Obj })
    .annotations[CREDENTIALS_HASH_ANNOTATION];

const MODES: readonly KeylessCredentials[] = [
  { mode: 'irsa', roleArn: ROLE },
  { mode: 'pod-identity' },
  { mode: 'web-identity', roleArn: ROLE },
];

/** No AWS credential of any kind in the pod: no Secret, no key env, no shared file. */
function expectNoStaticCredentials(objects: readonly KubernetesObject[]): void {
  expect(objects.map((o) => o.kind)).not.toContain('Secret');
  const env = envOf(objects);
  for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SHARED_CREDENTIALS_FILE'])
    expect(env).not.toHaveProperty(name);
  const volumes = (podSpecOf(objects).volumes as Obj[] | undefined) ?? [];
  expect(volumes.some((v) => 'secret' in v)).toBe(false);
}

describe('renderExternalDns: keyless modes', () => {
  it.each(MODES.map((c) => [c.mode, c] as const))(
    '%s renders no Secret and no static credential',
    (_m, c) => {
      const objects = renderExternalDns(base(c));
      expect(objects.map((o) => o.kind)).toEqual([
        'ServiceAccount',
        'ClusterRole',
        'ClusterRoleBinding',
        'Deployment',
      ]);
      expectNoStaticCredentials(objects);
      expect(byKind(objects, 'ServiceAccount').metadata.annotations?.[CREDENTIALS_MODE_ANNOTATION]).toBe(
        c.mode,
      );
    },
  );

  it('irsa: the ServiceAccount carries eks.amazonaws.com/role-arn and nothing is mounted', () => {
    const objects = renderExternalDns(base({ mode: 'irsa', roleArn: ROLE }));
    expect(byKind(objects, 'ServiceAccount').metadata.annotations).toEqual({
      [CREDENTIALS_MODE_ANNOTATION]: 'irsa',
      [IRSA_ROLE_ARN_ANNOTATION]: ROLE,
    });
    expect(containerOf(objects).volumeMounts).toBeUndefined();
    expect(podSpecOf(objects).volumes).toBeUndefined();
    expect(Object.keys(envOf(objects)).sort()).toEqual(['AWS_DEFAULT_REGION', 'AWS_REGION']);
  });

  it('pod-identity: no annotation naming a role, no env beyond the region, no volume', () => {
    const objects = renderExternalDns(base({ mode: 'pod-identity' }));
    expect(byKind(objects, 'ServiceAccount').metadata.annotations).toEqual({
      [CREDENTIALS_MODE_ANNOTATION]: 'pod-identity',
    });
    expect(Object.keys(envOf(objects)).sort()).toEqual(['AWS_DEFAULT_REGION', 'AWS_REGION']);
    expect(podSpecOf(objects).volumes).toBeUndefined();
  });

  it('web-identity: a projected token with the audience, and AWS_ROLE_ARN / AWS_WEB_IDENTITY_TOKEN_FILE pointing at it', () => {
    const objects = renderExternalDns(base({ mode: 'web-identity', roleArn: ROLE }));
    const env = envOf(objects);
    expect(env.AWS_ROLE_ARN).toBe(ROLE);
    expect(env.AWS_WEB_IDENTITY_TOKEN_FILE).toBe(`${WEB_IDENTITY_TOKEN_MOUNT_PATH}/token`);
    expect(env.AWS_ROLE_SESSION_NAME).toBe('external-dns.prod-eu');
    const mounts = containerOf(objects).volumeMounts as Obj[];
    expect(mounts).toEqual([{ name: 'aws-token', mountPath: WEB_IDENTITY_TOKEN_MOUNT_PATH, readOnly: true }]);
    expect(podSpecOf(objects).volumes).toEqual([
      {
        name: 'aws-token',
        projected: {
          defaultMode: 0o440,
          sources: [
            {
              serviceAccountToken: {
                audience: DEFAULT_TOKEN_AUDIENCE,
                expirationSeconds: DEFAULT_TOKEN_EXPIRATION_SECONDS,
                path: 'token',
              },
            },
          ],
        },
      },
    ]);
    // The token is the pod's service account's: the one the role's trust policy names.
    expect(podSpecOf(objects).serviceAccountName).toBe(byKind(objects, 'ServiceAccount').metadata.name);
    expect(byKind(objects, 'ServiceAccount').metadata.annotations).not.toHaveProperty(
      IRSA_ROLE_ARN_ANNOTATION,
    );
  });

  it('web-identity: a chosen audience and lifetime are projected as given', () => {
    const objects = renderExternalDns(
      base({ mode: 'web-identity', roleArn: ROLE, audience: 'zonekeeper', expirationSeconds: 3600 }),
    );
    const volume = (podSpecOf(objects).volumes as Obj[])[0] as { projected: { sources: Obj[] } };
    expect(volume.projected.sources[0]).toEqual({
      serviceAccountToken: { audience: 'zonekeeper', expirationSeconds: 3600, path: 'token' },
    });
  });

  it('a bare access key and { mode: "access-key" } render the same objects as before (no rollout on upgrade)', () => {
    const bare = renderExternalDns(base(KEY));
    const spelled = renderExternalDns(base({ mode: 'access-key', ...KEY }));
    expect(spelled).toEqual(bare);
    expect(hashOf(bare)).toBe(credentialsHash(KEY));
    expect(byKind(bare, 'ServiceAccount').metadata.annotations).toEqual({
      [CREDENTIALS_MODE_ANNOTATION]: 'access-key',
    });
  });

  it('the credentials hash differs for every mode and role, so each switch rolls the pod', () => {
    const all: ExternalDnsCredentials[] = [
      KEY,
      ...MODES,
      { mode: 'irsa', roleArn: OTHER_ROLE },
      { mode: 'web-identity', roleArn: OTHER_ROLE },
      { mode: 'web-identity', roleArn: ROLE, audience: 'other' },
      { mode: 'pod-identity', roleArn: ROLE },
    ];
    const hashes = all.map((c) => hashOf(renderExternalDns(base(c))));
    expect(new Set(hashes).size).toBe(all.length);
    for (const h of hashes) expect(h).toMatch(/^[0-9a-f]{16}$/);
  });

  it('the Deployment and ServiceAccount of every mode validate against the Kubernetes OpenAPI schemas', () => {
    for (const c of [
      ...MODES,
      { mode: 'web-identity', roleArn: ROLE, audience: 'zk', expirationSeconds: 600 } as const,
    ]) {
      const objects = renderExternalDns(base(c));
      expect(() => new Deployment(byKind(objects, 'Deployment') as never).validate()).not.toThrow();
      expect(() => new ServiceAccount(byKind(objects, 'ServiceAccount') as never).validate()).not.toThrow();
    }
  });

  it('render is deterministic in every mode', () => {
    for (const c of MODES) expect(renderExternalDns(base(c))).toEqual(renderExternalDns(base(c)));
  });
});

describe('switching modes on a cluster (server-side apply by one field manager)', () => {
  async function applyAll(
    cluster: ReturnType<typeof createMemoryCluster>,
    objects: readonly KubernetesObject[],
  ) {
    for (const o of objects) await cluster.apply(o);
  }
  const current = async (
    cluster: ReturnType<typeof createMemoryCluster>,
    objects: readonly KubernetesObject[],
  ) => {
    const map = new Map<string, KubernetesObject | undefined>();
    for (const o of objects) map.set(describeRef(refOf(o)), await cluster.get(refOf(o)));
    return map;
  };

  it('irsa → pod-identity plans a ServiceAccount update, so the role annotation does not linger', async () => {
    const cluster = createMemoryCluster({ name: 'c1', namespaces: ['external-dns'] });
    await applyAll(cluster, renderExternalDns(base({ mode: 'irsa', roleArn: ROLE })));
    const next = renderExternalDns(base({ mode: 'pod-identity' }));
    const plan = planApply(next, await current(cluster, next), 'c1');
    expect(plan.steps.map((s) => `${s.ref.kind} ${s.change}`)).toEqual([
      'ServiceAccount update',
      'Deployment update',
    ]);
    await applyAll(cluster, next);
    const sa = await cluster.get({
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      namespace: 'external-dns',
      name: 'external-dns',
    });
    expect(sa?.metadata.annotations).not.toHaveProperty(IRSA_ROLE_ARN_ANNOTATION);
  });

  it('irsa → access key rewrites the ServiceAccount too (a stale role annotation would win over the key in the AWS SDK)', async () => {
    const cluster = createMemoryCluster({ name: 'c1', namespaces: ['external-dns'] });
    await applyAll(cluster, renderExternalDns(base({ mode: 'irsa', roleArn: ROLE })));
    const next = renderExternalDns(base(KEY));
    const plan = planApply(next, await current(cluster, next), 'c1');
    expect(plan.steps.map((s) => `${s.ref.kind} ${s.change}`)).toContain('ServiceAccount update');
  });

  it('the same mode and role again plans nothing', async () => {
    for (const c of MODES) {
      const cluster = createMemoryCluster({ name: 'c1', namespaces: ['external-dns'] });
      const objects = renderExternalDns(base(c));
      await applyAll(cluster, objects);
      expect(planApply(objects, await current(cluster, objects), 'c1').steps).toEqual([]);
    }
  });
});

describe('keyless credentials: validation', () => {
  const bad = (credentials: unknown) => () => renderExternalDns(base(credentials as ExternalDnsCredentials));

  it.each([
    [
      'an unknown mode',
      { mode: 'instance-profile' },
      /credentials\.mode "instance-profile" is not one of access-key, irsa, pod-identity, web-identity/,
    ],
    ['irsa without a role', { mode: 'irsa' }, /credentials\.roleArn \(irsa\) is required/],
    [
      'irsa with a user ARN',
      { mode: 'irsa', roleArn: 'arn:aws:iam::123456789012:user/zk' },
      /is not an IAM role ARN/,
    ],
    [
      'a role ARN with an 11-digit account',
      { mode: 'web-identity', roleArn: 'arn:aws:iam::12345678901:role/zk' },
      /not an IAM role ARN/,
    ],
    [
      'a role ARN of another service',
      { mode: 'web-identity', roleArn: 'arn:aws:sts::123456789012:role/zk' },
      /not an IAM role ARN/,
    ],
    ['a role ARN with a line break', { mode: 'irsa', roleArn: `${ROLE}\nx` }, /not an IAM role ARN/],
    [
      'a token audience with a space',
      { mode: 'web-identity', roleArn: ROLE, audience: 'a b' },
      /credentials\.audience must be/,
    ],
    [
      'an empty audience',
      { mode: 'web-identity', roleArn: ROLE, audience: '' },
      /credentials\.audience must be/,
    ],
    [
      'a token lifetime under 10 minutes',
      { mode: 'web-identity', roleArn: ROLE, expirationSeconds: 599 },
      /expirationSeconds must be a whole number of seconds from 600/,
    ],
    [
      'a token lifetime over a day',
      { mode: 'web-identity', roleArn: ROLE, expirationSeconds: 86_401 },
      /expirationSeconds/,
    ],
    [
      'a fractional token lifetime',
      { mode: 'web-identity', roleArn: ROLE, expirationSeconds: 900.5 },
      /expirationSeconds/,
    ],
    [
      'an option of another mode',
      { mode: 'irsa', roleArn: ROLE, audience: 'x' },
      /credentials\.audience is not an option of the irsa mode/,
    ],
    [
      'a key with a keyless mode',
      { mode: 'web-identity', roleArn: ROLE, ...KEY },
      /credentials\.accessKeyId is not an option of the web-identity mode/,
    ],
    [
      'a role with an access key',
      { ...KEY, roleArn: ROLE },
      /credentials\.roleArn is not an option of the access-key mode/,
    ],
  ])('refuses %s with INVALID_INPUT', (_what, credentials, message) => {
    let error: unknown;
    try {
      bad(credentials)();
    } catch (e) {
      error = e;
    }
    expect(hasErrorCode(error, 'INVALID_INPUT')).toBe(true);
    expect((error as Error).message).toMatch(message);
    // The secret of a key passed by mistake is never echoed.
    expect(
      JSON.stringify({ m: (error as Error).message, d: (error as { details?: unknown }).details }),
    ).not.toContain(KEY.secretAccessKey);
  });

  it('validateExternalDnsCredentials spells out the mode and the defaults', () => {
    expect(validateExternalDnsCredentials({ mode: 'web-identity', roleArn: ROLE })).toEqual({
      mode: 'web-identity',
      roleArn: ROLE,
      audience: DEFAULT_TOKEN_AUDIENCE,
      expirationSeconds: DEFAULT_TOKEN_EXPIRATION_SECONDS,
    });
    expect(validateExternalDnsCredentials(KEY)).toEqual({ mode: 'access-key', ...KEY });
    expect(validateExternalDnsCredentials({ mode: 'pod-identity' })).toEqual({
      mode: 'pod-identity',
      roleArn: undefined,
    });
  });

  it('accepts role ARNs in the other partitions and with a path', () => {
    for (const roleArn of [
      'arn:aws-cn:iam::123456789012:role/zk',
      'arn:aws-us-gov:iam::123456789012:role/a/b/zk+=,.@-_1',
    ])
      expect(() => renderExternalDns(base({ mode: 'irsa', roleArn }))).not.toThrow();
  });
});

describe('toYaml: keyless snapshots', () => {
  it.each(MODES.map((c) => [c.mode, c] as const))('%s', async (mode, c) => {
    const text = toYaml(renderExternalDns(base(c)));
    expect(text).not.toContain('kind: Secret');
    await expect(text).toMatchFileSnapshot(`./__snapshots__/external-dns.${mode}.yaml`);
  });
});
