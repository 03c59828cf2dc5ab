import { type KubernetesObject, ZONEKEEPER_MANAGER, ZonekeeperLabels } from '@zonekeeper/core';
import fc from 'fast-check';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import {
  type AwsExternalDnsOptions,
  type AwsStaticCredentials,
  CREDENTIALS_HASH_ANNOTATION,
  credentialsFile,
  EXTERNAL_DNS_POLICIES,
  EXTERNAL_DNS_SOURCES,
  REDACTED_SECRET_VALUE,
  renderExternalDns,
  toYaml,
} from './index.js';

/** Validators from the official OpenAPI schemas (kubernetes-models); `validate()` throws when invalid. */
const schemas: Record<string, (object: KubernetesObject) => void> = {
  Namespace: (o) => new Namespace(o as never).validate(),
  ServiceAccount: (o) => new ServiceAccount(o as never).validate(),
  ClusterRole: (o) => new ClusterRole(o as never).validate(),
  ClusterRoleBinding: (o) => new ClusterRoleBinding(o as never).validate(),
  Secret: (o) => new Secret(o as never).validate(),
  Deployment: (o) => new Deployment(o as never).validate(),
};

// An `xn--` label must be valid punycode; random ones are not (core rejects them).
const label = fc.stringMatching(/^[a-z]([a-z0-9-]{0,14}[a-z0-9])?$/).filter((l) => !l.startsWith('xn--'));
const accessKeyId = fc.stringMatching(/^AKIA[A-Z0-9]{16}$/);
/** Shaped like AWS secret access keys: 40 characters, so they cannot occur by chance in other text. */
const secretAccessKey = fc.stringMatching(/^[A-Za-z0-9/+]{40}$/);

const images = [
  'registry.k8s.io/external-dns/external-dns:v0.22.0',
  'registry.k8s.io/external-dns/external-dns:v0.21.0',
  'example.com:5000/mirror/external-dns:v0.22.0-zk_1',
  `registry.k8s.io/external-dns/external-dns@sha256:${'0123456789abcdef'.repeat(4)}`,
  `external-dns/external-dns:v0.22.0@sha256:${'fedcba9876543210'.repeat(4)}`,
];

const quantities = fc
  .record(
    {
      cpuMilli: fc.integer({ min: 1, max: 2000 }),
      memMi: fc.integer({ min: 16, max: 4096 }),
      cpuHeadroom: fc.integer({ min: 0, max: 2000 }),
      memHeadroom: fc.integer({ min: 0, max: 4096 }),
    },
    { requiredKeys: [] },
  )
  .map(({ cpuMilli, memMi, cpuHeadroom, memHeadroom }) => ({
    requests: {
      ...(cpuMilli === undefined ? {} : { cpu: `${cpuMilli}m` }),
      ...(memMi === undefined ? {} : { memory: `${memMi}Mi` }),
    },
    limits: {
      ...(cpuMilli === undefined || cpuHeadroom === undefined ? {} : { cpu: `${cpuMilli + cpuHeadroom}m` }),
      // The default memory limit (128Mi) stays when no request is given: keep requests ≤ 128Mi then.
      memory: `${Math.max(memMi ?? 64, 64) + (memHeadroom ?? 0)}Mi`,
    },
  }));

/** Every option combination: required fields always, optional ones present or absent. */
/** Options with an access key (the keyless modes are in render-keyless.test.ts). */
type KeyOptions = AwsExternalDnsOptions & { readonly credentials: AwsStaticCredentials };

const optionsArb: fc.Arbitrary<KeyOptions> = fc.record(
  {
    clusterId: label,
    organization: label,
    zoneName: fc.tuple(label, label, fc.constantFrom('com', 'io', 'example')).map((l) => l.join('.')),
    zoneId: fc
      .tuple(fc.boolean(), fc.stringMatching(/^Z[A-Z0-9]{8,20}$/))
      .map(([prefixed, id]) => (prefixed ? `/hostedzone/${id}` : id)),
    credentials: fc.record({ accessKeyId, secretAccessKey }),
    region: fc.constantFrom('us-east-1', 'eu-central-1', 'ap-southeast-2', 'us-gov-west-1', 'cn-north-1'),
    namespace: label,
    createNamespace: fc.boolean(),
    name: label,
    image: fc.constantFrom(...images),
    sources: fc.shuffledSubarray([...EXTERNAL_DNS_SOURCES], { minLength: 1 }),
    policy: fc.constantFrom(...EXTERNAL_DNS_POLICIES),
    interval: fc.constantFrom('1m', '90s', '5m', '1h30m', '2m0s', '1.5m', '60000ms'),
    txtOwnerId: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,30}$/),
    txtPrefix: fc.constantFrom('', 'edns-', '%{record_type}-', '_external_dns.', 'x', 'zk-%{record_type}.'),
    annotationPrefix: fc.constantFrom(
      'external-dns.kubernetes.io/',
      'external-dns.alpha.kubernetes.io/',
      'dns.example.com/',
    ),
    zonesCacheDuration: fc.constantFrom('0s', '1h', '15m', '2h30m'),
    resources: quantities,
    extraArgs: fc.subarray([
      '--events',
      '--log-level=debug',
      '--log-format=json',
      '--annotation-filter=zonekeeper.io/expose in (true)',
      '--txt-cache-interval=5m',
    ]),
    extraLabels: fc.dictionary(
      fc.constantFrom('team', 'tier', 'example.com/cost-center', 'a.b/c_d'),
      fc.stringMatching(/^([A-Za-z0-9]([A-Za-z0-9_.-]{0,20}[A-Za-z0-9])?)?$/),
      { maxKeys: 3 },
    ),
    imagePullPolicy: fc.constantFrom('Always' as const, 'IfNotPresent' as const, 'Never' as const),
  },
  { requiredKeys: ['clusterId', 'organization', 'zoneName', 'zoneId', 'credentials'] },
);

type Obj = Record<string, unknown>;
const deploymentOf = (objects: readonly KubernetesObject[]) =>
  objects.find((o) => o.kind === 'Deployment') as Obj;
const podTemplateOf = (objects: readonly KubernetesObject[]) =>
  (deploymentOf(objects).spec as Obj).template as { metadata: { labels: Obj; annotations: Obj }; spec: Obj };
const argsOf = (objects: readonly KubernetesObject[]) =>
  ((podTemplateOf(objects).spec.containers as Obj[])[0] as Obj).args as string[];

describe('renderExternalDns properties (fast-check)', () => {
  it('every rendered object validates against the official Kubernetes schemas', () => {
    fc.assert(
      fc.property(optionsArb, (options) => {
        const objects = renderExternalDns(options);
        expect(objects.length).toBe(options.createNamespace === true ? 6 : 5);
        for (const object of objects) {
          const validate = schemas[object.kind];
          expect(validate, `no schema for ${object.kind}`).toBeDefined();
          validate?.(object);
        }
      }),
    );
  });

  it('is deterministic and does not mutate its input', () => {
    fc.assert(
      fc.property(optionsArb, (options) => {
        const copy = structuredClone(options);
        const first = renderExternalDns(options);
        expect(renderExternalDns(copy)).toEqual(first);
        expect(options).toEqual(copy);
        // Frozen input is fine too: nothing writes to it.
        expect(renderExternalDns(deepFreeze(structuredClone(options)))).toEqual(first);
      }),
    );
  });

  it('every object and the pod template carry the ownership labels', () => {
    fc.assert(
      fc.property(optionsArb, (options) => {
        const objects = renderExternalDns(options);
        const expected = {
          [ZonekeeperLabels.managedBy]: ZONEKEEPER_MANAGER,
          [ZonekeeperLabels.organization]: options.organization,
          [ZonekeeperLabels.cluster]: options.clusterId,
          'app.kubernetes.io/managed-by': ZONEKEEPER_MANAGER,
          'app.kubernetes.io/name': 'external-dns',
          ...options.extraLabels,
        };
        for (const object of objects) expect(object.metadata.labels).toMatchObject(expected);
        expect(podTemplateOf(objects).metadata.labels).toMatchObject(expected);
      }),
    );
  });

  it('the secret (and the access key, and the encoded file) appear in the Secret only', () => {
    fc.assert(
      fc.property(optionsArb, (options) => {
        const objects = renderExternalDns(options);
        const secrets = objects.filter((o) => o.kind === 'Secret');
        expect(secrets).toHaveLength(1);
        const encoded = Buffer.from(credentialsFile(options.credentials)).toString('base64');
        expect(secrets[0]?.data).toEqual({ credentials: encoded });
        const others = JSON.stringify(objects.filter((o) => o.kind !== 'Secret'));
        expect(others).not.toContain(options.credentials.secretAccessKey);
        expect(others).not.toContain(options.credentials.accessKeyId);
        expect(others).not.toContain(encoded);
      }),
    );
  });

  it('changing only the secret changes the Secret and the credentials-hash annotation, nothing else', () => {
    fc.assert(
      fc.property(optionsArb, secretAccessKey, (options, otherSecret) => {
        fc.pre(otherSecret !== options.credentials.secretAccessKey);
        const before = renderExternalDns(options);
        const after = renderExternalDns({
          ...options,
          credentials: { ...options.credentials, secretAccessKey: otherSecret },
        });
        expect(after.map((o) => o.kind)).toEqual(before.map((o) => o.kind));
        const hash = (objects: readonly KubernetesObject[]) =>
          podTemplateOf(objects).metadata.annotations[CREDENTIALS_HASH_ANNOTATION];
        expect(hash(after)).not.toBe(hash(before));
        expect(after.find((o) => o.kind === 'Secret')).not.toEqual(before.find((o) => o.kind === 'Secret'));
        const withoutHashOrSecret = (objects: readonly KubernetesObject[]) =>
          objects
            .filter((o) => o.kind !== 'Secret')
            .map((o) => {
              const copy = structuredClone(o) as Obj;
              if (o.kind === 'Deployment')
                delete podTemplateOf([copy as KubernetesObject]).metadata.annotations[
                  CREDENTIALS_HASH_ANNOTATION
                ];
              return copy;
            });
        expect(withoutHashOrSecret(after)).toEqual(withoutHashOrSecret(before));
      }),
    );
  });

  it('the selector is name + instance only and is a subset of the pod template labels', () => {
    fc.assert(
      fc.property(optionsArb, (options) => {
        const objects = renderExternalDns(options);
        const selector = ((deploymentOf(objects).spec as Obj).selector as { matchLabels: Obj }).matchLabels;
        expect(selector).toEqual({
          'app.kubernetes.io/name': 'external-dns',
          'app.kubernetes.io/instance': options.name ?? 'external-dns',
        });
        expect(podTemplateOf(objects).metadata.labels).toMatchObject(selector);
      }),
    );
  });

  it('args always hold the provider, both zone filters (exactly once) and one explicit policy', () => {
    fc.assert(
      fc.property(optionsArb, (options) => {
        const args = argsOf(renderExternalDns(options));
        const bareId = options.zoneId.replace(/^\/hostedzone\//, '');
        const count = (prefix: string) => args.filter((a) => a.startsWith(prefix)).length;
        expect(args).toContain('--provider=aws');
        expect(args.filter((a) => a.startsWith('--domain-filter='))).toEqual([
          `--domain-filter=${options.zoneName}`,
        ]);
        expect(args.filter((a) => a.startsWith('--zone-id-filter='))).toEqual([`--zone-id-filter=${bareId}`]);
        expect(args).toContain('--aws-zone-type=public');
        expect(count('--policy=')).toBe(1);
        expect(args).toContain(`--policy=${options.policy ?? 'upsert-only'}`);
        expect(count('--source=')).toBe((options.sources ?? ['service', 'ingress']).length);
        expect(args).toContain(`--txt-owner-id=${options.txtOwnerId ?? options.clusterId}`);
      }),
    );
  });
});

describe('toYaml properties (fast-check)', () => {
  it('redacted YAML never holds a credential and round-trips every other object', () => {
    fc.assert(
      fc.property(optionsArb, (options) => {
        const objects = renderExternalDns(options);
        const text = toYaml(objects);
        const encoded = Buffer.from(credentialsFile(options.credentials)).toString('base64');
        for (const forbidden of [
          options.credentials.secretAccessKey,
          options.credentials.accessKeyId,
          encoded,
        ]) {
          expect(text).not.toContain(forbidden);
        }
        const docs = parseAllDocuments(text).map((d) => d.toJS() as KubernetesObject);
        expect(docs).toHaveLength(objects.length);
        objects.forEach((object, i) => {
          if (object.kind === 'Secret') expect(docs[i]?.data).toEqual({ credentials: REDACTED_SECRET_VALUE });
          else expect(docs[i]).toEqual(object);
        });
      }),
    );
  });

  it('with includeSecrets: true, YAML round-trips every object exactly', () => {
    fc.assert(
      fc.property(optionsArb, (options) => {
        const objects = renderExternalDns(options);
        const docs = parseAllDocuments(toYaml(objects, { includeSecrets: true })).map((d) => d.toJS());
        expect(docs).toEqual(objects);
      }),
    );
  });
});

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
