/**
 * Field names of the real Kubernetes 1.32 API types that the fake's structural schemas
 * ({@link kindSchemas}) do not model in detail. They are known fields — strict field validation
 * accepts them and decoding keeps them — with their content treated like schemaless data. The
 * differential test (`real-apiserver.test.ts`) compares every modelled struct's field names with a
 * real API server's OpenAPI, so a gap shows up there.
 * @internal
 */

import { kindSchemas, type Schema, type StructSchema } from './schema.js';

/** `group/Kind` and a path of struct fields (`[]` steps into list items) → extra field names. */
const EXTRA_FIELDS: readonly [string, string, readonly string[]][] = [
  ['/ServiceAccount', 'secrets[]', ['fieldPath', 'resourceVersion', 'uid']],
  [
    '/Service',
    'spec',
    [
      'allocateLoadBalancerNodePorts',
      'healthCheckNodePort',
      'loadBalancerClass',
      'sessionAffinityConfig',
      'trafficDistribution',
    ],
  ],
  [
    'apps/Deployment',
    'spec.template.spec',
    [
      'activeDeadlineSeconds',
      'dnsConfig',
      'enableServiceLinks',
      'ephemeralContainers',
      'hostIPC',
      'hostPID',
      'hostUsers',
      'hostname',
      'nodeName',
      'os',
      'overhead',
      'preemptionPolicy',
      'priority',
      'readinessGates',
      'resourceClaims',
      'resources',
      'runtimeClassName',
      'schedulingGates',
      'setHostnameAsFQDN',
      'shareProcessNamespace',
      'subdomain',
    ],
  ],
  [
    'apps/Deployment',
    'spec.template.spec.volumes[]',
    [
      'awsElasticBlockStore',
      'azureDisk',
      'azureFile',
      'cephfs',
      'cinder',
      'csi',
      'downwardAPI',
      'ephemeral',
      'fc',
      'flexVolume',
      'flocker',
      'gcePersistentDisk',
      'gitRepo',
      'glusterfs',
      'image',
      'iscsi',
      'nfs',
      'photonPersistentDisk',
      'portworxVolume',
      'quobyte',
      'rbd',
      'scaleIO',
      'storageos',
      'vsphereVolume',
    ],
  ],
  [
    'apps/Deployment',
    'spec.template.spec.containers[]',
    ['lifecycle', 'resizePolicy', 'restartPolicy', 'stdinOnce', 'volumeDevices'],
  ],
  ['apps/Deployment', 'spec.template.spec.containers[].resources.claims[]', ['request']],
  [
    'apps/Deployment',
    'spec.template.spec.containers[].volumeMounts[]',
    ['mountPropagation', 'recursiveReadOnly', 'subPathExpr'],
  ],
  [
    'apps/Deployment',
    'spec.template.spec.containers[].securityContext',
    ['appArmorProfile', 'procMount', 'seLinuxOptions', 'windowsOptions'],
  ],
  [
    'apps/Deployment',
    'spec.template.spec.securityContext',
    [
      'appArmorProfile',
      'fsGroupChangePolicy',
      'seLinuxChangePolicy',
      'seLinuxOptions',
      'supplementalGroupsPolicy',
      'sysctls',
      'windowsOptions',
    ],
  ],
];

function resolve(root: Schema | undefined, path: string): Schema | undefined {
  let s = root;
  for (const step of path.split('.')) {
    const list = step.endsWith('[]');
    const name = list ? step.slice(0, -2) : step;
    s = s?.kind === 'struct' ? s.fields[name] : undefined;
    if (list) s = s?.kind === 'list' ? s.items : undefined;
  }
  return s;
}

const extras = new WeakMap<StructSchema, ReadonlySet<string>>();
for (const [kind, path, names] of EXTRA_FIELDS) {
  const s = resolve(kindSchemas[kind], path);
  if (s?.kind !== 'struct') throw new Error(`known-fields: no struct at ${kind} ${path}`);
  extras.set(s, new Set([...(extras.get(s) ?? []), ...names]));
}

/** Whether `key` is a field of the struct `schema` (modelled, or known from the real API). */
export function isKnownField(schema: StructSchema, key: string): boolean {
  return Object.hasOwn(schema.fields, key) || (extras.get(schema)?.has(key) ?? false);
}

/** Every known field name of a struct (for the differential test). */
export function knownFieldNames(schema: StructSchema): string[] {
  return [...Object.keys(schema.fields), ...(extras.get(schema) ?? [])];
}
