import { describe, expect, it } from 'vitest';
import type { JsonObject } from './json.js';
import {
  applyJsonPatch,
  applyMergePatch,
  applyStrategicMergePatch,
  decodeJsonPatch,
  PatchApplyError,
  PatchDecodeError,
} from './patch.js';
import { kindSchemas } from './schema.js';

const deploymentSchema = kindSchemas['apps/Deployment'] as NonNullable<
  (typeof kindSchemas)['apps/Deployment']
>;

describe('JSON patch (RFC 6902)', () => {
  const doc: JsonObject = { a: { b: [1, 2, 3] }, 'x/y': 1, 't~': 2 };

  it('applies add, remove, replace, move, copy and test', () => {
    const out = applyJsonPatch(
      doc,
      decodeJsonPatch([
        { op: 'add', path: '/a/b/-', value: 4 },
        { op: 'add', path: '/a/b/0', value: 0 },
        { op: 'remove', path: '/a/b/1' },
        { op: 'replace', path: '/x~1y', value: 'slash' },
        { op: 'copy', from: '/a/b', path: '/c' },
        { op: 'move', from: '/t~0', path: '/t' },
        { op: 'test', path: '/t', value: 2 },
      ]),
    );
    expect(out).toEqual({ a: { b: [0, 2, 3, 4] }, 'x/y': 'slash', c: [0, 2, 3, 4], t: 2 });
    expect(doc).toEqual({ a: { b: [1, 2, 3] }, 'x/y': 1, 't~': 2 });
  });

  it('rejects object bodies (400) and operations that do not apply (422)', () => {
    expect(() => decodeJsonPatch({ op: 'add' })).toThrow(
      new PatchDecodeError('json: cannot unmarshal object into Go value of type jsonpatch.Patch'),
    );
    expect(() => applyJsonPatch(doc, [{ op: 'replace', path: '/missing', value: 1 }])).toThrow(
      PatchApplyError,
    );
    expect(() => applyJsonPatch(doc, [{ op: 'test', path: '/x~1y', value: 2 }])).toThrow(
      'testing value /x~1y failed: test failed',
    );
    expect(() => applyJsonPatch(doc, [{ op: 'remove', path: '/a/b/9' }])).toThrow(PatchApplyError);
    expect(() => applyJsonPatch(doc, [{ op: 'jump', path: '/a' }])).toThrow('Unexpected kind: jump');
  });
});

describe('merge patch (RFC 7386)', () => {
  it('merges objects recursively, deletes nulls and replaces arrays', () => {
    expect(
      applyMergePatch({ a: 'b', c: { d: 'e', f: 'g' }, l: [1, 2] }, { a: 'z', c: { f: null }, l: [3] }),
    ).toEqual({
      a: 'z',
      c: { d: 'e' },
      l: [3],
    });
    expect(applyMergePatch({ a: 1 }, ['x'])).toEqual(['x']);
  });
});

describe('strategic merge patch', () => {
  const live: JsonObject = {
    metadata: { finalizers: ['a'], labels: { x: '1' } },
    spec: {
      selector: { matchLabels: { app: 'd', old: 'y' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%' } },
      template: {
        spec: {
          containers: [
            {
              name: 'app',
              image: 'a:1',
              args: ['--one'],
              env: [{ name: 'A', value: '1' }],
              ports: [{ containerPort: 80, protocol: 'TCP' }],
              volumeMounts: [{ name: 'v', mountPath: '/data' }],
            },
          ],
          volumes: [{ name: 'v', emptyDir: {} }],
        },
      },
    },
  };

  it('merges containers, env, ports and volumeMounts by key; replaces atomic lists and maps', () => {
    const out = applyStrategicMergePatch(
      live,
      {
        metadata: { finalizers: ['b', 'a'] },
        spec: {
          selector: { matchLabels: { app: 'd' } },
          template: {
            spec: {
              containers: [
                {
                  name: 'app',
                  args: ['--two'],
                  env: [{ name: 'B', value: '2' }],
                  ports: [{ containerPort: 8080 }],
                  volumeMounts: [{ name: 'v', mountPath: '/data', readOnly: true }],
                },
              ],
            },
          },
        },
      },
      deploymentSchema,
    ) as JsonObject;
    const container = (
      (((out.spec as JsonObject).template as JsonObject).spec as JsonObject).containers as JsonObject[]
    )[0] as JsonObject;
    expect(container).toEqual({
      name: 'app',
      image: 'a:1',
      args: ['--two'],
      env: [
        { name: 'A', value: '1' },
        { name: 'B', value: '2' },
      ],
      ports: [{ containerPort: 80, protocol: 'TCP' }, { containerPort: 8080 }],
      volumeMounts: [{ name: 'v', mountPath: '/data', readOnly: true }],
    });
    expect((out.metadata as JsonObject).finalizers).toEqual(['a', 'b']);
    // LabelSelector is atomic: replaced, not merged.
    expect((out.spec as JsonObject).selector).toEqual({ matchLabels: { app: 'd' } });
  });

  it('supports $patch: delete/replace, $retainKeys, $setElementOrder and $deleteFromPrimitiveList', () => {
    const out = applyStrategicMergePatch(
      live,
      {
        metadata: { '$deleteFromPrimitiveList/finalizers': ['a'], labels: { $patch: 'replace', y: '2' } },
        spec: {
          strategy: { $retainKeys: ['type'], type: 'Recreate' },
          template: {
            spec: {
              '$setElementOrder/containers': [{ name: 'side' }, { name: 'app' }],
              containers: [{ name: 'side', image: 's:1' }],
              volumes: [{ name: 'v', $patch: 'delete' }],
            },
          },
        },
      } as unknown as JsonObject,
      deploymentSchema,
    ) as JsonObject;
    expect(out.metadata).toEqual({ finalizers: [], labels: { y: '2' } });
    const spec = out.spec as JsonObject;
    expect(spec.strategy).toEqual({ type: 'Recreate' });
    const podSpec = (spec.template as JsonObject).spec as JsonObject;
    expect((podSpec.containers as JsonObject[]).map((c) => c.name)).toEqual(['side', 'app']);
    expect(podSpec.volumes).toEqual([]);
  });

  it('deletes fields set to null and rejects items without their merge key', () => {
    const out = applyStrategicMergePatch(
      live,
      { metadata: { labels: null } },
      deploymentSchema,
    ) as JsonObject;
    expect(out.metadata).toEqual({ finalizers: ['a'] });
    expect(() =>
      applyStrategicMergePatch(
        live,
        { spec: { template: { spec: { containers: [{ image: 'x' }] } } } },
        deploymentSchema,
      ),
    ).toThrow('does not contain declared merge key: name');
  });
});
