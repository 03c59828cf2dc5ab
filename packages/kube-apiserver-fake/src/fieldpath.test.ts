import { describe, expect, it } from 'vitest';
import {
  compareElements,
  decodeElement,
  encodeElement,
  FieldSet,
  keyElement,
  type PathElement,
  pathString,
} from './fieldpath.js';

describe('path elements', () => {
  it('encode and decode the four FieldsV1 key forms', () => {
    const cases: [PathElement, string][] = [
      [{ f: 'spec' }, 'f:spec'],
      [
        keyElement([
          ['protocol', 'TCP'],
          ['containerPort', 80],
        ]),
        'k:{"containerPort":80,"protocol":"TCP"}',
      ],
      [{ v: 'example.com/finalizer' }, 'v:"example.com/finalizer"'],
      [{ i: 3 }, 'i:3'],
    ];
    for (const [pe, key] of cases) {
      expect(encodeElement(pe)).toBe(key);
      expect(decodeElement(key)).toEqual(pe);
    }
    expect(decodeElement('x:unknown')).toBeUndefined();
    expect(() => decodeElement('k:[1]')).toThrow(/invalid key/);
  });

  it('orders field names before keys, values and indexes; keys by field then value', () => {
    const sorted = [
      { i: 1 },
      { v: 'a' },
      keyElement([['name', 'b']]),
      { f: 'z' },
      keyElement([['name', 'a']]),
      { f: 'a' },
    ].sort(compareElements);
    expect(sorted.map(encodeElement)).toEqual([
      'f:a',
      'f:z',
      'k:{"name":"a"}',
      'k:{"name":"b"}',
      'v:"a"',
      'i:1',
    ]);
    expect(compareElements(keyElement([['port', 9]]), keyElement([['port', 10]]))).toBeLessThan(0);
  });

  it('prints paths the way conflict messages do', () => {
    expect(
      pathString([
        { f: 'spec' },
        { f: 'containers' },
        keyElement([['name', 'app']]),
        { f: 'ports' },
        keyElement([
          ['containerPort', 80],
          ['protocol', 'TCP'],
        ]),
      ]),
    ).toBe('.spec.containers[name="app"].ports[containerPort=80,protocol="TCP"]');
    expect(pathString([{ f: 'metadata' }, { f: 'finalizers' }, { v: 'x' }, { i: 0 }])).toBe(
      '.metadata.finalizers[="x"][0]',
    );
  });
});

describe('FieldSet', () => {
  const a = FieldSet.fromFieldsV1({
    'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
    'f:spec': {
      'f:replicas': {},
      'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"c"}': { '.': {}, 'f:image': {} } } } },
    },
  });

  it('round-trips FieldsV1 with "." first and sorted keys', () => {
    expect(JSON.stringify(a.toFieldsV1())).toBe(
      '{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:replicas":{},"f:template":{"f:spec":{"f:containers":{"k:{\\"name\\":\\"c\\"}":{".":{},"f:image":{}}}}}}}',
    );
    expect(a.has([{ f: 'metadata' }, { f: 'labels' }])).toBe(true);
    expect(a.has([{ f: 'metadata' }])).toBe(false);
    expect(a.paths().map(pathString)).toEqual([
      '.metadata.labels',
      '.metadata.labels.app',
      '.spec.replicas',
      '.spec.template.spec.containers[name="c"]',
      '.spec.template.spec.containers[name="c"].image',
    ]);
  });

  it('computes union, intersection, difference and recursive difference', () => {
    const b = FieldSet.of([{ f: 'spec' }, { f: 'replicas' }], [{ f: 'spec' }, { f: 'paused' }]);
    expect(a.intersection(b).paths().map(pathString)).toEqual(['.spec.replicas']);
    expect(b.difference(a).paths().map(pathString)).toEqual(['.spec.paused']);
    expect(a.union(b).has([{ f: 'spec' }, { f: 'paused' }])).toBe(true);
    const withoutSpec = a.recursiveDifference(FieldSet.of([{ f: 'spec' }]));
    expect(withoutSpec.paths().map(pathString)).toEqual(['.metadata.labels', '.metadata.labels.app']);
    // A plain difference only removes the member itself.
    expect(a.difference(FieldSet.of([{ f: 'spec' }])).equals(a)).toBe(true);
    expect(a.equals(FieldSet.fromFieldsV1(a.toFieldsV1()))).toBe(true);
    expect(new FieldSet().isEmpty()).toBe(true);
  });
});
