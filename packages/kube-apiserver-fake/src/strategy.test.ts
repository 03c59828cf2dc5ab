import { describe, expect, it } from 'vitest';
import { invalid } from './errors.js';
import type { JsonObject } from './json.js';
import { resources } from './resources.js';
import { applyDefaults, formatMicroTime, normalize, prepare, validate, validateUpdate } from './strategy.js';
import { humanDuration } from './table.js';

const def = (kind: string) => {
  const d = resources.find((r) => r.kind === kind);
  if (!d) throw new Error(kind);
  return d;
};

describe('normalisation', () => {
  it("drops nulls and empty maps/lists like Go's omitempty, but keeps empty structs", () => {
    const d = def('Deployment');
    const out = normalize(
      {
        metadata: { name: 'x', labels: {}, annotations: null, finalizers: [] },
        spec: {
          template: { spec: { securityContext: {}, containers: [{ name: 'c', resources: {}, env: [] }] } },
        },
      },
      d.schema,
    );
    expect(out).toEqual({
      metadata: { name: 'x' },
      spec: { template: { spec: { securityContext: {}, containers: [{ name: 'c', resources: {} }] } } },
    });
  });

  it('formats times like metav1.Time and metav1.MicroTime', () => {
    expect(formatMicroTime('2030-01-02T03:04:05.1Z')).toBe('2030-01-02T03:04:05.100000Z');
    expect(formatMicroTime('2030-01-02T03:04:05Z')).toBe('2030-01-02T03:04:05.000000Z');
  });
});

describe('defaults and preparation', () => {
  it('defaults deployments and their pod templates', () => {
    const o: JsonObject = {
      spec: {
        template: {
          spec: {
            containers: [
              {
                name: 'c',
                image: 'nginx',
                ports: [{ containerPort: 80 }],
                readinessProbe: { httpGet: { port: 80 } },
              },
            ],
          },
        },
      },
    };
    applyDefaults(def('Deployment'), o);
    expect(o.spec).toMatchObject({
      replicas: 1,
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
      template: {
        spec: {
          restartPolicy: 'Always',
          dnsPolicy: 'ClusterFirst',
          schedulerName: 'default-scheduler',
          terminationGracePeriodSeconds: 30,
          securityContext: {},
          containers: [
            {
              imagePullPolicy: 'Always',
              terminationMessagePath: '/dev/termination-log',
              ports: [{ containerPort: 80, protocol: 'TCP' }],
              readinessProbe: { httpGet: { port: 80, scheme: 'HTTP' }, timeoutSeconds: 1, periodSeconds: 10 },
            },
          ],
        },
      },
    });
  });

  it('folds Secret stringData into data and labels namespaces with their name', () => {
    const secret: JsonObject = {
      metadata: { name: 's' },
      data: { a: 'eA==' },
      stringData: { a: 'overrides', b: 'ü' },
    };
    prepare(def('Secret'), secret);
    expect(secret).toEqual({ metadata: { name: 's' }, data: { a: 'b3ZlcnJpZGVz', b: 'w7w=' } });
    const ns: JsonObject = { metadata: { name: 'team-a' } };
    prepare(def('Namespace'), ns);
    expect(ns.metadata).toEqual({ name: 'team-a', labels: { 'kubernetes.io/metadata.name': 'team-a' } });
  });
});

describe('validation', () => {
  it('validates names per kind', () => {
    expect(validate(def('Namespace'), { metadata: { name: 'has.dot' } })[0]?.field).toBe('metadata.name');
    expect(validate(def('ConfigMap'), { metadata: { name: 'has.dot' } })).toEqual([]);
    expect(
      validate(def('Service'), {
        metadata: { name: '1abc' },
        spec: { type: 'ClusterIP', ports: [{ port: 80 }] },
      })[0]?.detail,
    ).toMatch(/DNS-1035/);
    expect(validate(def('ClusterRole'), { metadata: { name: 'system:controller:x' }, rules: [] })).toEqual(
      [],
    );
    expect(
      validate(def('ConfigMap'), { metadata: { name: 'x', labels: { 'bad key': 'v' } } })[0]?.field,
    ).toBe('metadata.labels');
  });

  it('renders 422 messages the way the API server does', () => {
    const errs = validate(def('Lease'), { metadata: { name: 'l' }, spec: { leaseDurationSeconds: 0 } });
    expect(invalid('coordination.k8s.io', 'Lease', 'l', errs).message).toBe(
      'Lease.coordination.k8s.io "l" is invalid: spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0',
    );
    const cm = validate(def('ConfigMap'), { metadata: { name: 'c' }, data: { 'bad key': 'x' } });
    expect(invalid('', 'ConfigMap', 'c', cm).message).toMatch(
      /^ConfigMap "c" is invalid: data\[bad key\]: Invalid value: "bad key": a valid config key must consist of/,
    );
  });

  it('rejects immutable changes', () => {
    const old = { metadata: { name: 's' }, type: 'Opaque', immutable: true, data: { a: 'eA==' } };
    const errs = validateUpdate(def('Secret'), { ...old, data: { a: 'eQ==' } }, old);
    expect(errs.map((e) => `${e.field}: ${e.detail}`)).toEqual([
      'data: field is immutable when `immutable` is set',
    ]);
    const d = { spec: { selector: { matchLabels: { app: 'a' } } } };
    expect(
      validateUpdate(def('Deployment'), { spec: { selector: { matchLabels: { app: 'b' } } } }, d)[0],
    ).toMatchObject({
      field: 'spec.selector',
      detail: 'field is immutable',
    });
  });
});

describe('human durations (Age column)', () => {
  it.each([
    [5_000, '5s'],
    [119_000, '119s'],
    [150_000, '2m30s'],
    [600_000, '10m'],
    [3 * 3600_000 + 60_000, '3h1m'],
    [30 * 3600_000, '30h'],
    [50 * 3600_000, '2d2h'],
    [400 * 24 * 3600_000, '400d'],
    [3 * 365 * 24 * 3600_000, '3y'],
    [-5_000, '<invalid>'],
  ])('%d ms → %s', (ms, text) => {
    expect(humanDuration(ms)).toBe(text);
  });
});
