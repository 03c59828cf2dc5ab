/**
 * Server-side printing: the `meta.k8s.io/v1` `Table` kubectl asks for with
 * `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`, with the columns the real API server prints.
 * @internal
 */

import { isObject, type Json, type JsonObject, obj, str } from './json.js';
import type { ResourceDefinition } from './resources.js';

interface Column {
  readonly name: string;
  readonly type: 'string' | 'integer' | 'date' | 'boolean' | 'number';
  readonly format?: string;
  readonly description: string;
  readonly priority?: number;
  readonly cell: (o: JsonObject, now: Date) => Json;
}

/** `duration.HumanDuration` of apimachinery (`5s`, `3m20s`, `2d4h`, …). */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const dy = Math.floor(hours / 24) % 365;
    return dy === 0 ? `${Math.floor(hours / 24 / 365)}y` : `${Math.floor(hours / 24 / 365)}y${dy}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

const nameColumn: Column = {
  name: 'Name',
  type: 'string',
  format: 'name',
  description:
    'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names',
  cell: (o) => str(obj(o.metadata)?.name) ?? '',
};

const ageColumn: Column = {
  name: 'Age',
  type: 'string',
  description:
    'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata',
  cell: (o, now) => {
    const ts = str(obj(o.metadata)?.creationTimestamp);
    return ts ? humanDuration(now.getTime() - Date.parse(ts)) : '<unknown>';
  },
};

const createdAtColumn: Column = {
  name: 'Created At',
  type: 'date',
  description: ageColumn.description,
  cell: (o) => str(obj(o.metadata)?.creationTimestamp) ?? '',
};

function count(v: Json | undefined): number {
  if (Array.isArray(v)) return v.length;
  if (isObject(v)) return Object.keys(v).length;
  return 0;
}

function subjectsOf(o: JsonObject, kind: string): string {
  const subjects = Array.isArray(o.subjects) ? o.subjects : [];
  return subjects
    .filter((s) => obj(s)?.kind === kind)
    .map((s) => {
      const subject = obj(s) ?? {};
      return kind === 'ServiceAccount'
        ? `${str(subject.namespace) ?? ''}:${str(subject.name) ?? ''}`
        : (str(subject.name) ?? '');
    })
    .join(', ');
}

function bindingColumns(): Column[] {
  return [
    nameColumn,
    {
      name: 'Role',
      type: 'string',
      description: 'RoleRef can only reference the current namespace or a ClusterRole.',
      cell: (o) => `${str(obj(o.roleRef)?.kind) ?? ''}/${str(obj(o.roleRef)?.name) ?? ''}`,
    },
    ageColumn,
    {
      name: 'Users',
      type: 'string',
      priority: 1,
      description: 'Users in the binding',
      cell: (o) => subjectsOf(o, 'User'),
    },
    {
      name: 'Groups',
      type: 'string',
      priority: 1,
      description: 'Groups in the binding',
      cell: (o) => subjectsOf(o, 'Group'),
    },
    {
      name: 'ServiceAccounts',
      type: 'string',
      priority: 1,
      description: 'ServiceAccounts in the binding',
      cell: (o) => subjectsOf(o, 'ServiceAccount'),
    },
  ];
}

function status(o: JsonObject): JsonObject {
  return obj(o.status) ?? {};
}

function num(v: Json | undefined): number {
  return typeof v === 'number' ? v : 0;
}

function containersOf(o: JsonObject): JsonObject[] {
  const cs = obj(obj(obj(o.spec)?.template)?.spec)?.containers;
  return Array.isArray(cs) ? cs.filter(isObject) : [];
}

function containersOfPod(o: JsonObject): JsonObject[] {
  const list = obj(o.spec)?.containers;
  return Array.isArray(list) ? list.filter(isObject) : [];
}

function containerStatusesOf(o: JsonObject): JsonObject[] {
  const list = status(o).containerStatuses;
  return Array.isArray(list) ? list.filter(isObject) : [];
}

/** The Status column: a waiting or terminated container's reason, else the phase (printers.go). */
function podReason(o: JsonObject): string {
  if (str(obj(o.metadata)?.deletionTimestamp) !== undefined) return 'Terminating';
  let reason = str(status(o).reason) ?? str(status(o).phase) ?? 'Pending';
  for (const c of containerStatusesOf(o)) {
    const state = obj(c.state);
    const waiting = str(obj(state?.waiting)?.reason);
    const terminated = obj(state?.terminated);
    if (waiting !== undefined && waiting !== '') reason = waiting;
    else if (terminated !== undefined)
      reason = str(terminated.reason) ?? `ExitCode:${num(terminated.exitCode)}`;
  }
  return reason;
}

function servicePorts(o: JsonObject): string {
  const ports = obj(o.spec)?.ports;
  if (!Array.isArray(ports) || ports.length === 0) return '<none>';
  return ports
    .filter(isObject)
    .map(
      (p) => `${p.port}${typeof p.nodePort === 'number' ? `:${p.nodePort}` : ''}/${str(p.protocol) ?? 'TCP'}`,
    )
    .join(',');
}

function columnsFor(def: ResourceDefinition): Column[] {
  switch (def.kind) {
    case 'Namespace':
      return [
        nameColumn,
        {
          name: 'Status',
          type: 'string',
          description: 'The status of the namespace',
          cell: (o) => str(status(o).phase) ?? '',
        },
        ageColumn,
      ];
    case 'ServiceAccount':
      return [
        nameColumn,
        {
          name: 'Secrets',
          type: 'string',
          description:
            'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.',
          cell: (o) => count(o.secrets),
        },
        ageColumn,
      ];
    case 'Secret':
      return [
        nameColumn,
        {
          name: 'Type',
          type: 'string',
          description: 'Used to facilitate programmatic handling of secret data.',
          cell: (o) => str(o.type) ?? '',
        },
        {
          name: 'Data',
          type: 'string',
          description: 'Data contains the secret data.',
          cell: (o) => count(o.data),
        },
        ageColumn,
      ];
    case 'ConfigMap':
      return [
        nameColumn,
        {
          name: 'Data',
          type: 'string',
          description: 'Data contains the configuration data.',
          cell: (o) => count(o.data) + count(o.binaryData),
        },
        ageColumn,
      ];
    case 'Service':
      return [
        nameColumn,
        {
          name: 'Type',
          type: 'string',
          description: 'type determines how the Service is exposed.',
          cell: (o) => str(obj(o.spec)?.type) ?? '',
        },
        {
          name: 'Cluster-IP',
          type: 'string',
          description: 'clusterIP is the IP address of the service.',
          cell: (o) => str(obj(o.spec)?.clusterIP) ?? '<none>',
        },
        {
          name: 'External-IP',
          type: 'string',
          description:
            'externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.',
          cell: (o) => {
            const spec = obj(o.spec) ?? {};
            if (spec.type === 'ExternalName') return str(spec.externalName) ?? '<none>';
            const ingress = obj(status(o).loadBalancer)?.ingress;
            const ips = [
              ...(Array.isArray(spec.externalIPs) ? spec.externalIPs.map(String) : []),
              ...(Array.isArray(ingress)
                ? ingress.map((i) => str(obj(i)?.ip) ?? str(obj(i)?.hostname) ?? '')
                : []),
            ];
            if (ips.length > 0) return ips.join(',');
            return spec.type === 'LoadBalancer' ? '<pending>' : '<none>';
          },
        },
        {
          name: 'Port(s)',
          type: 'string',
          description: 'The list of ports that are exposed by this service.',
          cell: servicePorts,
        },
        ageColumn,
        {
          name: 'Selector',
          type: 'string',
          priority: 1,
          description: 'Route service traffic to pods with label keys and values matching this selector.',
          cell: (o) => {
            const sel = obj(obj(o.spec)?.selector);
            return sel
              ? Object.entries(sel)
                  .map(([k, v]) => `${k}=${String(v)}`)
                  .join(',')
              : '<none>';
          },
        },
      ];
    case 'ClusterRole':
    case 'Role':
      return [nameColumn, createdAtColumn];
    case 'ClusterRoleBinding':
    case 'RoleBinding':
      return bindingColumns();
    case 'Deployment':
      return [
        nameColumn,
        {
          name: 'Ready',
          type: 'string',
          description: 'Number of the pod with ready state',
          cell: (o) => `${num(status(o).readyReplicas)}/${num(obj(o.spec)?.replicas)}`,
        },
        {
          name: 'Up-to-date',
          type: 'integer',
          description:
            'Total number of non-terminated pods targeted by this deployment that have the desired template spec.',
          cell: (o) => num(status(o).updatedReplicas),
        },
        {
          name: 'Available',
          type: 'integer',
          description:
            'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.',
          cell: (o) => num(status(o).availableReplicas),
        },
        ageColumn,
        {
          name: 'Containers',
          type: 'string',
          priority: 1,
          description: 'Names of each container in the template.',
          cell: (o) =>
            containersOf(o)
              .map((c) => str(c.name) ?? '')
              .join(','),
        },
        {
          name: 'Images',
          type: 'string',
          priority: 1,
          description: 'Images referenced by each container in the template.',
          cell: (o) =>
            containersOf(o)
              .map((c) => str(c.image) ?? '')
              .join(','),
        },
        {
          name: 'Selector',
          type: 'string',
          priority: 1,
          description:
            'Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.',
          cell: (o) => {
            const ml = obj(obj(obj(o.spec)?.selector)?.matchLabels) ?? {};
            return Object.entries(ml)
              .map(([k, v]) => `${k}=${String(v)}`)
              .join(',');
          },
        },
      ];
    case 'Pod':
      return [
        nameColumn,
        {
          name: 'Ready',
          type: 'string',
          description: 'The aggregate readiness state of this pod for accepting traffic.',
          cell: (o) => {
            const statuses = containerStatusesOf(o);
            return `${statuses.filter((c) => c.ready === true).length}/${containersOfPod(o).length}`;
          },
        },
        {
          name: 'Status',
          type: 'string',
          description: 'The aggregate status of the containers in this pod.',
          cell: (o) => podReason(o),
        },
        {
          name: 'Restarts',
          type: 'string',
          description:
            'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.',
          cell: (o, now) => {
            const statuses = containerStatusesOf(o);
            const restarts = statuses.reduce((n, c) => n + num(c.restartCount), 0);
            const last = statuses
              .map((c) => str(obj(obj(c.lastState)?.terminated)?.finishedAt))
              .filter((t): t is string => t !== undefined)
              .map((t) => Date.parse(t))
              .sort((a, b) => b - a)[0];
            return restarts > 0 && last !== undefined
              ? `${restarts} (${humanDuration(now.getTime() - last)} ago)`
              : String(restarts);
          },
        },
        ageColumn,
        {
          name: 'IP',
          type: 'string',
          priority: 1,
          description:
            'IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.',
          cell: (o) => str(status(o).podIP) ?? '<none>',
        },
        {
          name: 'Node',
          type: 'string',
          priority: 1,
          description: 'NodeName is a request to schedule this pod onto a specific node.',
          cell: (o) => str(obj(o.spec)?.nodeName) ?? '<none>',
        },
        {
          name: 'Nominated Node',
          type: 'string',
          priority: 1,
          description: 'nominatedNodeName is set only when this pod preempts other pods on the node.',
          cell: (o) => str(status(o).nominatedNodeName) ?? '<none>',
        },
        {
          name: 'Readiness Gates',
          type: 'string',
          priority: 1,
          description: 'If specified, all readiness gates will be evaluated for pod readiness.',
          cell: () => '<none>',
        },
      ];
    case 'Lease':
      return [
        nameColumn,
        {
          name: 'Holder',
          type: 'string',
          description: 'The holder of the lease.',
          cell: (o) => str(obj(o.spec)?.holderIdentity) ?? '',
        },
        ageColumn,
      ];
    default:
      return [nameColumn, ageColumn];
  }
}

/** What a table row carries besides its cells (`?includeObject=`). */
export type IncludeObject = 'None' | 'Metadata' | 'Object';

/** Renders objects (with kind/apiVersion) as a Table. */
export function renderTable(
  def: ResourceDefinition,
  objects: readonly JsonObject[],
  listMeta: JsonObject,
  include: IncludeObject,
  tableApiVersion: string,
  now: Date,
): JsonObject {
  const columns = columnsFor(def);
  return {
    kind: 'Table',
    apiVersion: tableApiVersion,
    metadata: listMeta,
    columnDefinitions: columns.map((c) => ({
      name: c.name,
      type: c.type,
      format: c.format ?? '',
      description: c.description,
      priority: c.priority ?? 0,
    })),
    rows: objects.map((o) => {
      const row: JsonObject = { cells: columns.map((c) => c.cell(o, now)) };
      if (include === 'Object') row.object = o;
      else if (include === 'Metadata') {
        row.object = {
          kind: 'PartialObjectMetadata',
          apiVersion: 'meta.k8s.io/v1',
          metadata: o.metadata ?? {},
        };
      }
      return row;
    }),
  };
}
