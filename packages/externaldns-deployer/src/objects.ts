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
 *  Secret              AWS access key: <name>-aws-credentials, key `credentials`: an AWS
 *                      shared-credentials file; rfc2136: <name>-rfc2136-tsig, key `tsig-secret`: the TSIG
 *                      secret; keyless modes (irsa, pod-identity, web-identity): none
 *  Deployment          <name>, 1 replica, Recreate (ExternalDNS has no leader election)
 * ```
 *
 * The secret access key (or TSIG secret) appears only in the Secret: the AWS file is mounted, the TSIG
 * secret reaches ExternalDNS as `EXTERNAL_DNS_RFC2136_TSIG_SECRET` from a `secretKeyRef` (ExternalDNS
 * reads every flag from `EXTERNAL_DNS_<FLAG>`), never as an argument.
 *
 * Keyless modes render no Secret: IRSA annotates the ServiceAccount with the role
 * ({@link IRSA_ROLE_ARN_ANNOTATION}), Pod Identity renders nothing for credentials, web identity
 * projects a service-account token with the role's audience and points the AWS SDK at it
 * (`AWS_ROLE_ARN`, `AWS_WEB_IDENTITY_TOKEN_FILE`). On AWS the ServiceAccount names the mode
 * ({@link CREDENTIALS_MODE_ANNOTATION}), so a switch rewrites it (server-side apply then drops an IRSA
 * annotation no longer rendered).
 *
 * The pod template carries a short SHA-256-based hash of what the pod runs with
 * ({@link CREDENTIALS_HASH_ANNOTATION}), so rotating a key, or changing the role or the mode, rolls the
 * pod.
 *
 * @packageDocumentation
 */

import { type KubernetesObject, ZONEKEEPER_MANAGER, ZonekeeperLabels } from '@zonekeeper/core';
import {
  CREDENTIALS_HASH_ANNOTATION,
  CREDENTIALS_MODE_ANNOTATION,
  CREDENTIALS_MOUNT_PATH,
  CREDENTIALS_SECRET_KEY,
  credentialsFile,
  credentialsHash,
  IRSA_ROLE_ARN_ANNOTATION,
  type ResolvedExternalDnsCredentials,
  TSIG_KEYNAME_ENV,
  TSIG_KEYNAME_KEY,
  TSIG_SECRET_ENV,
  TSIG_SECRET_KEY,
  tsigKeyHash,
  WEB_IDENTITY_TOKEN_FILE_NAME,
  WEB_IDENTITY_TOKEN_MOUNT_PATH,
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

/** The name of the projected token volume (web-identity mode). @public */
export const WEB_IDENTITY_TOKEN_VOLUME = 'aws-token';

/**
 * `AWS_ROLE_SESSION_NAME` in web-identity mode: `external-dns.<clusterId>`, cut to STS's 64 characters,
 * so CloudTrail names the cluster that made each call.
 * @public
 */
export function webIdentitySessionName(clusterId: string): string {
  return `external-dns.${clusterId}`.slice(0, 64);
}

/** The credential parts of the pod: env, mounts, volumes, and the ServiceAccount's annotations. */
function credentialWiring(
  credentials: ResolvedExternalDnsCredentials,
  r: ResolvedExternalDnsOptions,
  secretName: string,
): {
  readonly env: readonly Record<string, unknown>[];
  readonly mounts: readonly Record<string, unknown>[];
  readonly volumes: readonly Record<string, unknown>[];
  readonly serviceAccountAnnotations: Readonly<Record<string, string>>;
} {
  const modeAnnotation = { [CREDENTIALS_MODE_ANNOTATION]: credentials.mode };
  switch (credentials.mode) {
    case 'access-key':
      return {
        env: [
          {
            name: 'AWS_SHARED_CREDENTIALS_FILE',
            value: `${CREDENTIALS_MOUNT_PATH}/${CREDENTIALS_SECRET_KEY}`,
          },
        ],
        mounts: [{ name: 'aws-credentials', mountPath: CREDENTIALS_MOUNT_PATH, readOnly: true }],
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
        serviceAccountAnnotations: modeAnnotation,
      };
    case 'irsa':
      return {
        env: [],
        mounts: [],
        volumes: [],
        serviceAccountAnnotations: { ...modeAnnotation, [IRSA_ROLE_ARN_ANNOTATION]: credentials.roleArn },
      };
    case 'pod-identity':
      return { env: [], mounts: [], volumes: [], serviceAccountAnnotations: modeAnnotation };
    case 'web-identity':
      return {
        env: [
          { name: 'AWS_ROLE_ARN', value: credentials.roleArn },
          {
            name: 'AWS_WEB_IDENTITY_TOKEN_FILE',
            value: `${WEB_IDENTITY_TOKEN_MOUNT_PATH}/${WEB_IDENTITY_TOKEN_FILE_NAME}`,
          },
          { name: 'AWS_ROLE_SESSION_NAME', value: webIdentitySessionName(r.clusterId) },
        ],
        mounts: [
          { name: WEB_IDENTITY_TOKEN_VOLUME, mountPath: WEB_IDENTITY_TOKEN_MOUNT_PATH, readOnly: true },
        ],
        volumes: [
          {
            name: WEB_IDENTITY_TOKEN_VOLUME,
            projected: {
              defaultMode: 0o440,
              sources: [
                {
                  serviceAccountToken: {
                    audience: credentials.audience,
                    expirationSeconds: credentials.expirationSeconds,
                    path: WEB_IDENTITY_TOKEN_FILE_NAME,
                  },
                },
              ],
            },
          },
        ],
        serviceAccountAnnotations: modeAnnotation,
      };
  }
}

/**
 * The ExternalDNS arguments for resolved options. AWS: `--provider=aws`, one `--source=` per source,
 * `--domain-filter` (the zone, or the narrower `domainFilter`, then with `--aws-zone-match-parent`),
 * `--zone-id-filter` (both: a domain filter alone also matches sibling and child zones),
 * `--aws-zone-type=public`, `--aws-zones-cache-duration`. rfc2136: `--provider=rfc2136`, the sources,
 * `--domain-filter`, `--rfc2136-host`, `--rfc2136-port`, `--rfc2136-zone` (the organisation's zone only),
 * `--rfc2136-tsig-secret-alg`, `--rfc2136-axfr` when enabled; never the secret, and not the key name,
 * which reaches ExternalDNS from the Secret with the secret (`EXTERNAL_DNS_RFC2136_TSIG_KEYNAME`), so
 * that the two always match.
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
 * Secret (access-key mode only), Deployment, in apply order. Pure and deterministic. Validates everything first
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
  const wiring = credentialsWiring(r);

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
    metadata: {
      name: r.name,
      namespace: r.namespace,
      labels: labels(),
      ...(Object.keys(wiring.serviceAccountAnnotations).length === 0
        ? {}
        : { annotations: { ...wiring.serviceAccountAnnotations } }),
    },
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
  if (wiring.secret !== undefined) {
    objects.push({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: wiring.secret.name, namespace: r.namespace, labels: labels() },
      type: 'Opaque',
      data: wiring.secret.data,
    });
  }

  const container: Record<string, unknown> = {
    name: 'external-dns',
    image: r.image,
    ...(r.imagePullPolicy === undefined ? {} : { imagePullPolicy: r.imagePullPolicy }),
    args: [...externalDnsArgs(r)],
    env: [...wiring.env],
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
    ...(wiring.mounts.length === 0 ? {} : { volumeMounts: [...wiring.mounts] }),
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
          ...(wiring.volumes.length === 0 ? {} : { volumes: [...wiring.volumes] }),
        },
      },
    },
  });
  return objects;
}

/** How the provider's credentials reach the pod: the Secret, env, mounts, volumes, ServiceAccount annotations, pod hash. */
function credentialsWiring(r: ResolvedExternalDnsOptions): {
  readonly secret?: { readonly name: string; readonly data: Record<string, string> };
  readonly env: readonly Record<string, unknown>[];
  readonly mounts: readonly Record<string, unknown>[];
  readonly volumes: readonly Record<string, unknown>[];
  readonly serviceAccountAnnotations: Readonly<Record<string, string>>;
  readonly hash: string;
} {
  if (r.provider === 'rfc2136') {
    const name = externalDnsTsigSecretName(r.name);
    return {
      secret: {
        name,
        data: {
          [TSIG_KEYNAME_KEY]: Buffer.from(r.rfc2136.tsigKey.name, 'utf8').toString('base64'),
          [TSIG_SECRET_KEY]: Buffer.from(r.rfc2136.tsigKey.secret, 'utf8').toString('base64'),
        },
      },
      env: [
        { name: TSIG_KEYNAME_ENV, valueFrom: { secretKeyRef: { name, key: TSIG_KEYNAME_KEY } } },
        { name: TSIG_SECRET_ENV, valueFrom: { secretKeyRef: { name, key: TSIG_SECRET_KEY } } },
      ],
      mounts: [],
      volumes: [],
      serviceAccountAnnotations: {},
      hash: tsigKeyHash(r.rfc2136.tsigKey),
    };
  }
  const name = externalDnsSecretName(r.name);
  const aws = credentialWiring(r.credentials, r, name);
  return {
    ...(r.credentials.mode === 'access-key'
      ? {
          secret: {
            name,
            data: {
              [CREDENTIALS_SECRET_KEY]: Buffer.from(credentialsFile(r.credentials), 'utf8').toString(
                'base64',
              ),
            },
          },
        }
      : {}),
    env: [
      { name: 'AWS_REGION', value: r.region },
      { name: 'AWS_DEFAULT_REGION', value: r.region },
      ...aws.env,
    ],
    mounts: aws.mounts,
    volumes: aws.volumes,
    serviceAccountAnnotations: aws.serviceAccountAnnotations,
    hash: credentialsHash(r.credentials),
  };
}
