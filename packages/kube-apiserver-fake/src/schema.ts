/**
 * A small structural schema for the built-in kinds the fake serves: enough to know, per field, whether
 * it is a struct (named fields), a map (free keys), a list (atomic, a set, or a map keyed by some
 * fields) or a scalar. Server-side apply (field ownership), strategic merge patch and the
 * "drop empty maps/lists" normalisation all read it. Fields not described here are "deduced" from
 * their value, as structured-merge-diff does for schemaless data: objects are granular maps, arrays
 * are atomic.
 * @internal
 */

import type { Json } from './json.js';

/** How strategic merge patch treats a list. */
export interface SmpListStrategy {
  /** `merge`: items merged by `mergeKey` (objects) or by value (primitives). */
  readonly strategy: 'merge' | 'replace';
  readonly mergeKey?: string;
}

/** A scalar leaf. */
export interface ScalarSchema {
  readonly kind: 'scalar';
  /** For type checks on decode; absent means any scalar. */
  readonly type?: 'string' | 'integer' | 'boolean' | 'number' | 'int-or-string' | 'quantity' | 'micro-time';
  /** A `quantity` that is an entry of a `ResourceList` (rounded up to milli-units on decode). */
  readonly resourceList?: boolean;
}

/** A struct: known (named) fields; other keys are deduced. */
export interface StructSchema {
  readonly kind: 'struct';
  readonly fields: Readonly<Record<string, Schema>>;
  /** `x-kubernetes-map-type: atomic` / `+structType=atomic`. */
  readonly atomic?: boolean;
  /** Strategic merge `retainKeys`. */
  readonly retainKeys?: boolean;
}

/** A map with free keys (labels, data). */
export interface MapSchema {
  readonly kind: 'map';
  readonly values: Schema;
  readonly atomic?: boolean;
}

/** A list. */
export interface ListSchema {
  readonly kind: 'list';
  readonly items: Schema;
  readonly listType: 'atomic' | 'set' | 'map';
  /** Key fields of a `map` list, in declaration order. */
  readonly keys?: readonly string[];
  /** Defaults of key fields (e.g. `protocol: TCP` for ports), used when an item omits them. */
  readonly keyDefaults?: Readonly<Record<string, Json>>;
  readonly smp?: SmpListStrategy;
}

/** Anything: shape deduced from the value. */
export interface DeducedSchema {
  readonly kind: 'deduced';
}

/** A node of the structural schema. */
export type Schema = ScalarSchema | StructSchema | MapSchema | ListSchema | DeducedSchema;

/** The deduced schema singleton. */
export const deduced: DeducedSchema = { kind: 'deduced' };

const scalarAny: ScalarSchema = { kind: 'scalar' };
const string: ScalarSchema = { kind: 'scalar', type: 'string' };
const integer: ScalarSchema = { kind: 'scalar', type: 'integer' };
const boolean: ScalarSchema = { kind: 'scalar', type: 'boolean' };
const intOrString: ScalarSchema = { kind: 'scalar', type: 'int-or-string' };
const quantity: ScalarSchema = { kind: 'scalar', type: 'quantity' };
const resourceQuantity: ScalarSchema = { kind: 'scalar', type: 'quantity', resourceList: true };
const microTime: ScalarSchema = { kind: 'scalar', type: 'micro-time' };

function struct(
  fields: Record<string, Schema>,
  options: { atomic?: boolean; retainKeys?: boolean } = {},
): StructSchema {
  return { kind: 'struct', fields, ...options };
}
function mapOf(values: Schema, atomic = false): MapSchema {
  return atomic ? { kind: 'map', values, atomic } : { kind: 'map', values };
}
function atomicList(items: Schema = deduced): ListSchema {
  return { kind: 'list', items, listType: 'atomic' };
}
function setList(items: Schema = string, smpMerge = true): ListSchema {
  return smpMerge
    ? { kind: 'list', items, listType: 'set', smp: { strategy: 'merge' } }
    : { kind: 'list', items, listType: 'set' };
}
function mapList(
  keys: readonly string[],
  items: Schema,
  smpKey: string | undefined = keys[0],
  keyDefaults?: Record<string, Json>,
): ListSchema {
  return {
    kind: 'list',
    items,
    listType: 'map',
    keys,
    ...(keyDefaults ? { keyDefaults } : {}),
    ...(smpKey ? { smp: { strategy: 'merge', mergeKey: smpKey } } : {}),
  };
}

const stringMap = mapOf(string);

const labelSelector = struct(
  {
    matchLabels: stringMap,
    matchExpressions: atomicList(struct({ key: string, operator: string, values: atomicList(string) })),
  },
  { atomic: true },
);

const ownerReference = struct(
  {
    apiVersion: string,
    kind: string,
    name: string,
    uid: string,
    controller: boolean,
    blockOwnerDeletion: boolean,
  },
  { atomic: true },
);

/** `metav1.ObjectMeta`. */
export const objectMeta = struct({
  name: string,
  generateName: string,
  namespace: string,
  uid: string,
  resourceVersion: string,
  generation: integer,
  creationTimestamp: scalarAny,
  deletionTimestamp: scalarAny,
  deletionGracePeriodSeconds: integer,
  labels: stringMap,
  annotations: stringMap,
  ownerReferences: mapList(['uid'], ownerReference),
  finalizers: setList(string),
  managedFields: atomicList(),
  selfLink: string,
});

const keyToPath = struct({ key: string, path: string, mode: integer });

const volume = struct(
  {
    name: string,
    emptyDir: struct({ medium: string, sizeLimit: quantity }),
    secret: struct({
      secretName: string,
      items: atomicList(keyToPath),
      defaultMode: integer,
      optional: boolean,
    }),
    configMap: struct({
      name: string,
      items: atomicList(keyToPath),
      defaultMode: integer,
      optional: boolean,
    }),
    projected: struct({ sources: atomicList(), defaultMode: integer }),
    hostPath: struct({ path: string, type: string }),
    persistentVolumeClaim: struct({ claimName: string, readOnly: boolean }),
  },
  { retainKeys: true },
);

const envVar = struct({
  name: string,
  value: string,
  valueFrom: struct({
    fieldRef: struct({ apiVersion: string, fieldPath: string }, { atomic: true }),
    secretKeyRef: struct({ name: string, key: string, optional: boolean }, { atomic: true }),
    configMapKeyRef: struct({ name: string, key: string, optional: boolean }, { atomic: true }),
    resourceFieldRef: struct(
      { containerName: string, resource: string, divisor: quantity },
      { atomic: true },
    ),
  }),
});

const httpGet = struct({
  path: string,
  port: intOrString,
  host: string,
  scheme: string,
  httpHeaders: atomicList(struct({ name: string, value: string })),
});

const probe = struct({
  exec: struct({ command: atomicList(string) }),
  httpGet,
  tcpSocket: struct({ port: intOrString, host: string }),
  grpc: struct({ port: integer, service: string }),
  initialDelaySeconds: integer,
  timeoutSeconds: integer,
  periodSeconds: integer,
  successThreshold: integer,
  failureThreshold: integer,
  terminationGracePeriodSeconds: integer,
});

const securityContext = struct({
  capabilities: struct({ add: atomicList(string), drop: atomicList(string) }),
  privileged: boolean,
  runAsUser: integer,
  runAsGroup: integer,
  runAsNonRoot: boolean,
  readOnlyRootFilesystem: boolean,
  allowPrivilegeEscalation: boolean,
  seccompProfile: struct({ type: string, localhostProfile: string }),
});

const container = struct({
  name: string,
  image: string,
  command: atomicList(string),
  args: atomicList(string),
  workingDir: string,
  ports: mapList(
    ['containerPort', 'protocol'],
    struct({ name: string, containerPort: integer, protocol: string, hostPort: integer, hostIP: string }),
    'containerPort',
    { protocol: 'TCP' },
  ),
  envFrom: atomicList(),
  env: mapList(['name'], envVar),
  resources: struct({
    limits: mapOf(resourceQuantity),
    requests: mapOf(resourceQuantity),
    claims: mapList(['name'], struct({ name: string })),
  }),
  volumeMounts: mapList(
    ['mountPath'],
    struct({ name: string, mountPath: string, subPath: string, readOnly: boolean }),
  ),
  livenessProbe: probe,
  readinessProbe: probe,
  startupProbe: probe,
  imagePullPolicy: string,
  securityContext,
  terminationMessagePath: string,
  terminationMessagePolicy: string,
  stdin: boolean,
  tty: boolean,
});

const podSpec = struct({
  volumes: mapList(['name'], volume),
  initContainers: mapList(['name'], container),
  containers: mapList(['name'], container),
  restartPolicy: string,
  terminationGracePeriodSeconds: integer,
  dnsPolicy: string,
  nodeSelector: mapOf(string, true),
  serviceAccountName: string,
  serviceAccount: string,
  automountServiceAccountToken: boolean,
  securityContext: struct({
    runAsUser: integer,
    runAsGroup: integer,
    runAsNonRoot: boolean,
    fsGroup: integer,
    seccompProfile: struct({ type: string, localhostProfile: string }),
    supplementalGroups: atomicList(integer),
  }),
  imagePullSecrets: mapList(['name'], struct({ name: string })),
  hostAliases: mapList(['ip'], struct({ ip: string, hostnames: atomicList(string) })),
  tolerations: atomicList(),
  topologySpreadConstraints: mapList(['topologyKey', 'whenUnsatisfiable'], deduced, 'topologyKey'),
  priorityClassName: string,
  schedulerName: string,
  hostNetwork: boolean,
  affinity: deduced,
});

const podTemplateSpec = struct({ metadata: objectMeta, spec: podSpec });

const condition = struct({
  type: string,
  status: string,
  reason: string,
  message: string,
  lastUpdateTime: scalarAny,
  lastTransitionTime: scalarAny,
  observedGeneration: integer,
});
const conditions = mapList(['type'], condition);

function topLevel(fields: Record<string, Schema>): StructSchema {
  return struct({ apiVersion: string, kind: string, metadata: objectMeta, ...fields });
}

/** Schemas of the served kinds, by `group/Kind` (core group is empty). */
export const kindSchemas: Readonly<Record<string, StructSchema>> = {
  '/Namespace': topLevel({
    spec: struct({ finalizers: atomicList(string) }),
    status: struct({ phase: string, conditions }),
  }),
  '/ServiceAccount': topLevel({
    secrets: mapList(['name'], struct({ name: string, namespace: string, kind: string, apiVersion: string })),
    imagePullSecrets: atomicList(struct({ name: string })),
    automountServiceAccountToken: boolean,
  }),
  '/Secret': topLevel({
    type: string,
    immutable: boolean,
    data: mapOf(string),
    stringData: mapOf(string),
  }),
  '/ConfigMap': topLevel({
    immutable: boolean,
    data: mapOf(string),
    binaryData: mapOf(string),
  }),
  '/Service': topLevel({
    spec: struct({
      type: string,
      selector: mapOf(string, true),
      ports: mapList(
        ['port', 'protocol'],
        struct({
          name: string,
          protocol: string,
          port: integer,
          targetPort: intOrString,
          nodePort: integer,
          appProtocol: string,
        }),
        'port',
        { protocol: 'TCP' },
      ),
      clusterIP: string,
      clusterIPs: atomicList(string),
      externalIPs: atomicList(string),
      externalName: string,
      sessionAffinity: string,
      ipFamilies: atomicList(string),
      ipFamilyPolicy: string,
      internalTrafficPolicy: string,
      externalTrafficPolicy: string,
      loadBalancerIP: string,
      loadBalancerSourceRanges: atomicList(string),
      publishNotReadyAddresses: boolean,
    }),
    status: struct({ loadBalancer: struct({ ingress: atomicList() }), conditions }),
  }),
  'rbac.authorization.k8s.io/ClusterRole': topLevel({
    rules: atomicList(),
    aggregationRule: struct({ clusterRoleSelectors: atomicList() }),
  }),
  'rbac.authorization.k8s.io/Role': topLevel({ rules: atomicList() }),
  'rbac.authorization.k8s.io/ClusterRoleBinding': topLevel({
    subjects: atomicList(),
    roleRef: struct({ apiGroup: string, kind: string, name: string }, { atomic: true }),
  }),
  'rbac.authorization.k8s.io/RoleBinding': topLevel({
    subjects: atomicList(),
    roleRef: struct({ apiGroup: string, kind: string, name: string }, { atomic: true }),
  }),
  'apps/Deployment': topLevel({
    spec: struct({
      replicas: integer,
      selector: labelSelector,
      template: podTemplateSpec,
      strategy: struct(
        {
          type: string,
          rollingUpdate: struct({ maxUnavailable: intOrString, maxSurge: intOrString }),
        },
        { retainKeys: true },
      ),
      minReadySeconds: integer,
      revisionHistoryLimit: integer,
      paused: boolean,
      progressDeadlineSeconds: integer,
    }),
    status: struct({
      observedGeneration: integer,
      replicas: integer,
      updatedReplicas: integer,
      readyReplicas: integer,
      availableReplicas: integer,
      unavailableReplicas: integer,
      terminatingReplicas: integer,
      conditions,
      collisionCount: integer,
    }),
  }),
  'coordination.k8s.io/Lease': topLevel({
    spec: struct({
      holderIdentity: string,
      leaseDurationSeconds: integer,
      acquireTime: microTime,
      renewTime: microTime,
      leaseTransitions: integer,
      strategy: string,
      preferredHolder: string,
    }),
  }),
  // The kinds ExternalDNS's service and ingress sources list and watch.
  '/Pod': topLevel({
    spec: struct({ ...podSpec.fields, nodeName: string }),
    status: struct({
      phase: string,
      conditions,
      hostIP: string,
      podIP: string,
      podIPs: mapList(['ip'], struct({ ip: string })),
      startTime: scalarAny,
      containerStatuses: atomicList(),
    }),
  }),
  '/Node': topLevel({
    spec: struct({
      podCIDR: string,
      podCIDRs: setList(),
      providerID: string,
      unschedulable: boolean,
      taints: atomicList(),
    }),
    status: struct({
      addresses: mapList(['type'], struct({ type: string, address: string })),
      conditions,
      capacity: mapOf(string),
      allocatable: mapOf(string),
      nodeInfo: deduced,
    }),
  }),
  'discovery.k8s.io/EndpointSlice': topLevel({
    addressType: string,
    endpoints: atomicList(),
    ports: atomicList(),
  }),
  'networking.k8s.io/Ingress': topLevel({
    spec: struct({
      ingressClassName: string,
      defaultBackend: deduced,
      tls: atomicList(),
      rules: atomicList(),
    }),
    status: struct({ loadBalancer: struct({ ingress: atomicList() }) }),
  }),
};

/** The child schema of `schema` at object key `key`, and whether it is a named struct field. */
export function childOf(schema: Schema, key: string): { schema: Schema; named: boolean } {
  if (schema.kind === 'struct') {
    const field = schema.fields[key];
    return field ? { schema: field, named: true } : { schema: deduced, named: false };
  }
  if (schema.kind === 'map') return { schema: schema.values, named: false };
  return { schema: deduced, named: false };
}

/** The item schema of a list schema (deduced for anything else). */
export function itemsOf(schema: Schema): Schema {
  return schema.kind === 'list' ? schema.items : deduced;
}

/**
 * The effective schema of a value: deduced schemas become a granular map for objects, an atomic list
 * for arrays and a scalar otherwise.
 */
export function effective(schema: Schema, value: Json | undefined): Schema {
  if (schema.kind !== 'deduced') return schema;
  if (Array.isArray(value)) return { kind: 'list', items: deduced, listType: 'atomic' };
  if (typeof value === 'object' && value !== null) return { kind: 'map', values: deduced };
  return scalarAny;
}
