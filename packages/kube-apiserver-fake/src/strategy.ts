/**
 * Per-kind strategies: defaulting (what the API server fills in on decode), preparation (Secret
 * `stringData`, Namespace phase), normalisation (Go's omitempty) and validation (422 Invalid).
 * @internal
 */

import { containerEnumErrors } from './enums.js';
import { type FieldError, GoValue } from './errors.js';
import { child, deepEqual, isObject, type Json, type JsonObject, obj, str } from './json.js';
import type { ResourceDefinition } from './resources.js';
import { childOf, effective, type Schema } from './schema.js';
import { fromLabelSelectorObject, matchesLabels } from './selectors.js';

// ---------------------------------------------------------------- normalisation

/**
 * Drops `null`s, and empty maps and lists in map/list-typed fields (Go drops them on encode), but keeps
 * empty structs such as `securityContext: {}` or `emptyDir: {}`.
 */
export function normalize(value: Json, schema: Schema): Json | undefined {
  if (value === null) return undefined;
  const s = effective(schema, value);
  if (Array.isArray(value)) {
    const items = s.kind === 'list' ? s.items : s;
    const out = value.map((v) => normalize(v, items)).filter((v): v is Json => v !== undefined);
    return out.length === 0 && s.kind === 'list' ? undefined : out;
  }
  if (isObject(value)) {
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(value)) {
      const n = normalize(v, childOf(s, k).schema);
      if (n !== undefined) out[k] = n;
    }
    if (Object.keys(out).length === 0 && s.kind === 'map') return undefined;
    return out;
  }
  return value;
}

/** RFC 3339 with whole seconds, as `metav1.Time` serialises. */
export function formatTime(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

/** RFC 3339 with microseconds, as `metav1.MicroTime` serialises. */
export function formatMicroTime(value: string): string {
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return value;
  const frac = /\.(\d+)/.exec(value)?.[1] ?? '';
  return `${d.toISOString().slice(0, 19)}.${`${frac}000000`.slice(0, 6)}Z`;
}

function normalizeTime(value: Json | undefined): Json | undefined {
  if (typeof value !== 'string') return value;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? value : formatTime(d);
}

// ---------------------------------------------------------------- defaulting

function defaultContainer(c: JsonObject): void {
  c.terminationMessagePath ??= '/dev/termination-log';
  c.terminationMessagePolicy ??= 'File';
  if (c.imagePullPolicy === undefined) {
    const image = str(c.image) ?? '';
    const lastSegment = image.slice(image.lastIndexOf('/') + 1);
    const tagged = lastSegment.includes(':') && !image.endsWith(':latest');
    c.imagePullPolicy = tagged || image.includes('@') ? 'IfNotPresent' : 'Always';
  }
  if (!isObject(c.resources)) c.resources = {};
  if (Array.isArray(c.ports)) for (const p of c.ports) if (isObject(p)) p.protocol ??= 'TCP';
  if (Array.isArray(c.env)) {
    for (const e of c.env) {
      const fieldRef = obj(obj(obj(e)?.valueFrom)?.fieldRef);
      if (fieldRef) fieldRef.apiVersion ??= 'v1';
    }
  }
  for (const name of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
    const p = obj(c[name]);
    if (!p) continue;
    p.timeoutSeconds ??= 1;
    p.periodSeconds ??= 10;
    p.successThreshold ??= 1;
    p.failureThreshold ??= 3;
    const httpGet = obj(p.httpGet);
    if (httpGet) httpGet.scheme ??= 'HTTP';
  }
}

function defaultPodSpec(spec: JsonObject): void {
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  if (!isObject(spec.securityContext)) spec.securityContext = {};
  spec.schedulerName ??= 'default-scheduler';
  if (typeof spec.serviceAccountName === 'string' && spec.serviceAccount === undefined) {
    spec.serviceAccount = spec.serviceAccountName;
  }
  for (const list of ['containers', 'initContainers']) {
    const containers = spec[list];
    if (Array.isArray(containers)) for (const c of containers) if (isObject(c)) defaultContainer(c);
  }
  if (Array.isArray(spec.volumes)) {
    for (const v of spec.volumes) {
      if (!isObject(v)) continue;
      const source = Object.keys(v).filter((k) => k !== 'name');
      if (source.length === 0) v.emptyDir = {};
      for (const k of ['secret', 'configMap']) {
        const s = obj(v[k]);
        if (s) s.defaultMode ??= 420;
      }
    }
  }
}

/** Fills the defaults the API server applies when decoding an object of this kind. */
export function applyDefaults(def: ResourceDefinition, o: JsonObject): void {
  switch (def.kind) {
    case 'Deployment': {
      const spec = child(o, 'spec');
      spec.replicas ??= 1;
      const strategy = child(spec, 'strategy');
      strategy.type ??= 'RollingUpdate';
      if (strategy.type === 'RollingUpdate') {
        const ru = child(strategy, 'rollingUpdate');
        ru.maxUnavailable ??= '25%';
        ru.maxSurge ??= '25%';
      }
      spec.revisionHistoryLimit ??= 10;
      spec.progressDeadlineSeconds ??= 600;
      const template = obj(spec.template);
      const podSpec = obj(template?.spec);
      if (podSpec) defaultPodSpec(podSpec);
      break;
    }
    case 'Secret':
      if (o.type === undefined || o.type === null || o.type === '') o.type = 'Opaque'; // SetDefaults_Secret: "" too
      break;
    case 'Service': {
      const spec = child(o, 'spec');
      spec.type ??= 'ClusterIP';
      spec.sessionAffinity ??= 'None';
      if (spec.type !== 'ExternalName') spec.internalTrafficPolicy ??= 'Cluster';
      if (Array.isArray(spec.ports)) {
        for (const p of spec.ports) {
          if (!isObject(p)) continue;
          p.protocol ??= 'TCP';
          if (spec.type !== 'ExternalName') p.targetPort ??= p.port ?? null;
        }
      }
      if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') spec.externalTrafficPolicy ??= 'Cluster';
      if (spec.type === 'LoadBalancer') spec.allocateLoadBalancerNodePorts ??= true;
      break;
    }
    default:
      break;
  }
}

/**
 * Kind-specific preparation before storing: Secret `stringData` folded into base64 `data`, Namespace
 * finalizer/phase/name label, timestamps normalised.
 */
export function prepare(def: ResourceDefinition, o: JsonObject): void {
  const meta = child(o, 'metadata');
  if (meta.creationTimestamp !== undefined)
    meta.creationTimestamp = normalizeTime(meta.creationTimestamp) ?? null;
  switch (def.kind) {
    case 'Secret': {
      const stringData = obj(o.stringData);
      if (stringData) {
        const data = child(o, 'data');
        for (const [k, v] of Object.entries(stringData)) {
          data[k] = Buffer.from(typeof v === 'string' ? v : String(v), 'utf8').toString('base64');
        }
      }
      delete o.stringData;
      break;
    }
    case 'Namespace': {
      const labels = child(meta, 'labels');
      if (typeof meta.name === 'string') labels['kubernetes.io/metadata.name'] = meta.name;
      break;
    }
    case 'Lease': {
      const spec = obj(o.spec);
      if (spec) {
        for (const k of ['acquireTime', 'renewTime']) {
          if (typeof spec[k] === 'string') spec[k] = formatMicroTime(spec[k] as string);
        }
      }
      break;
    }
    case 'Deployment': {
      const status = obj(o.status);
      const conditions = status?.conditions;
      if (Array.isArray(conditions)) {
        for (const c of conditions) {
          if (!isObject(c)) continue;
          for (const k of ['lastUpdateTime', 'lastTransitionTime']) {
            if (c[k] !== undefined) c[k] = normalizeTime(c[k]) ?? null;
          }
        }
      }
      break;
    }
    default:
      break;
  }
}

// ---------------------------------------------------------------- decoding (types)

/** A value whose JSON type does not fit the schema (what Go's decoder or structured-merge-diff rejects). */
export interface TypeMismatch {
  /** Dotted path, e.g. `spec.replicas`. */
  readonly path: string;
  /** Go type name, e.g. `int32`, `string`, `bool`, `map`, `slice`. */
  readonly goType: string;
  /** JSON type found: `string`, `number`, `bool`, `object`, `array`. */
  readonly got: string;
  /** The number found, when a number was not an integer. */
  readonly number?: number;
}

function jsonType(v: Json): string {
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'boolean') return 'bool';
  return typeof v;
}

/** The first value in `value` whose JSON type does not fit `schema`; `undefined` when all fit. */
export function findTypeMismatch(
  value: Json | undefined,
  schema: Schema,
  path = '',
): TypeMismatch | undefined {
  if (value === undefined || value === null) return undefined;
  const at = (goType: string): TypeMismatch => ({
    path,
    goType,
    got: jsonType(value),
    ...(typeof value === 'number' ? { number: value } : {}),
  });
  switch (schema.kind) {
    case 'scalar':
      switch (schema.type) {
        case 'integer':
          return typeof value === 'number' && Number.isInteger(value) ? undefined : at('int32');
        case 'boolean':
          return typeof value === 'boolean' ? undefined : at('bool');
        case 'string':
          return typeof value === 'string' ? undefined : at('string');
        case 'int-or-string':
          return typeof value === 'string' || (typeof value === 'number' && Number.isInteger(value))
            ? undefined
            : at('intstr.IntOrString');
        default:
          return isObject(value) || Array.isArray(value) ? at('string') : undefined;
      }
    case 'list':
      if (!Array.isArray(value)) return at('slice');
      for (const [i, item] of value.entries()) {
        const m = findTypeMismatch(item, schema.items, `${path}[${i}]`);
        if (m) return m;
      }
      return undefined;
    case 'struct':
    case 'map':
      if (!isObject(value)) return at(schema.kind === 'map' ? 'map' : 'struct');
      for (const [k, v] of Object.entries(value)) {
        const m = findTypeMismatch(v, childOf(schema, k).schema, path ? `${path}.${k}` : k);
        if (m) return m;
      }
      return undefined;
    default:
      return undefined;
  }
}

/** Go's `json.Unmarshal` error text for a mismatch. */
export function goDecodeError(kind: string, m: TypeMismatch): string {
  const what =
    m.got === 'number' && m.number !== undefined && !Number.isInteger(m.number)
      ? `number ${m.number}`
      : m.got;
  return `json: cannot unmarshal ${what} into Go struct field ${kind}.${m.path} of type ${m.goType}`;
}

/** structured-merge-diff's text for a mismatch (server-side apply). */
export function smdTypeError(m: TypeMismatch): string {
  const expected =
    m.goType === 'int32'
      ? 'numeric (int or float)'
      : m.goType === 'bool'
        ? 'boolean'
        : m.goType === 'slice'
          ? 'list'
          : m.goType === 'struct' || m.goType === 'map'
            ? 'map'
            : 'string';
  return `.${m.path}: expected ${expected}, got ${m.got === 'object' ? 'map' : m.got === 'array' ? 'list' : m.got}`;
}

// ---------------------------------------------------------------- validation

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function nameErrors(def: ResourceDefinition, name: string, field: string): FieldError[] {
  if (def.group === 'rbac.authorization.k8s.io') {
    if (name === '.' || name === '..')
      return [{ type: 'FieldValueInvalid', field, value: name, detail: `may not be '${name}'` }];
    if (name.includes('/') || name.includes('%')) {
      return [
        {
          type: 'FieldValueInvalid',
          field,
          value: name,
          detail: `may not contain '${name.includes('/') ? '/' : '%'}'`,
        },
      ];
    }
    return [];
  }
  if (def.kind === 'Namespace') {
    if (name.length > 63 || !DNS1123_LABEL.test(name)) {
      return [
        {
          type: 'FieldValueInvalid',
          field,
          value: name,
          detail:
            "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
        },
      ];
    }
    return [];
  }
  if (def.kind === 'Service') {
    if (name.length > 63 || !DNS1035_LABEL.test(name)) {
      return [
        {
          type: 'FieldValueInvalid',
          field,
          value: name,
          detail:
            "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
        },
      ];
    }
    return [];
  }
  if (name.length > 253 || !DNS1123_SUBDOMAIN.test(name)) {
    return [
      {
        type: 'FieldValueInvalid',
        field,
        value: name,
        detail:
          "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
      },
    ];
  }
  return [];
}

function qualifiedNameErrors(key: string, field: string): FieldError[] {
  const slash = key.indexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  const errs: FieldError[] = [];
  if (prefix !== undefined && (prefix.length > 253 || !DNS1123_SUBDOMAIN.test(prefix))) {
    errs.push({
      type: 'FieldValueInvalid',
      field,
      value: key,
      detail:
        "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    });
  }
  if (name.length === 0 || name.length > 63 || !QUALIFIED_NAME.test(name)) {
    errs.push({
      type: 'FieldValueInvalid',
      field,
      value: key,
      detail:
        "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
    });
  }
  return errs;
}

function metadataErrors(def: ResourceDefinition, meta: JsonObject): FieldError[] {
  const errs: FieldError[] = [];
  const name = str(meta.name) ?? '';
  if (name === '') {
    errs.push({
      type: 'FieldValueRequired',
      field: 'metadata.name',
      detail: 'name or generateName is required',
    });
  } else {
    errs.push(...nameErrors(def, name, 'metadata.name'));
  }
  const labels = obj(meta.labels) ?? {};
  for (const [k, v] of Object.entries(labels)) {
    errs.push(...qualifiedNameErrors(k, 'metadata.labels'));
    if (typeof v !== 'string' || v.length > 63 || !LABEL_VALUE.test(v)) {
      errs.push({
        type: 'FieldValueInvalid',
        field: 'metadata.labels',
        value: v,
        detail:
          "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
      });
    }
  }
  for (const k of Object.keys(obj(meta.annotations) ?? {})) {
    errs.push(...qualifiedNameErrors(k.toLowerCase(), 'metadata.annotations'));
  }
  return errs;
}

function dataKeyErrors(data: JsonObject | undefined, field: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const k of Object.keys(data ?? {})) {
    if (!CONFIG_KEY.test(k) || k.length > 253) {
      errs.push({
        type: 'FieldValueInvalid',
        field: `${field}[${k}]`,
        value: k,
        detail:
          "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
      });
    }
  }
  return errs;
}

function deploymentErrors(o: JsonObject): FieldError[] {
  const errs: FieldError[] = [];
  const spec = obj(o.spec) ?? {};
  const replicas = spec.replicas;
  if (typeof replicas === 'number' && replicas < 0) {
    errs.push({
      type: 'FieldValueInvalid',
      field: 'spec.replicas',
      value: replicas,
      detail: 'must be greater than or equal to 0',
    });
  }
  const selector = obj(spec.selector);
  if (!selector) {
    errs.push({ type: 'FieldValueRequired', field: 'spec.selector' });
  } else if (
    Object.keys(obj(selector.matchLabels) ?? {}).length +
      (Array.isArray(selector.matchExpressions) ? selector.matchExpressions.length : 0) ===
    0
  ) {
    errs.push({
      type: 'FieldValueInvalid',
      field: 'spec.selector',
      value: selector,
      detail: 'empty selector is invalid for deployment',
    });
  }
  const template = obj(spec.template) ?? {};
  const templateLabels = obj(obj(template.metadata)?.labels) as Record<string, string> | undefined;
  const requirements = selector ? fromLabelSelectorObject(selector) : undefined;
  if (!requirements || !matchesLabels(requirements, templateLabels)) {
    errs.push({
      type: 'FieldValueInvalid',
      field: 'spec.template.metadata.labels',
      value: templateLabels ?? {},
      detail: '`selector` does not match template `labels`',
    });
  }
  const podSpec = obj(template.spec) ?? {};
  const containers = Array.isArray(podSpec.containers) ? podSpec.containers : [];
  if (containers.length === 0)
    errs.push({ type: 'FieldValueRequired', field: 'spec.template.spec.containers' });
  const seen = new Set<string>();
  for (const list of ['initContainers', 'containers']) {
    const cs = podSpec[list];
    if (!Array.isArray(cs)) continue;
    cs.forEach((c, i) => {
      const field = `spec.template.spec.${list}[${i}]`;
      const cname = str(obj(c)?.name) ?? '';
      if (cname === '') errs.push({ type: 'FieldValueRequired', field: `${field}.name` });
      else if (seen.has(cname))
        errs.push({ type: 'FieldValueDuplicate', field: `${field}.name`, value: cname });
      seen.add(cname);
      if ((str(obj(c)?.image) ?? '') === '')
        errs.push({ type: 'FieldValueRequired', field: `${field}.image` });
      errs.push(...containerEnumErrors(c, field));
    });
  }
  if (podSpec.restartPolicy !== undefined && podSpec.restartPolicy !== 'Always') {
    errs.push({
      type: 'FieldValueNotSupported',
      field: 'spec.template.spec.restartPolicy',
      value: podSpec.restartPolicy,
      supported: ['Always'],
    });
  }
  const strategyType = obj(spec.strategy)?.type;
  if (strategyType !== undefined && strategyType !== 'Recreate' && strategyType !== 'RollingUpdate') {
    errs.push({
      type: 'FieldValueNotSupported',
      field: 'spec.strategy.type',
      value: strategyType,
      supported: ['Recreate', 'RollingUpdate'],
    });
  }
  if (strategyType === 'Recreate' && obj(spec.strategy)?.rollingUpdate !== undefined) {
    errs.push({
      type: 'FieldValueForbidden',
      field: 'spec.strategy.rollingUpdate',
      detail: "may not be specified when strategy `type` is 'Recreate'",
    });
  }
  const pds = spec.progressDeadlineSeconds;
  const mrs = typeof spec.minReadySeconds === 'number' ? spec.minReadySeconds : 0;
  if (typeof pds === 'number' && pds <= mrs) {
    errs.push({
      type: 'FieldValueInvalid',
      field: 'spec.progressDeadlineSeconds',
      value: pds,
      detail: 'must be greater than minReadySeconds',
    });
  }
  return errs;
}

function bindingErrors(o: JsonObject, clusterScoped: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const roleRef = obj(o.roleRef) ?? {};
  if (roleRef.apiGroup !== 'rbac.authorization.k8s.io') {
    errs.push({
      type: 'FieldValueNotSupported',
      field: 'roleRef.apiGroup',
      value: roleRef.apiGroup ?? '',
      supported: ['rbac.authorization.k8s.io'],
    });
  }
  const kinds = clusterScoped ? ['ClusterRole'] : ['Role', 'ClusterRole'];
  if (!kinds.includes(String(roleRef.kind ?? ''))) {
    errs.push({
      type: 'FieldValueNotSupported',
      field: 'roleRef.kind',
      value: roleRef.kind ?? '',
      supported: kinds,
    });
  }
  if ((str(roleRef.name) ?? '') === '') errs.push({ type: 'FieldValueRequired', field: 'roleRef.name' });
  const subjects = Array.isArray(o.subjects) ? o.subjects : [];
  subjects.forEach((s, i) => {
    const subject = obj(s) ?? {};
    const field = `subjects[${i}]`;
    if ((str(subject.name) ?? '') === '') errs.push({ type: 'FieldValueRequired', field: `${field}.name` });
    const kind = subject.kind;
    if (kind === 'ServiceAccount') {
      if (clusterScoped && (str(subject.namespace) ?? '') === '') {
        errs.push({ type: 'FieldValueRequired', field: `${field}.namespace` });
      }
    } else if (kind !== 'User' && kind !== 'Group') {
      errs.push({
        type: 'FieldValueNotSupported',
        field: `${field}.kind`,
        value: kind ?? '',
        supported: ['ServiceAccount', 'User', 'Group'],
      });
    }
  });
  return errs;
}

function ruleErrors(o: JsonObject): FieldError[] {
  const errs: FieldError[] = [];
  const rules = Array.isArray(o.rules) ? o.rules : [];
  rules.forEach((r, i) => {
    const rule = obj(r) ?? {};
    const verbs = Array.isArray(rule.verbs) ? rule.verbs : [];
    if (verbs.length === 0) {
      errs.push({
        type: 'FieldValueRequired',
        field: `rules[${i}].verbs`,
        detail: 'verbs must contain at least one value',
      });
    }
    const nonResourceURLs = Array.isArray(rule.nonResourceURLs) ? rule.nonResourceURLs : [];
    const apiGroups = Array.isArray(rule.apiGroups) ? rule.apiGroups : [];
    if (nonResourceURLs.length === 0 && apiGroups.length === 0) {
      errs.push({
        type: 'FieldValueRequired',
        field: `rules[${i}].apiGroups`,
        detail: 'resource rules must supply at least one api group',
      });
    }
  });
  return errs;
}

function secretErrors(o: JsonObject): FieldError[] {
  const errs = dataKeyErrors(obj(o.data), 'data');
  const data = obj(o.data) ?? {};
  let size = 0;
  for (const v of Object.values(data)) size += Buffer.from(String(v), 'base64').length;
  if (size > 1024 * 1024)
    errs.push({ type: 'FieldValueTooLong', field: 'data', detail: 'must have at most 1048576 bytes' });
  const required: Record<string, readonly string[]> = {
    'kubernetes.io/tls': ['tls.crt', 'tls.key'],
    'kubernetes.io/dockerconfigjson': ['.dockerconfigjson'],
    'kubernetes.io/dockercfg': ['.dockercfg'],
    'kubernetes.io/ssh-auth': ['ssh-privatekey'],
  };
  for (const key of required[String(o.type)] ?? []) {
    if (!Object.hasOwn(data, key)) errs.push({ type: 'FieldValueRequired', field: `data[${key}]` });
  }
  return errs;
}

function serviceErrors(o: JsonObject): FieldError[] {
  const errs: FieldError[] = [];
  const spec = obj(o.spec) ?? {};
  const type = spec.type;
  const types = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
  if (!types.includes(String(type))) {
    errs.push({ type: 'FieldValueNotSupported', field: 'spec.type', value: type ?? '', supported: types });
  }
  const ports = Array.isArray(spec.ports) ? spec.ports : [];
  if (ports.length === 0 && type !== 'ExternalName' && spec.clusterIP !== 'None') {
    errs.push({ type: 'FieldValueRequired', field: 'spec.ports' });
  }
  ports.forEach((p, i) => {
    const port = obj(p)?.port;
    if (typeof port !== 'number' || port < 1 || port > 65535) {
      errs.push({
        type: 'FieldValueInvalid',
        field: `spec.ports[${i}].port`,
        value: port ?? 0,
        detail: 'must be between 1 and 65535, inclusive',
      });
    }
    if (ports.length > 1 && (str(obj(p)?.name) ?? '') === '') {
      errs.push({ type: 'FieldValueRequired', field: `spec.ports[${i}].name` });
    }
  });
  if (type === 'ExternalName' && (str(spec.externalName) ?? '') === '') {
    errs.push({ type: 'FieldValueRequired', field: 'spec.externalName' });
  }
  return errs;
}

function leaseErrors(o: JsonObject): FieldError[] {
  const errs: FieldError[] = [];
  const spec = obj(o.spec) ?? {};
  const d = spec.leaseDurationSeconds;
  if (typeof d === 'number' && d <= 0) {
    errs.push({
      type: 'FieldValueInvalid',
      field: 'spec.leaseDurationSeconds',
      value: d,
      detail: 'must be greater than 0',
    });
  }
  const t = spec.leaseTransitions;
  if (typeof t === 'number' && t < 0) {
    errs.push({
      type: 'FieldValueInvalid',
      field: 'spec.leaseTransitions',
      value: t,
      detail: 'must be greater than or equal to 0',
    });
  }
  return errs;
}

/** Validation of a new object (create) or of the result of an update. */
export function validate(def: ResourceDefinition, o: JsonObject): FieldError[] {
  const errs = metadataErrors(def, obj(o.metadata) ?? {});
  switch (def.kind) {
    case 'Deployment':
      errs.push(...deploymentErrors(o));
      break;
    case 'Secret':
      errs.push(...secretErrors(o));
      break;
    case 'ConfigMap':
      errs.push(...dataKeyErrors(obj(o.data), 'data'), ...dataKeyErrors(obj(o.binaryData), 'binaryData'));
      break;
    case 'ClusterRoleBinding':
      errs.push(...bindingErrors(o, true));
      break;
    case 'RoleBinding':
      errs.push(...bindingErrors(o, false));
      break;
    case 'ClusterRole':
    case 'Role':
      errs.push(...ruleErrors(o));
      break;
    case 'Service':
      errs.push(...serviceErrors(o));
      break;
    case 'Lease':
      errs.push(...leaseErrors(o));
      break;
    default:
      break;
  }
  return errs;
}

function goLabelSelector(selector: Json | undefined): string {
  const s = obj(selector) ?? {};
  const labels = obj(s.matchLabels);
  const ml = labels
    ? `map[string]string{${Object.entries(labels)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`)
        .join(', ')}}`
    : 'map[string]string(nil)';
  const me =
    Array.isArray(s.matchExpressions) && s.matchExpressions.length > 0
      ? `[]v1.LabelSelectorRequirement{…}`
      : '[]v1.LabelSelectorRequirement(nil)';
  return `v1.LabelSelector{MatchLabels:${ml}, MatchExpressions:${me}}`;
}

/** Extra checks on updates: immutable fields. */
export function validateUpdate(def: ResourceDefinition, next: JsonObject, old: JsonObject): FieldError[] {
  const errs: FieldError[] = [];
  const immutable = (field: string, a: Json | undefined, b: Json | undefined, shown: unknown): void => {
    if (!deepEqual(a, b))
      errs.push({ type: 'FieldValueInvalid', field, value: shown, detail: 'field is immutable' });
  };
  switch (def.kind) {
    case 'Deployment': {
      const sel = obj(next.spec)?.selector;
      immutable('spec.selector', sel, obj(old.spec)?.selector, new GoValue(goLabelSelector(sel)));
      break;
    }
    case 'Secret':
    case 'ConfigMap': {
      if (def.kind === 'Secret') immutable('type', next.type, old.type, next.type);
      if (old.immutable === true) {
        if (!deepEqual(next.data, old.data)) {
          errs.push({
            type: 'FieldValueForbidden',
            field: 'data',
            detail: 'field is immutable when `immutable` is set',
          });
        }
        if (def.kind === 'ConfigMap' && !deepEqual(next.binaryData, old.binaryData)) {
          errs.push({
            type: 'FieldValueForbidden',
            field: 'binaryData',
            detail: 'field is immutable when `immutable` is set',
          });
        }
        if (next.immutable !== true) {
          errs.push({
            type: 'FieldValueForbidden',
            field: 'immutable',
            detail: 'field is immutable when `immutable` is set',
          });
        }
      }
      break;
    }
    case 'ClusterRoleBinding':
    case 'RoleBinding': {
      const r = obj(next.roleRef) ?? {};
      if (!deepEqual(next.roleRef, old.roleRef)) {
        errs.push({
          type: 'FieldValueInvalid',
          field: 'roleRef',
          value: new GoValue(
            `rbac.RoleRef{APIGroup:${JSON.stringify(r.apiGroup ?? '')}, Kind:${JSON.stringify(r.kind ?? '')}, Name:${JSON.stringify(r.name ?? '')}}`,
          ),
          detail: 'cannot change roleRef',
        });
      }
      break;
    }
    case 'Service': {
      const a = obj(next.spec)?.clusterIP;
      const b = obj(old.spec)?.clusterIP;
      if (b !== undefined && a !== b) immutable('spec.clusterIPs[0]', a, b, a);
      break;
    }
    default:
      break;
  }
  return errs;
}
