/**
 * Server-side apply and field ownership, on plain objects (no HTTP): the structured-merge-diff rules
 * the real API server follows.
 */

import { describe, expect, it } from 'vitest';
import { FieldSet, pathString } from './fieldpath.js';
import type { JsonObject } from './json.js';
import {
  apply,
  ConflictError,
  decodeManagers,
  encodeManagers,
  type FieldManagerContext,
  type Manager,
  update,
} from './managed-fields.js';
import { childOf, itemsOf, kindSchemas, type Schema } from './schema.js';
import { compareValues, mergeValues, removeItems, toFieldSet } from './typed.js';

const deploymentSchema = kindSchemas['apps/Deployment'] as NonNullable<
  (typeof kindSchemas)['apps/Deployment']
>;
const configMapSchema = kindSchemas['/ConfigMap'] as NonNullable<(typeof kindSchemas)['/ConfigMap']>;

function ctx(
  manager: string,
  schema = deploymentSchema,
  ignored = FieldSet.of([{ f: 'status' }]),
): FieldManagerContext {
  return { schema, ignored, manager, apiVersion: 'apps/v1', now: '2030-01-01T00:00:00Z' };
}

function deployment(replicas: number, containers: JsonObject[]): JsonObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'd', namespace: 'n' },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'd' } },
      template: { metadata: { labels: { app: 'd' } }, spec: { containers } },
    },
  };
}

const sets = (managers: readonly Manager[]): Record<string, string[]> =>
  Object.fromEntries(managers.map((m) => [`${m.manager}/${m.operation}`, m.set.paths().map(pathString)]));

describe('field sets of applied configurations', () => {
  it('owns leaves, atomic fields and list items (with "."), not intermediate structs', () => {
    const set = toFieldSet(
      deployment(2, [{ name: 'c', image: 'i', ports: [{ containerPort: 80 }] }]),
      deploymentSchema,
    );
    expect(set.toFieldsV1()).toEqual({
      'f:apiVersion': {},
      'f:kind': {},
      'f:metadata': { 'f:name': {}, 'f:namespace': {} },
      'f:spec': {
        'f:replicas': {},
        'f:selector': {},
        'f:template': {
          'f:metadata': { 'f:labels': { 'f:app': {} } },
          'f:spec': {
            'f:containers': {
              'k:{"name":"c"}': {
                '.': {},
                'f:image': {},
                'f:name': {},
                // The key defaults the protocol, like the real server (TCP).
                'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } },
              },
            },
          },
        },
      },
    });
  });

  it('compares objects field by field; new maps and items are added as nodes', () => {
    const cmp = compareValues(
      { data: { a: '1' } },
      { data: { a: '2', b: '3' }, metadata: { labels: { x: 'y' } } },
      configMapSchema,
    );
    expect(cmp.modified.paths().map(pathString)).toEqual(['.data.a']);
    expect(cmp.added.paths().map(pathString)).toEqual([
      '.data.b',
      '.metadata',
      '.metadata.labels',
      '.metadata.labels.x',
    ]);
    expect(cmp.removed.isEmpty()).toBe(true);
  });

  it('merges associative lists by key and keeps the live order', () => {
    const merged = mergeValues(
      {
        env: [
          { name: 'A', value: '1' },
          { name: 'B', value: '2' },
        ],
      },
      {
        env: [
          { name: 'C', value: '3' },
          { name: 'A', value: 'x' },
        ],
      },
      itemsOf(
        ['spec', 'template', 'spec', 'containers'].reduce<Schema>(
          (s, k) => childOf(s, k).schema,
          deploymentSchema,
        ),
      ),
    );
    expect(merged).toEqual({
      env: [
        { name: 'C', value: '3' },
        { name: 'A', value: 'x' },
        { name: 'B', value: '2' },
      ],
    });
  });

  it('removes fields and empties maps away', () => {
    const out = removeItems(
      { data: { a: '1' }, metadata: { name: 'x' } },
      FieldSet.of([{ f: 'data' }, { f: 'a' }]),
      configMapSchema,
    );
    expect(out).toEqual({ metadata: { name: 'x' } });
  });
});

describe('apply', () => {
  const empty: JsonObject = {
    metadata: {},
    spec: { template: { metadata: {}, spec: { containers: null } }, strategy: {} },
    status: {},
  };

  it('creates, then re-applies as a no-op with the same ownership', () => {
    const config = deployment(2, [{ name: 'c', image: 'i' }]);
    const first = apply(empty, config, [], ctx('zk'), false);
    expect(sets(first.managers)['zk/Apply']).toContain('.spec.replicas');
    expect(sets(first.managers)['zk/Apply']).not.toContain('.metadata.name');
    const second = apply(first.object, config, first.managers, ctx('zk'), false);
    expect(second.object).toEqual(first.object);
    expect(sets(second.managers)).toEqual(sets(first.managers));
  });

  it('conflicts with other appliers and updaters that own a changed field; co-owns equal values', () => {
    const base = apply(empty, deployment(2, [{ name: 'c', image: 'i' }]), [], ctx('zk'), false);
    const withUpdater = update(
      base.object,
      { ...base.object, spec: { ...(base.object.spec as JsonObject), paused: true } },
      base.managers,
      ctx('kubectl-edit'),
    );
    let error: unknown;
    try {
      apply(
        base.object,
        {
          ...deployment(3, [{ name: 'c', image: 'i' }]),
          spec: { ...(deployment(3, [{ name: 'c', image: 'i' }]).spec as JsonObject), paused: false },
        },
        withUpdater,
        ctx('hpa'),
        false,
      );
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as ConflictError).message).toBe(
      'Apply failed with 2 conflicts: conflicts with "kubectl-edit" using apps/v1:\n- .spec.paused\nconflicts with "zk":\n- .spec.replicas',
    );
    const coOwned = apply(
      base.object,
      deployment(2, [{ name: 'c', image: 'i' }]),
      base.managers,
      ctx('other'),
      false,
    );
    expect(sets(coOwned.managers)['other/Apply']).toContain('.spec.replicas');
    expect(sets(coOwned.managers)['zk/Apply']).toContain('.spec.replicas');
  });

  it('transfers ownership when forced', () => {
    const base = apply(empty, deployment(2, [{ name: 'c', image: 'i' }]), [], ctx('zk'), false);
    const forced = apply(
      base.object,
      deployment(5, [{ name: 'c', image: 'i' }]),
      base.managers,
      ctx('hpa'),
      true,
    );
    expect((forced.object.spec as JsonObject).replicas).toBe(5);
    expect(sets(forced.managers)['zk/Apply']).not.toContain('.spec.replicas');
    expect(sets(forced.managers)['hpa/Apply']).toContain('.spec.replicas');
  });

  it('prunes what the applier no longer applies unless another manager owns it', () => {
    const v1 = apply(
      empty,
      deployment(2, [
        { name: 'a', image: 'i' },
        { name: 'b', image: 'j' },
      ]),
      [],
      ctx('zk'),
      false,
    );
    const shared = apply(
      v1.object,
      { ...deployment(2, [{ name: 'b', image: 'j' }]) },
      v1.managers,
      ctx('other'),
      false,
    );
    const v2 = apply(
      shared.object,
      deployment(2, [{ name: 'c', image: 'k' }]),
      shared.managers,
      ctx('zk'),
      false,
    );
    const names = (
      (((v2.object.spec as JsonObject).template as JsonObject).spec as JsonObject).containers as JsonObject[]
    ).map((c) => c.name);
    // "a" was only ours: removed. "b" is still applied by "other": kept. "c" is new.
    expect(names).toEqual(['b', 'c']);
  });

  it('ignores reset fields (status) for ownership and conflicts', () => {
    const withStatus = { ...deployment(1, [{ name: 'c', image: 'i' }]), status: { replicas: 3 } };
    const r = apply(empty, withStatus, [], ctx('zk'), false);
    expect(sets(r.managers)['zk/Apply']?.some((p) => p.startsWith('.status'))).toBe(false);
  });
});

describe('update and managedFields encoding', () => {
  it('gives updaters what they added or changed, with "." for new maps, and takes it from others', () => {
    const old: JsonObject = { data: { a: '1' } };
    const managers = update({}, old, [], ctx('creator', configMapSchema, new FieldSet()));
    expect(managers[0]?.set.toFieldsV1()).toEqual({ 'f:data': { '.': {}, 'f:a': {} } });
    const next = update(old, { data: { a: '2' } }, managers, ctx('editor', configMapSchema, new FieldSet()));
    expect(sets(next)).toEqual({ 'creator/Update': ['.data'], 'editor/Update': ['.data.a'] });
  });

  it('encodes entries in the real order and decodes them back', () => {
    const m: Manager[] = [
      {
        manager: 'z',
        operation: 'Update',
        apiVersion: 'v1',
        time: '2030-01-01T00:00:00Z',
        set: FieldSet.of([{ f: 'data' }]),
      },
      {
        manager: 'b',
        operation: 'Update',
        apiVersion: 'v1',
        time: '2029-01-01T00:00:00Z',
        set: FieldSet.of([{ f: 'data' }]),
      },
      {
        manager: 'a',
        operation: 'Apply',
        apiVersion: 'v1',
        time: '2031-01-01T00:00:00Z',
        set: FieldSet.of([{ f: 'data' }]),
      },
    ];
    const encoded = encodeManagers(m);
    expect(encoded.map((e) => (e as JsonObject).manager)).toEqual(['a', 'b', 'z']);
    expect(encoded[0]).toEqual({
      manager: 'a',
      operation: 'Apply',
      apiVersion: 'v1',
      time: '2031-01-01T00:00:00Z',
      fieldsType: 'FieldsV1',
      fieldsV1: { 'f:data': {} },
    });
    expect(
      decodeManagers([{ ...(encoded[0] as JsonObject), time: '2031-01-01T00:00:00.000Z' }])[0]?.time,
    ).toBe('2031-01-01T00:00:00Z');
    expect(() => decodeManagers([{ manager: 'x', operation: 'Delete' }])).toThrow(
      /operation must be Apply or Update/,
    );
  });
});
