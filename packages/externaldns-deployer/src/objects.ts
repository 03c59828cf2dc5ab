/**
 * The pure half of the ExternalDNS deployer: options in, Kubernetes objects out. No I/O, no clock, no
 * randomness: the same options always give deep-equal objects, so applying them again changes nothing.
 *
 * What one cluster gets, in apply order:
 *
 * ```
 *  Namespace           only with createNamespace: true; labelled zonekeeper.io/created-namespace=true
 *  ServiceAccount      <name>, token not automounted by default (the pod opts in)
 *  ClusterRole         zonekeeper:<namespace>:<name>, read rules for the selected sources only
 *  ClusterRoleBinding  zonekeeper:<namespace>:<name>
 *  Secret              AWS:     <name>-aws-credentials, key `credentials`: an AWS shared-credentials file
 *                      rfc2136: <name>-rfc2136-tsig, key `tsig-secret`: the TSIG secret
 *  Deployment          <name>, 1 replica, Recreate (ExternalDNS has no leader election)
 * ```
 *
 * The secret access key (or TSIG secret) appears only in the Secret: the AWS file is mounted, the TSIG
 * secret reaches ExternalDNS as `EXTERNAL_DNS_RFC2136_TSIG_SECRET` from a `secretKeyRef` (ExternalDNS
 * reads every flag from `EXTERNAL_DNS_<FLAG>`), never as an argument. The pod template carries a short
 * SHA-256-based hash of the credentials ({@link CREDENTIALS_HASH_ANNOTATION}), so rotating a key rolls
 * the pod.
 *
 * @packageDocumentation
 */

import { type KubernetesObject, ZONEKEEPER_MANAGER, ZonekeeperLabels } from '@zonekeeper/core';
import {
  CREDENTIALS_HASH_ANNOTATION,
  CREDENTIALS_MOUNT_PATH,
  CREDENTIALS_SECRET_KEY,
  credentialsFile,
  credentialsHash,
  TSIG_SECRET_ENV,
  TSIG_SECRET_KEY,
  tsigKeyHash,
} from './credentials.js';
import {
  type ExternalDnsOptions,
  type ResolvedExternalDnsOptions,
  resolveExternalDnsOptions,
} from './options.js';
import { externalDnsClusterRoleName, externalDnsRbacRules } from './rbac.js';

/** What {@link renderExternalDns} returns: the objects for one cluster, in apply order. @public */
export type ExternalDnsManifest = readonly KubernetesObject[];

/** ExternalDNS's health and metrics port (`/healthz`). @public */
export const EXTERNAL_DNS_HTTP_PORT = 7979;

/** The `app.kubernetes.io/name` of every rendered object. @public */
export const EXTERNAL_DNS_APP_NAME = 'external-dns';

/** The name of the credentials Secret (AWS). @public */
export function externalDnsSecretName(name: string): string {
  return `${name}-aws-credentials`;
}

/** The name of the TSIG key Secret (rfc2136). @public */
export function externalDnsTsigSecretName(name: string): string {
  return `${name}-rfc2136-tsig`;
}

/**
 * The ExternalDNS arguments for resolved options. AWS: `--provider=aws`, one `--source=` per source,
 * `--domain-filter` (the zone, or the narrower `domainFilter`, then with `--aws-zone-match-parent`),
 * `--zone-id-filter` (both: a domain filter alone also matches sibling and child zones),
 * `--aws-zone-type=public`, `--aws-zones-cache-duration`. rfc2136: `--provider=rfc2136`, the sources,
 * `--domain-filter`, `--rfc2136-host`, `--rfc2136-port`, `--rfc2136-zone` (the organisation's zone only),
 * `--rfc2136-tsig-keyname`, `--rfc2136-tsig-secret-alg`, `--rfc2136-axfr` when enabled; never the secret.
 * Then for both `--registry=txt`, `--txt-owner-id`, `--txt-prefix` (unless disabled),
 * `--annotation-prefix`, `--policy`, `--interval`, then `extraArgs`.
 * @public
 */
export function externalDnsArgs(resolved: ResolvedExternalDnsOptions): readonly string[] {
  const provider =
    resolved.provider === 'aws'
      ? [
          '--provider=aws',
          ...resolved.sources.map((s) => `--source=${s}`),
          `--domain-filter=${resolved.domainFilter}`,
          ...(resolved.domainFilter === resolved.zoneName ? [] : ['--aws-zone-match-parent']),
          `--zone-id-filter=${resolved.zoneId}`,
          '--aws-zone-type=public',
          `--aws-zones-cache-duration=${resolved.zonesCacheDuration}`,
        ]
      : [
          '--provider=rfc2136',
          ...resolved.sources.map((s) => `--source=${s}`),
          `--domain-filter=${resolved.domainFilter}`,
          `--rfc2136-host=${resolved.rfc2136.host}`,
          `--rfc2136-port=${resolved.rfc2136.port}`,
          `--rfc2136-zone=${resolved.zoneName}`,
          `--rfc2136-tsig-keyname=${resolved.rfc2136.tsigKey.name}`,
          `--rfc2136-tsig-secret-alg=${resolved.rfc2136.tsigKey.algorithm}`,
          ...(resolved.rfc2136.axfr ? ['--rfc2136-axfr'] : []),
        ];
  return [
    ...provider,
    '--registry=txt',
    `--txt-owner-id=${resolved.txtOwnerId}`,
    ...(resolved.txtPrefix === undefined ? [] : [`--txt-prefix=${resolved.txtPrefix}`]),
    `--annotation-prefix=${resolved.annotationPrefix}`,
    `--policy=${resolved.policy}`,
    `--interval=${resolved.interval}`,
    ...resolved.extraArgs,
  ];
}

function selectorLabels(r: ResolvedExternalDnsOptions): Record<string, string> {
  return { 'app.kubernetes.io/name': EXTERNAL_DNS_APP_NAME, 'app.kubernetes.io/instance': r.name };
}

function commonLabels(r: ResolvedExternalDnsOptions): Record<string, string> {
  return {
    ...r.extraLabels,
    ...selectorLabels(r),
    ...(r.version === undefined ? {} : { 'app.kubernetes.io/version': r.version }),
    'app.kubernetes.io/component': 'dns-controller',
    'app.kubernetes.io/part-of': 'zonekeeper',
    'app.kubernetes.io/managed-by': ZONEKEEPER_MANAGER,
    [ZonekeeperLabels.managedBy]: ZONEKEEPER_MANAGER,
    [ZonekeeperLabels.organization]: r.organization,
    [ZonekeeperLabels.cluster]: r.clusterId,
  };
}

function probe(initialDelaySeconds: number, failureThreshold: number): Record<string, unknown> {
  return {
    httpGet: { path: '/healthz', port: 'http', scheme: 'HTTP' },
    initialDelaySeconds,
    periodSeconds: 10,
    timeoutSeconds: 5,
    successThreshold: 1,
    failureThreshold,
  };
}

/**
 * Renders ExternalDNS for one cluster: [Namespace], ServiceAccount, ClusterRole, ClusterRoleBinding,
 * Secret, Deployment, in apply order. Pure and deterministic. Validates everything first
 * ({@link resolveExternalDnsOptions}); throws `INVALID_INPUT` on bad options.
 *
 * @example
 * ```ts
 * const objects = renderExternalDns({
 *   clusterId: 'prod-eu', organization: 'acme', zoneName: 'acme.example.com', zoneId: 'Z0123456789ABC',
 *   credentials: { accessKeyId, secretAccessKey },
 * });
 * console.log(toYaml(objects)); // Secret values redacted
 * ```
 * @public
 */
export function renderExternalDns(options: ExternalDnsOptions): ExternalDnsManifest {
  const r = resolveExternalDnsOptions(options);
  const labels = (): Record<string, string> => commonLabels(r);
  const clusterRoleName = externalDnsClusterRoleName(r.namespace, r.name);

  const objects: KubernetesObject[] = [];
  if (r.createNamespace) {
    objects.push({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: r.namespace,
        labels: {
          ...labels(),
          [ZonekeeperLabels.createdNamespace]: 'true',
          'pod-security.kubernetes.io/enforce': 'restricted',
        },
      },
    });
  }
  objects.push({
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name: r.name, namespace: r.namespace, labels: labels() },
    automountServiceAccountToken: false,
  });
  objects.push({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: clusterRoleName, labels: labels() },
    rules: externalDnsRbacRules(r.sources).map((rule) => ({
      apiGroups: [...rule.apiGroups],
      resources: [...rule.resources],
      verbs: [...rule.verbs],
    })),
  });
  objects.push({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: clusterRoleName, labels: labels() },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterRoleName },
    subjects: [{ kind: 'ServiceAccount', name: r.name, namespace: r.namespace }],
  });
  const wiring = credentialsWiring(r);
  objects.push({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: wiring.secretName, namespace: r.namespace, labels: labels() },
    type: 'Opaque',
    data: wiring.data,
  });

  const container: Record<string, unknown> = {
    name: 'external-dns',
    image: r.image,
    ...(r.imagePullPolicy === undefined ? {} : { imagePullPolicy: r.imagePullPolicy }),
    args: [...externalDnsArgs(r)],
    env: wiring.env,
    ports: [{ name: 'http', containerPort: EXTERNAL_DNS_HTTP_PORT, protocol: 'TCP' }],
    livenessProbe: probe(10, 2),
    readinessProbe: probe(5, 6),
    resources: { requests: { ...r.resources.requests }, limits: { ...r.resources.limits } },
    securityContext: {
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      privileged: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      runAsUser: 65534,
      runAsGroup: 65534,
    },
    ...(wiring.volumes.length === 0
      ? {}
      : { volumeMounts: [{ name: 'aws-credentials', mountPath: CREDENTIALS_MOUNT_PATH, readOnly: true }] }),
  };

  objects.push({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: r.name, namespace: r.namespace, labels: labels() },
    spec: {
      replicas: 1,
      strategy: { type: 'Recreate' },
      selector: { matchLabels: selectorLabels(r) },
      template: {
        metadata: {
          labels: labels(),
          annotations: { [CREDENTIALS_HASH_ANNOTATION]: wiring.hash },
        },
        spec: {
          serviceAccountName: r.name,
          automountServiceAccountToken: true,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 65534,
            runAsGroup: 65534,
            fsGroup: 65534,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          containers: [container],
          ...(wiring.volumes.length === 0 ? {} : { volumes: wiring.volumes }),
        },
      },
    },
  });
  return objects;
}

/** How the provider's credentials reach the container: the Secret's data, env, volumes, pod hash. */
function credentialsWiring(r: ResolvedExternalDnsOptions): {
  readonly secretName: string;
  readonly data: Record<string, string>;
  readonly env: Record<string, unknown>[];
  readonly volumes: Record<string, unknown>[];
  readonly hash: string;
} {
  if (r.provider === 'rfc2136') {
    const secretName = externalDnsTsigSecretName(r.name);
    return {
      secretName,
      data: { [TSIG_SECRET_KEY]: Buffer.from(r.rfc2136.tsigKey.secret, 'utf8').toString('base64') },
      env: [
        { name: TSIG_SECRET_ENV, valueFrom: { secretKeyRef: { name: secretName, key: TSIG_SECRET_KEY } } },
      ],
      volumes: [],
      hash: tsigKeyHash(r.rfc2136.tsigKey),
    };
  }
  const secretName = externalDnsSecretName(r.name);
  return {
    secretName,
    data: {
      [CREDENTIALS_SECRET_KEY]: Buffer.from(credentialsFile(r.credentials), 'utf8').toString('base64'),
    },
    env: [
      { name: 'AWS_REGION', value: r.region },
      { name: 'AWS_DEFAULT_REGION', value: r.region },
      { name: 'AWS_SHARED_CREDENTIALS_FILE', value: `${CREDENTIALS_MOUNT_PATH}/${CREDENTIALS_SECRET_KEY}` },
    ],
    volumes: [
      {
        name: 'aws-credentials',
        secret: {
          secretName,
          defaultMode: 0o440,
          items: [{ key: CREDENTIALS_SECRET_KEY, path: CREDENTIALS_SECRET_KEY }],
        },
      },
    ],
    hash: credentialsHash(r.credentials),
  };
}
