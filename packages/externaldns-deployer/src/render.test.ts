import { hasErrorCode, type KubernetesObject, ZonekeeperLabels } from '@zonekeeper/core';
import { describe, expect, it } from 'vitest';
import {
  CREDENTIALS_HASH_ANNOTATION,
  credentialsFile,
  credentialsHash,
  DEFAULT_EXTERNAL_DNS_IMAGE,
  DEFAULT_TXT_PREFIX,
  defaultExternalDnsOptions,
  type ExternalDnsOptions,
  type ExternalDnsSource,
  externalDnsRbacRules,
  isScopeSafeTxtPrefix,
  LEGACY_ANNOTATION_PREFIX,
  renderExternalDns,
  resolveExternalDnsOptions,
} from './index.js';

// Fake credentials, shaped like real ones. They must never show up in a message or a snapshot.
const ACCESS_KEY_ID = 'AKIAZKFAKE0TEST00001';
const SECRET = 'zkFAKE/secretKEY+for0TESTS0nly0notREAL12';

const KEY = { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET };

const base: ExternalDnsOptions = {
  clusterId: 'prod-eu',
  organization: 'acme',
  zoneName: 'acme.example.com',
  zoneId: 'Z0123456789ABCDEFGHIJ',
  credentials: KEY,
};

type Obj = Record<string, unknown>;

/** Reads a nested field by path; fails the test if a step is missing. */
function at(value: unknown, ...path: (string | number)[]): unknown {
  let current = value;
  for (const step of path) {
    if (typeof current !== 'object' || current === null)
      throw new Error(`no ${String(step)} in path ${path.join('.')}`);
    current = (current as Obj)[step as string];
  }
  return current;
}

function byKind(objects: readonly KubernetesObject[], kind: string): KubernetesObject {
  const found = objects.find((o) => o.kind === kind);
  if (!found) throw new Error(`no ${kind} rendered`);
  return found;
}

const deploymentOf = (objects: readonly KubernetesObject[]) => byKind(objects, 'Deployment');
const containerOf = (objects: readonly KubernetesObject[]) =>
  at(deploymentOf(objects), 'spec', 'template', 'spec', 'containers', 0) as Obj;
const argsOf = (objects: readonly KubernetesObject[]) => containerOf(objects).args as string[];

describe('renderExternalDns: shape and defaults', () => {
  const objects = renderExternalDns(base);

  it('renders ServiceAccount, ClusterRole, ClusterRoleBinding, Secret, Deployment in apply order, no Namespace by default', () => {
    expect(objects.map((o) => o.kind)).toEqual([
      'ServiceAccount',
      'ClusterRole',
      'ClusterRoleBinding',
      'Secret',
      'Deployment',
    ]);
  });

  it('renders a Namespace first, marked as created by zonekeeper, with createNamespace: true', () => {
    const withNs = renderExternalDns({ ...base, createNamespace: true });
    expect(withNs.map((o) => o.kind)).toEqual([
      'Namespace',
      'ServiceAccount',
      'ClusterRole',
      'ClusterRoleBinding',
      'Secret',
      'Deployment',
    ]);
    const ns = withNs[0] as KubernetesObject;
    expect(ns.metadata.name).toBe('external-dns');
    expect(ns.metadata.labels?.[ZonekeeperLabels.createdNamespace]).toBe('true');
    expect(ns.metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
    expect(withNs.slice(1)).toEqual(objects);
  });

  const defaults: [string, () => unknown, unknown][] = [
    ['namespace is external-dns', () => deploymentOf(objects).metadata.namespace, 'external-dns'],
    ['name is external-dns', () => deploymentOf(objects).metadata.name, 'external-dns'],
    ['image is pinned to v0.22.0', () => containerOf(objects).image, DEFAULT_EXTERNAL_DNS_IMAGE],
    [
      'the default image constant',
      () => DEFAULT_EXTERNAL_DNS_IMAGE,
      'registry.k8s.io/external-dns/external-dns:v0.22.0',
    ],
    ['no imagePullPolicy is set', () => 'imagePullPolicy' in containerOf(objects), false],
    [
      'policy is upsert-only',
      () => argsOf(objects).filter((a) => a.startsWith('--policy=')),
      ['--policy=upsert-only'],
    ],
    ['interval is 1m', () => argsOf(objects).filter((a) => a.startsWith('--interval=')), ['--interval=1m']],
    [
      'sources are service and ingress',
      () => argsOf(objects).filter((a) => a.startsWith('--source=')),
      ['--source=service', '--source=ingress'],
    ],
    [
      'txt owner is the cluster id',
      () => argsOf(objects).filter((a) => a.startsWith('--txt-owner-id=')),
      ['--txt-owner-id=prod-eu'],
    ],
    [
      'the apex-safe txt prefix',
      () => argsOf(objects).filter((a) => a.startsWith('--txt-prefix')),
      ['--txt-prefix=_extdns-%{record_type}.'],
    ],
    [
      'the annotation prefix of ExternalDNS v0.22, explicitly',
      () => argsOf(objects).filter((a) => a.startsWith('--annotation-prefix')),
      ['--annotation-prefix=external-dns.kubernetes.io/'],
    ],
    [
      'a 1h zone cache',
      () => argsOf(objects).filter((a) => a.startsWith('--aws-zones-cache-duration')),
      ['--aws-zones-cache-duration=1h'],
    ],
    ['no narrowed domain filter', () => argsOf(objects).includes('--aws-zone-match-parent'), false],
    [
      'region is us-east-1 (AWS_REGION)',
      () => (containerOf(objects).env as Obj[]).find((e) => e.name === 'AWS_REGION')?.value,
      'us-east-1',
    ],
    [
      'region is us-east-1 (AWS_DEFAULT_REGION)',
      () => (containerOf(objects).env as Obj[]).find((e) => e.name === 'AWS_DEFAULT_REGION')?.value,
      'us-east-1',
    ],
    [
      'resources: 50m/64Mi requests, 128Mi memory limit',
      () => containerOf(objects).resources,
      { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '128Mi' } },
    ],
    ['one replica', () => at(deploymentOf(objects), 'spec', 'replicas'), 1],
    [
      'Recreate strategy (no leader election)',
      () => at(deploymentOf(objects), 'spec', 'strategy'),
      { type: 'Recreate' },
    ],
    [
      'version label from the image tag',
      () => deploymentOf(objects).metadata.labels?.['app.kubernetes.io/version'],
      'v0.22.0',
    ],
    ['Secret name', () => byKind(objects, 'Secret').metadata.name, 'external-dns-aws-credentials'],
    [
      'ClusterRole name includes the namespace',
      () => byKind(objects, 'ClusterRole').metadata.name,
      'zonekeeper:external-dns:external-dns',
    ],
  ];
  it.each(defaults)('default: %s', (_name, actual, expected) => {
    expect(actual()).toEqual(expected);
  });

  it('exports the defaults it applies', () => {
    expect(defaultExternalDnsOptions).toEqual({
      region: 'us-east-1',
      namespace: 'external-dns',
      createNamespace: false,
      name: 'external-dns',
      image: DEFAULT_EXTERNAL_DNS_IMAGE,
      sources: ['service', 'ingress'],
      policy: 'upsert-only',
      interval: '1m',
      txtPrefix: '_extdns-%{record_type}.',
      annotationPrefix: 'external-dns.kubernetes.io/',
      zonesCacheDuration: '1h',
      resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '128Mi' } },
    });
    expect(Object.isFrozen(defaultExternalDnsOptions)).toBe(true);
    expect(Object.isFrozen(defaultExternalDnsOptions.resources.requests)).toBe(true);
  });

  it('renders exactly the managed ExternalDNS args, both zone filters and an explicit policy', () => {
    expect(argsOf(objects)).toEqual([
      '--provider=aws',
      '--source=service',
      '--source=ingress',
      '--domain-filter=acme.example.com',
      '--zone-id-filter=Z0123456789ABCDEFGHIJ',
      '--aws-zone-type=public',
      '--aws-zones-cache-duration=1h',
      '--registry=txt',
      '--txt-owner-id=prod-eu',
      '--txt-prefix=_extdns-%{record_type}.',
      '--annotation-prefix=external-dns.kubernetes.io/',
      '--policy=upsert-only',
      '--interval=1m',
    ]);
  });

  it('renders the apex-safe TXT prefix, the annotation prefix and the zone cache by default, each overridable', () => {
    const args = argsOf(
      renderExternalDns({
        ...base,
        txtPrefix: '',
        annotationPrefix: LEGACY_ANNOTATION_PREFIX,
        zonesCacheDuration: '0s',
      }),
    );
    expect(args.filter((a) => a.startsWith('--txt-prefix'))).toEqual([]);
    expect(args).toContain('--annotation-prefix=external-dns.alpha.kubernetes.io/');
    expect(args).toContain('--aws-zones-cache-duration=0s');
    expect(isScopeSafeTxtPrefix(DEFAULT_TXT_PREFIX)).toBe(true);
  });

  it('narrows --domain-filter to domainFilter, with --aws-zone-match-parent so the zone is still selected', () => {
    const args = argsOf(renderExternalDns({ ...base, domainFilter: 'C1.acme.example.com.' }));
    expect(args.filter((a) => /^--(domain-filter|aws-zone-match-parent|zone-id-filter)/.test(a))).toEqual([
      '--domain-filter=c1.acme.example.com',
      '--aws-zone-match-parent',
      '--zone-id-filter=Z0123456789ABCDEFGHIJ',
    ]);
    expect(argsOf(renderExternalDns({ ...base, domainFilter: 'acme.example.com' }))).toEqual(argsOf(objects));
  });

  it('normalises the zone: trailing dot and case removed, /hostedzone/ prefix stripped', () => {
    const args = argsOf(
      renderExternalDns({
        ...base,
        zoneName: 'ACME.Example.com.',
        zoneId: '/hostedzone/Z0123456789ABCDEFGHIJ',
      }),
    );
    expect(args).toContain('--domain-filter=acme.example.com');
    expect(args).toContain('--zone-id-filter=Z0123456789ABCDEFGHIJ');
  });

  it('renders the options it is given: txtPrefix, txtOwnerId, policy, interval, sources in canonical order, extra args last', () => {
    const args = argsOf(
      renderExternalDns({
        ...base,
        txtPrefix: '%{record_type}-edns.',
        txtOwnerId: '3f2c6a0e-uid',
        policy: 'sync',
        interval: '5m',
        sources: ['crd', 'ingress', 'service'],
        zonesCacheDuration: '30m',
        extraArgs: ['--events', '--log-format=json'],
      }),
    );
    expect(args).toEqual([
      '--provider=aws',
      '--source=service',
      '--source=ingress',
      '--source=crd',
      '--domain-filter=acme.example.com',
      '--zone-id-filter=Z0123456789ABCDEFGHIJ',
      '--aws-zone-type=public',
      '--aws-zones-cache-duration=30m',
      '--registry=txt',
      '--txt-owner-id=3f2c6a0e-uid',
      '--txt-prefix=%{record_type}-edns.',
      '--annotation-prefix=external-dns.kubernetes.io/',
      '--policy=sync',
      '--interval=5m',
      '--events',
      '--log-format=json',
    ]);
  });

  it('gives the same objects for the same sources in any order (no spurious rollout)', () => {
    expect(renderExternalDns({ ...base, sources: ['ingress', 'service'] })).toEqual(objects);
  });

  it('omits the version label when the image is pinned by digest only', () => {
    const digest = `registry.k8s.io/external-dns/external-dns@sha256:${'a'.repeat(64)}`;
    const rendered = renderExternalDns({ ...base, image: digest });
    expect(containerOf(rendered).image).toBe(digest);
    for (const o of rendered) expect(o.metadata.labels).not.toHaveProperty(['app.kubernetes.io/version']);
  });

  it('sets imagePullPolicy, region and resources when given, merging resources over the defaults', () => {
    const rendered = renderExternalDns({
      ...base,
      imagePullPolicy: 'Always',
      region: 'eu-central-1',
      resources: { requests: { memory: '100Mi' }, limits: { cpu: '200m', memory: '256Mi' } },
    });
    const c = containerOf(rendered);
    expect(c.imagePullPolicy).toBe('Always');
    expect(c.env).toContainEqual({ name: 'AWS_REGION', value: 'eu-central-1' });
    expect(c.env).toContainEqual({ name: 'AWS_DEFAULT_REGION', value: 'eu-central-1' });
    expect(c.resources).toEqual({
      requests: { cpu: '50m', memory: '100Mi' },
      limits: { cpu: '200m', memory: '256Mi' },
    });
  });
});

describe('renderExternalDns: credentials', () => {
  const objects = renderExternalDns(base);

  it('writes an AWS shared-credentials file', () => {
    expect(credentialsFile(KEY)).toBe(
      `[default]\naws_access_key_id = ${ACCESS_KEY_ID}\naws_secret_access_key = ${SECRET}\n`,
    );
  });

  it('stores the file base64-encoded under key "credentials" in an Opaque Secret in the namespace', () => {
    const secret = byKind(objects, 'Secret');
    expect(secret.type).toBe('Opaque');
    expect(secret.metadata.namespace).toBe('external-dns');
    expect(Object.keys(secret.data as Obj)).toEqual(['credentials']);
    const decoded = Buffer.from(at(secret, 'data', 'credentials') as string, 'base64').toString('utf8');
    expect(decoded).toBe(credentialsFile(KEY));
    expect('stringData' in secret).toBe(false);
  });

  it('mounts the Secret read-only and points AWS_SHARED_CREDENTIALS_FILE at the key inside it', () => {
    const podSpec = at(deploymentOf(objects), 'spec', 'template', 'spec') as Obj;
    const c = containerOf(objects);
    const mount = (c.volumeMounts as Obj[])[0] as Obj;
    expect(mount.readOnly).toBe(true);
    const volume = (podSpec.volumes as Obj[]).find((v) => v.name === mount.name) as Obj;
    expect(at(volume, 'secret', 'secretName')).toBe(byKind(objects, 'Secret').metadata.name);
    expect(at(volume, 'secret', 'items')).toEqual([{ key: 'credentials', path: 'credentials' }]);
    const file = (c.env as Obj[]).find((e) => e.name === 'AWS_SHARED_CREDENTIALS_FILE')?.value;
    expect(file).toBe(`${mount.mountPath as string}/credentials`);
    expect(
      (c.env as Obj[]).some((e) => e.name === 'AWS_SECRET_ACCESS_KEY' || e.name === 'AWS_ACCESS_KEY_ID'),
    ).toBe(false);
  });

  it('annotates the pod template with a short credentials hash that follows the key, not the key itself', () => {
    const annotation = at(
      deploymentOf(objects),
      'spec',
      'template',
      'metadata',
      'annotations',
      CREDENTIALS_HASH_ANNOTATION,
    );
    expect(annotation).toBe(credentialsHash(KEY));
    expect(annotation).toMatch(/^[0-9a-f]{16}$/);
    const rotated = { accessKeyId: ACCESS_KEY_ID, secretAccessKey: `${SECRET.slice(0, -1)}3` };
    expect(credentialsHash(rotated)).not.toBe(annotation);
    const newKeyId = { accessKeyId: 'AKIAZKFAKE0TEST00002', secretAccessKey: SECRET };
    expect(credentialsHash(newKeyId)).not.toBe(annotation);
  });

  it('keeps the secret and the access key id out of every object but the Secret', () => {
    const others = JSON.stringify(objects.filter((o) => o.kind !== 'Secret'));
    expect(others).not.toContain(SECRET);
    expect(others).not.toContain(ACCESS_KEY_ID);
    expect(others).not.toContain(at(byKind(objects, 'Secret'), 'data', 'credentials'));
  });
});

describe('renderExternalDns: pod security, probes, labels, RBAC', () => {
  const objects = renderExternalDns({ ...base, createNamespace: true, extraLabels: { team: 'platform' } });
  const deployment = deploymentOf(objects);
  const podSpec = at(deployment, 'spec', 'template', 'spec') as Obj;
  const c = containerOf(objects);

  const security: [string, unknown, unknown][] = [
    ['pod runAsNonRoot', at(podSpec, 'securityContext', 'runAsNonRoot'), true],
    ['pod runAsUser 65534', at(podSpec, 'securityContext', 'runAsUser'), 65534],
    ['pod runAsGroup 65534', at(podSpec, 'securityContext', 'runAsGroup'), 65534],
    ['pod fsGroup 65534 (reads the secret volume)', at(podSpec, 'securityContext', 'fsGroup'), 65534],
    [
      'pod seccomp RuntimeDefault',
      at(podSpec, 'securityContext', 'seccompProfile'),
      { type: 'RuntimeDefault' },
    ],
    ['container runAsNonRoot', at(c, 'securityContext', 'runAsNonRoot'), true],
    ['container runAsUser 65534', at(c, 'securityContext', 'runAsUser'), 65534],
    ['container readOnlyRootFilesystem', at(c, 'securityContext', 'readOnlyRootFilesystem'), true],
    ['container allowPrivilegeEscalation false', at(c, 'securityContext', 'allowPrivilegeEscalation'), false],
    ['container not privileged', at(c, 'securityContext', 'privileged'), false],
    ['container drops all capabilities', at(c, 'securityContext', 'capabilities'), { drop: ['ALL'] }],
    ['pod mounts the API token (ExternalDNS watches the API)', podSpec.automountServiceAccountToken, true],
    [
      'the ServiceAccount does not automount by default',
      byKind(objects, 'ServiceAccount').automountServiceAccountToken,
      false,
    ],
    [
      'pod uses the ServiceAccount',
      podSpec.serviceAccountName,
      byKind(objects, 'ServiceAccount').metadata.name,
    ],
    ['port 7979 named http', c.ports, [{ name: 'http', containerPort: 7979, protocol: 'TCP' }]],
    [
      'liveness on /healthz via http',
      at(c, 'livenessProbe', 'httpGet'),
      { path: '/healthz', port: 'http', scheme: 'HTTP' },
    ],
    [
      'readiness on /healthz via http',
      at(c, 'readinessProbe', 'httpGet'),
      { path: '/healthz', port: 'http', scheme: 'HTTP' },
    ],
  ];
  it.each(security)('%s', (_name, actual, expected) => {
    expect(actual).toEqual(expected);
  });

  it('puts the ownership and app.kubernetes.io labels (and extraLabels) on every object and the pod template', () => {
    const expected = {
      team: 'platform',
      'app.kubernetes.io/name': 'external-dns',
      'app.kubernetes.io/instance': 'external-dns',
      'app.kubernetes.io/version': 'v0.22.0',
      'app.kubernetes.io/component': 'dns-controller',
      'app.kubernetes.io/part-of': 'zonekeeper',
      'app.kubernetes.io/managed-by': 'zonekeeper',
      'zonekeeper.io/managed-by': 'zonekeeper',
      'zonekeeper.io/organization': 'acme',
      'zonekeeper.io/cluster': 'prod-eu',
    };
    for (const o of objects) expect(o.metadata.labels).toMatchObject(expected);
    expect(at(deployment, 'spec', 'template', 'metadata', 'labels')).toEqual(expected);
  });

  it('selects pods by name and instance only (Deployment selectors are immutable)', () => {
    expect(at(deployment, 'spec', 'selector')).toEqual({
      matchLabels: { 'app.kubernetes.io/name': 'external-dns', 'app.kubernetes.io/instance': 'external-dns' },
    });
  });

  it('binds the ClusterRole to the ServiceAccount in its namespace', () => {
    const role = byKind(objects, 'ClusterRole');
    const binding = byKind(objects, 'ClusterRoleBinding');
    expect(binding.roleRef).toEqual({
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'ClusterRole',
      name: role.metadata.name,
    });
    expect(binding.subjects).toEqual([
      { kind: 'ServiceAccount', name: 'external-dns', namespace: 'external-dns' },
    ]);
  });

  it('grants the documented read rules for the default sources, nothing else', () => {
    expect(byKind(objects, 'ClusterRole').rules).toEqual([
      { apiGroups: [''], resources: ['nodes'], verbs: ['list', 'watch'] },
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['services', 'endpoints'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
      {
        apiGroups: ['networking.k8s.io', 'extensions'],
        resources: ['ingresses'],
        verbs: ['get', 'list', 'watch'],
      },
    ]);
  });

  const rbac: [ExternalDnsSource[], string[]][] = [
    [['ingress'], ['networking.k8s.io,extensions/ingresses']],
    [['node'], ['/nodes']],
    [['pod'], ['/nodes', '/pods']],
    [['service'], ['/nodes', '/pods', '/services,endpoints', 'discovery.k8s.io/endpointslices']],
    [['crd'], ['externaldns.k8s.io/dnsendpoints', 'externaldns.k8s.io/dnsendpoints/status']],
    [['gateway-httproute'], ['/namespaces', 'gateway.networking.k8s.io/gateways,httproutes']],
    [
      ['gateway-udproute', 'gateway-grpcroute'],
      ['/namespaces', 'gateway.networking.k8s.io/gateways,grpcroutes,udproutes'],
    ],
  ];
  it.each(rbac)('sources %j get exactly the rules %j', (sources, expected) => {
    const rules = externalDnsRbacRules(sources);
    expect(rules.map((r) => `${r.apiGroups.join(',')}/${r.resources.join(',')}`)).toEqual(expected);
    for (const rule of rules) {
      const write = rule.verbs.filter((v) => !['get', 'list', 'watch'].includes(v));
      expect(
        write.length === 0 || (rule.resources.join() === 'dnsendpoints/status' && write.join() === 'update'),
      ).toBe(true);
    }
  });

  it('names cluster-scoped objects after the namespace too, so two installs cannot collide', () => {
    const other = renderExternalDns({ ...base, namespace: 'dns-system' });
    expect(byKind(other, 'ClusterRole').metadata.name).toBe('zonekeeper:dns-system:external-dns');
    expect(byKind(other, 'ClusterRole').metadata.name).not.toBe(byKind(objects, 'ClusterRole').metadata.name);
  });
});

describe('renderExternalDns: invalid input', () => {
  const without = (key: keyof ExternalDnsOptions): ExternalDnsOptions => {
    const copy: Record<string, unknown> = { ...base };
    delete copy[key];
    return copy as unknown as ExternalDnsOptions;
  };
  const withCreds = (credentials: unknown): ExternalDnsOptions =>
    ({ ...base, credentials }) as unknown as ExternalDnsOptions;
  const bad = (extra: Record<string, unknown>): ExternalDnsOptions =>
    ({ ...base, ...extra }) as unknown as ExternalDnsOptions;

  const cases: [string, ExternalDnsOptions, RegExp][] = [
    [
      'options missing',
      undefined as unknown as ExternalDnsOptions,
      /expected an options object, got nothing/,
    ],
    ['options an array', [] as unknown as ExternalDnsOptions, /expected an options object, got an array/],
    ['unknown option (typo)', bad({ namepsace: 'x' }), /unknown option "namepsace"/],
    ['clusterId missing', without('clusterId'), /clusterId is required/],
    ['organization missing', without('organization'), /organization is required/],
    ['zoneName missing', without('zoneName'), /zoneName is required/],
    ['zoneId missing', without('zoneId'), /zoneId is required/],
    ['credentials missing', without('credentials'), /credentials is required/],
    ['clusterId uppercase', bad({ clusterId: 'Prod-EU' }), /clusterId "Prod-EU" contains uppercase letters/],
    ['clusterId not a label', bad({ clusterId: 'prod_eu' }), /clusterId "prod_eu" contains "_"/],
    [
      'organization ends with -',
      bad({ organization: 'acme-' }),
      /organization "acme-" starts or ends with "-"/,
    ],
    ['organization a number', bad({ organization: 42 }), /organization must be a string/],
    ['zoneName a TLD', bad({ zoneName: 'com' }), /zoneName "com" is a top-level domain/],
    [
      'zoneName with an empty label',
      bad({ zoneName: 'acme..example.com' }),
      /zoneName "acme..example.com": label 2/,
    ],
    ['zoneId malformed (lowercase)', bad({ zoneId: 'abc' }), /zoneId "abc" is not a hosted zone id/],
    ['zoneId lowercase', bad({ zoneId: 'z0123' }), /zoneId "z0123" is not a hosted zone id/],
    ['zoneId prefix only', bad({ zoneId: '/hostedzone/' }), /is not a hosted zone id/],
    [
      'credentials not an object (value not echoed)',
      withCreds(`AKIA:${SECRET}`),
      /credentials must be an object \{ accessKeyId, secretAccessKey \} \(or \{ mode: .*\), got a string\.$/,
    ],
    [
      'accessKeyId empty',
      withCreds({ accessKeyId: '', secretAccessKey: SECRET }),
      /accessKeyId is required: a non-empty string.*got an empty string/,
    ],
    [
      'accessKeyId too short',
      withCreds({ accessKeyId: 'AKIA', secretAccessKey: SECRET }),
      /accessKeyId is not an AWS access key id.*4 characters/,
    ],
    [
      'fields swapped',
      withCreds({ accessKeyId: SECRET, secretAccessKey: ACCESS_KEY_ID }),
      /accessKeyId is not an AWS access key id.*not shown/,
    ],
    [
      'secretAccessKey missing',
      withCreds({ accessKeyId: ACCESS_KEY_ID }),
      /secretAccessKey is required.*got nothing/,
    ],
    [
      'secretAccessKey empty',
      withCreds({ accessKeyId: ACCESS_KEY_ID, secretAccessKey: '' }),
      /secretAccessKey is required.*empty string/,
    ],
    [
      'secretAccessKey with a line break (INI injection)',
      withCreds({ accessKeyId: ACCESS_KEY_ID, secretAccessKey: `${SECRET}\naws_session_token = x` }),
      /secretAccessKey is not an AWS secret access key.*line breaks.*not shown/,
    ],
    ['region malformed', bad({ region: 'mars' }), /region "mars" is not an AWS region/],
    ['region uppercase', bad({ region: 'US-EAST-1' }), /region "US-EAST-1" is not an AWS region/],
    ['secret passed as region is masked', bad({ region: SECRET }), /region "\*{8}" is not an AWS region/],
    [
      'a secret with a quote passed as region is masked',
      bad({ region: 'ab"cd', credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: 'ab"cd' } }),
      /region "\*{8}" is not an AWS region/,
    ],
    [
      'secret inside a long extra arg is masked',
      bad({ extraArgs: [`${'x'.repeat(90)}${SECRET}`] }),
      /extraArgs\[0\] "x{90}\*{8}" is not a flag/,
    ],
    ['namespace not a label', bad({ namespace: 'kube_system' }), /namespace "kube_system" contains "_"/],
    ['name not a label', bad({ name: '-dns' }), /name "-dns" starts or ends with "-"/],
    ['createNamespace not a boolean', bad({ createNamespace: 'yes' }), /createNamespace must be a boolean/],
    [
      'image unpinned',
      bad({ image: 'registry.k8s.io/external-dns/external-dns' }),
      /is not pinned: add a tag or a digest/,
    ],
    ['image with whitespace', bad({ image: 'external-dns: v1' }), /contains whitespace/],
    ['image empty', bad({ image: '' }), /image "" is empty/],
    [
      'image repository uppercase',
      bad({ image: 'example.com/ExternalDNS:v1' }),
      /is not a valid image reference/,
    ],
    ['image bad digest', bad({ image: 'x/y@sha256:zz' }), /has an invalid digest/],
    ['sources empty', bad({ sources: [] }), /sources must not be empty/],
    ['sources not an array', bad({ sources: 'service' }), /sources must be an array/],
    [
      'source unknown',
      bad({ sources: ['service', 'istio-gateway'] }),
      /sources\[1\] "istio-gateway" is not a supported source/,
    ],
    ['source twice', bad({ sources: ['ingress', 'ingress'] }), /sources lists "ingress" twice/],
    [
      'policy unknown',
      bad({ policy: 'delete-all' }),
      /policy "delete-all" is not one of upsert-only, sync, create-only/,
    ],
    ['interval not a duration', bad({ interval: '1 minute' }), /interval "1 minute" is not a Go duration/],
    ['interval too short', bad({ interval: '30s' }), /interval "30s" is shorter than 1m/],
    ['interval empty', bad({ interval: '' }), /interval "" is not a Go duration/],
    ['txtOwnerId starts with -', bad({ txtOwnerId: '-x' }), /txtOwnerId "-x" must be 1–63 characters/],
    ['txtOwnerId with a comma (breaks the TXT label format)', bad({ txtOwnerId: 'a,b' }), /txtOwnerId "a,b"/],
    ['txtPrefix uppercase', bad({ txtPrefix: 'EDNS-' }), /txtPrefix "EDNS-" must be/],
    ['txtPrefix with a space', bad({ txtPrefix: 'a b.' }), /txtPrefix "a b\." must be/],
    [
      'txtPrefix not scope-safe for a narrowed domainFilter',
      bad({ domainFilter: 'c1.acme.example.com', txtPrefix: 'edns.' }),
      /txtPrefix "edns\." does not keep ownership records inside domainFilter "c1\.acme\.example\.com"/,
    ],
    [
      'no txtPrefix with a narrowed domainFilter',
      bad({ domainFilter: 'c1.acme.example.com', txtPrefix: '' }),
      /does not keep ownership records inside domainFilter/,
    ],
    [
      'domainFilter outside the zone',
      bad({ domainFilter: 'globex.example.com' }),
      /domainFilter "globex\.example\.com" is not "acme\.example\.com" or a name below it/,
    ],
    [
      'domainFilter a sibling suffix',
      bad({ domainFilter: 'xacme.example.com' }),
      /is not "acme\.example\.com" or a name below it/,
    ],
    [
      'annotationPrefix without a slash',
      bad({ annotationPrefix: 'external-dns.kubernetes.io' }),
      /annotationPrefix "external-dns\.kubernetes\.io" must be a lowercase DNS subdomain followed by "\/"/,
    ],
    [
      'annotationPrefix uppercase',
      bad({ annotationPrefix: 'Example.com/' }),
      /annotationPrefix "Example\.com\/" must be/,
    ],
    [
      'zonesCacheDuration not a duration',
      bad({ zonesCacheDuration: '1 hour' }),
      /zonesCacheDuration "1 hour" is not a Go duration/,
    ],
    [
      'extraArgs assumes another role',
      bad({ extraArgs: ['--aws-assume-role=arn:aws:iam::1:role/x'] }),
      /sets --aws-assume-role, which zonekeeper does not allow: it switches ExternalDNS away/,
    ],
    [
      'extraArgs with a regex domain filter',
      bad({ extraArgs: ['--regex-domain-filter=.*'] }),
      /sets --regex-domain-filter, which zonekeeper does not allow/,
    ],
    ['extraArgs with --once', bad({ extraArgs: ['--once'] }), /sets --once, which zonekeeper does not allow/],
    [
      'extraArgs with a duplicate',
      bad({ extraArgs: ['--events', '--events'] }),
      /extraArgs lists "--events" twice/,
    ],
    ['resources not an object', bad({ resources: 'big' }), /resources must be an object/],
    ['resources unknown section', bad({ resources: { max: {} } }), /resources.max is not supported/],
    [
      'resources unknown quantity',
      bad({ resources: { requests: { gpu: '1' } } }),
      /resources.requests.gpu is not supported/,
    ],
    [
      'resources bad quantity',
      bad({ resources: { requests: { cpu: 'lots' } } }),
      /resources.requests.cpu "lots" is not a Kubernetes quantity/,
    ],
    [
      'limit below request',
      bad({ resources: { requests: { memory: '256Mi' } } }),
      /resources.limits.memory \(128Mi\) is lower than resources.requests.memory \(256Mi\)/,
    ],
    ['extraArgs not an array', bad({ extraArgs: '--events' }), /extraArgs must be an array/],
    [
      'extraArgs with a hole',
      bad({ extraArgs: ['--events', undefined] }),
      /extraArgs\[1\] must be a string, got nothing/,
    ],
    ['extraArgs not a flag', bad({ extraArgs: ['events'] }), /extraArgs\[0\] "events" is not a flag/],
    [
      'extraArgs with a line break',
      bad({ extraArgs: ['--log-level=debug\n--policy=sync'] }),
      /extraArgs\[0\] contains a control character/,
    ],
    [
      'extraArgs overrides --policy',
      bad({ extraArgs: ['--events', '--policy=sync'] }),
      /extraArgs\[1\] sets --policy, which the renderer manages/,
    ],
    [
      'extraArgs widens --domain-filter',
      bad({ extraArgs: ['--domain-filter=example.com'] }),
      /sets --domain-filter/,
    ],
    [
      'extraArgs widens --zone-id-filter',
      bad({ extraArgs: ['--zone-id-filter=Z999'] }),
      /sets --zone-id-filter/,
    ],
    ['extraArgs changes --provider', bad({ extraArgs: ['--provider=google'] }), /sets --provider/],
    [
      'extraLabels reserved zonekeeper.io',
      bad({ extraLabels: { 'zonekeeper.io/organization': 'other' } }),
      /reserved prefix "zonekeeper.io\/"/,
    ],
    [
      'extraLabels reserved app.kubernetes.io',
      bad({ extraLabels: { 'app.kubernetes.io/name': 'x' } }),
      /reserved prefix "app.kubernetes.io\/"/,
    ],
    [
      'extraLabels bad key',
      bad({ extraLabels: { 'bad key': 'x' } }),
      /extraLabels key "bad key" is not a valid label key/,
    ],
    [
      'extraLabels bad value',
      bad({ extraLabels: { team: 'a b' } }),
      /extraLabels\["team"\] "a b" is not a valid label value/,
    ],
    [
      'extraLabels value too long',
      bad({ extraLabels: { team: 'a'.repeat(64) } }),
      /is not a valid label value/,
    ],
    [
      'imagePullPolicy lowercase',
      bad({ imagePullPolicy: 'always' }),
      /imagePullPolicy "always" is not one of Always, IfNotPresent, Never/,
    ],
  ];

  it.each(cases)('%s → INVALID_INPUT', (_name, options, message) => {
    let thrown: unknown;
    try {
      renderExternalDns(options);
    } catch (error) {
      thrown = error;
    }
    expect(hasErrorCode(thrown, 'INVALID_INPUT')).toBe(true);
    const error = thrown as Error & { toJSON(): unknown };
    expect(error.message).toMatch(message);
    // The secret never reaches the message, details, the JSON view or any enumerable property.
    for (const text of [
      error.message,
      JSON.stringify(error.toJSON()),
      JSON.stringify(Object.entries(error)),
      String(error.stack),
    ]) {
      expect(text).not.toContain(SECRET);
    }
    // resolveExternalDnsOptions fails the same way.
    expect(() => resolveExternalDnsOptions(options)).toThrow(message);
  });

  it.each([
    'provider',
    'source',
    'domain-filter',
    'zone-id-filter',
    'aws-zone-type',
    'aws-zone-match-parent',
    'aws-zones-cache-duration',
    'registry',
    'txt-owner-id',
    'txt-prefix',
    'annotation-prefix',
    'policy',
    'interval',
  ])('extraArgs may not set the managed flag --%s (with or without a value)', (flag) => {
    for (const arg of [`--${flag}=x`, `--${flag}`]) {
      expect(() => renderExternalDns({ ...base, extraArgs: [arg] })).toThrow(
        `sets --${flag}, which the renderer manages`,
      );
    }
    expect(() => renderExternalDns({ ...base, extraArgs: [`--${flag}-extra=x`] })).not.toThrow();
  });

  it('credentialsFile validates too, without echoing the secret', () => {
    expect(() => credentialsFile({ accessKeyId: SECRET, secretAccessKey: SECRET })).toThrow(/not shown/);
    try {
      credentialsFile({ accessKeyId: 'x', secretAccessKey: `${SECRET} ` });
    } catch (error) {
      expect(JSON.stringify(error)).not.toContain(SECRET);
      expect(String(error)).not.toContain(SECRET);
    }
  });

  it('accepts every documented option at once', () => {
    const options: Required<ExternalDnsOptions> = {
      ...base,
      region: 'ap-southeast-2',
      namespace: 'dns',
      createNamespace: true,
      name: 'edns',
      image: 'example.com:5000/mirror/external-dns:v0.22.0-zk.1',
      sources: ['service', 'ingress', 'node', 'pod', 'crd', 'gateway-httproute'],
      policy: 'create-only',
      interval: '1h30m',
      txtOwnerId: 'prod-eu',
      txtPrefix: 'edns.',
      annotationPrefix: 'external-dns.alpha.kubernetes.io/',
      domainFilter: 'acme.example.com',
      zonesCacheDuration: '2h',
      resources: { requests: { cpu: '0.1', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } },
      extraArgs: ['--events'],
      extraLabels: { 'example.com/cost-center': 'dns' },
      imagePullPolicy: 'IfNotPresent',
    };
    const resolved = resolveExternalDnsOptions(options);
    expect(resolved).toMatchObject({
      name: 'edns',
      namespace: 'dns',
      version: 'v0.22.0-zk.1',
      zoneId: 'Z0123456789ABCDEFGHIJ',
    });
    expect(renderExternalDns(options)).toHaveLength(6);
  });
});
