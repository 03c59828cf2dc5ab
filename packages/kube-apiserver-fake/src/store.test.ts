import { describe, expect, it } from 'vitest';
import type { JsonObject } from './json.js';
import { resources } from './resources.js';
import { Store, type StoreEvent } from './store.js';

const configMaps = resources.find((r) => r.kind === 'ConfigMap') as (typeof resources)[number];

function configMap(store: Store, namespace: string, name: string): JsonObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace, resourceVersion: String(store.next()) },
  };
}

describe('Store', () => {
  it('lists in etcd key order (namespace, then name) and returns copies', () => {
    const store = new Store();
    for (const [ns, name] of [
      ['b', 'x'],
      ['a', 'z'],
      ['a', 'y'],
    ] as const) {
      store.put(configMaps, configMap(store, ns, name));
    }
    const names = (list: JsonObject[]) =>
      list.map((o) => `${(o.metadata as JsonObject).namespace}/${(o.metadata as JsonObject).name}`);
    expect(names(store.list(configMaps))).toEqual(['a/y', 'a/z', 'b/x']);
    expect(names(store.list(configMaps, 'a'))).toEqual(['a/y', 'a/z']);
    const copy = store.get(configMaps, 'a', 'y') as JsonObject;
    (copy.metadata as JsonObject).name = 'changed';
    expect((store.get(configMaps, 'a', 'y')?.metadata as JsonObject | undefined)?.name).toBe('y');
  });

  it('records ADDED/MODIFIED/DELETED with increasing resourceVersions and notifies subscribers', () => {
    const store = new Store();
    const seen: StoreEvent[] = [];
    const unsubscribe = store.subscribe({ def: configMaps, namespace: 'n', deliver: (e) => seen.push(e) });
    store.put(configMaps, configMap(store, 'n', 'a'));
    store.put(configMaps, configMap(store, 'n', 'a'));
    store.put(configMaps, configMap(store, 'other', 'b'));
    store.remove(configMaps, 'n', 'a');
    unsubscribe();
    store.put(configMaps, configMap(store, 'n', 'c'));
    expect(seen.map((e) => e.type)).toEqual(['ADDED', 'MODIFIED', 'DELETED']);
    expect(seen.map((e) => e.rv)).toEqual([...seen.map((e) => e.rv)].sort((x, y) => x - y));
    const deleted = seen[2] as StoreEvent;
    expect((deleted.object.metadata as JsonObject).resourceVersion).toBe(String(deleted.rv));
    expect(store.since(configMaps, seen[0]?.rv as number)?.map((e) => e.type)).toEqual([
      'MODIFIED',
      'ADDED',
      'DELETED',
      'ADDED',
    ]);
  });

  it('forgets events beyond its 10 000-event history (watchers then get 410 Expired)', () => {
    const store = new Store();
    const first = store.resourceVersion;
    for (let i = 0; i < 10_050; i++) store.put(configMaps, configMap(store, 'n', `o${i % 10}`));
    expect(store.since(configMaps, first)).toBeUndefined();
    expect(store.since(configMaps, store.resourceVersion - 5)).toHaveLength(5);
  });
});
