/**
 * The object store: one global resourceVersion counter (like etcd's revision), objects keyed like
 * etcd keys (`<group>/<resource>/<namespace>/<name>`, so lists come back in the real order), and a
 * bounded event history for watches.
 * @internal
 */

import { clone, type JsonObject, obj } from './json.js';
import type { ResourceDefinition } from './resources.js';

/** A watch event type. */
export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** A change recorded by the store. */
export interface StoreEvent {
  readonly rv: number;
  readonly type: EventType;
  readonly def: ResourceDefinition;
  /** The object after the change (for DELETED: the last state, carrying the deletion's resourceVersion). */
  readonly object: JsonObject;
  /** The object before the change (undefined for ADDED). */
  readonly previous?: JsonObject;
}

/** A watch subscription. */
export interface Subscription {
  readonly def: ResourceDefinition;
  readonly namespace?: string;
  readonly deliver: (event: StoreEvent) => void;
}

const HISTORY = 10_000;

function keyOf(def: ResourceDefinition, namespace: string | undefined, name: string): string {
  return `${def.group}/${def.plural}/${def.namespaced ? (namespace ?? '') : ''}/${name}`;
}

/** The store. */
export class Store {
  private revision = 1;
  private readonly objects = new Map<string, JsonObject>();
  private readonly history: StoreEvent[] = [];
  private readonly subscriptions = new Set<Subscription>();

  /** The current resourceVersion. */
  get resourceVersion(): number {
    return this.revision;
  }

  /** The oldest resourceVersion a watch can start from. */
  get oldestWatchable(): number {
    return this.history[0]?.rv ?? this.revision;
  }

  /** Allocates the next resourceVersion. */
  next(): number {
    this.revision += 1;
    return this.revision;
  }

  /** A copy of one object. */
  get(def: ResourceDefinition, namespace: string | undefined, name: string): JsonObject | undefined {
    const o = this.objects.get(keyOf(def, namespace, name));
    return o ? clone(o) : undefined;
  }

  /** Copies of the objects of one resource (one namespace or all), in key order. */
  list(def: ResourceDefinition, namespace?: string): JsonObject[] {
    const prefix = `${def.group}/${def.plural}/${def.namespaced && namespace !== undefined ? `${namespace}/` : ''}`;
    return [...this.objects.entries()]
      .filter(([k]) => k.startsWith(prefix))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, o]) => clone(o));
  }

  /** Every stored object (for inspection), in key order. */
  all(): JsonObject[] {
    return [...this.objects.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, o]) => clone(o));
  }

  /** Stores an object whose resourceVersion was set from {@link next}; emits ADDED or MODIFIED. */
  put(def: ResourceDefinition, object: JsonObject): void {
    const meta = obj(object.metadata) ?? {};
    const key = keyOf(def, meta.namespace as string | undefined, String(meta.name));
    const previous = this.objects.get(key);
    this.objects.set(key, clone(object));
    this.emit({
      rv: Number(meta.resourceVersion),
      type: previous ? 'MODIFIED' : 'ADDED',
      def,
      object: clone(object),
      ...(previous ? { previous: clone(previous) } : {}),
    });
  }

  /** Removes an object; emits DELETED with a new resourceVersion. */
  remove(def: ResourceDefinition, namespace: string | undefined, name: string): JsonObject | undefined {
    const key = keyOf(def, namespace, name);
    const previous = this.objects.get(key);
    if (!previous) return undefined;
    this.objects.delete(key);
    const rv = this.next();
    const last = clone(previous);
    (last.metadata as JsonObject).resourceVersion = String(rv);
    this.emit({ rv, type: 'DELETED', def, object: last, previous: clone(previous) });
    return previous;
  }

  /** Events after `rv` for one resource (undefined when `rv` is older than the history). */
  since(def: ResourceDefinition, rv: number): StoreEvent[] | undefined {
    if (rv < this.oldestWatchable - 1 && this.history.length >= HISTORY) return undefined;
    return this.history.filter((e) => e.rv > rv && e.def === def);
  }

  /** Subscribes to future events; returns the unsubscribe function. */
  subscribe(sub: Subscription): () => void {
    this.subscriptions.add(sub);
    return () => {
      this.subscriptions.delete(sub);
    };
  }

  private emit(event: StoreEvent): void {
    this.history.push(event);
    if (this.history.length > HISTORY) this.history.shift();
    for (const sub of [...this.subscriptions]) {
      if (sub.def !== event.def) continue;
      const ns = obj(event.object.metadata)?.namespace;
      if (sub.namespace !== undefined && ns !== sub.namespace) continue;
      sub.deliver(event);
    }
  }
}
