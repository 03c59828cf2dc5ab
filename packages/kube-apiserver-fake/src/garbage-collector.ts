/**
 * The simulated garbage collector (kube-controller-manager's `garbagecollector`), as documented in
 * "Garbage Collection" and "Use Cascading Deletion" of the Kubernetes docs:
 *
 * - an owner deleted with `propagationPolicy: Foreground` keeps its `foregroundDeletion` finalizer
 *   (and stays readable with a `deletionTimestamp`) until its dependents are deleted;
 * - with `Orphan` it keeps the `orphan` finalizer until the owner references to it are removed from
 *   its dependents, which are left in place;
 * - with `Background` (or once it is gone) dependents whose owners are all gone are deleted.
 *
 * Dependents are objects whose `metadata.ownerReferences` name the owner's `uid`.
 * @internal
 */

import type { Api } from './api.js';
import type { Controllers } from './controllers.js';
import { isObject, type Json, type JsonObject, obj, str } from './json.js';
import { type ResourceDefinition, resources } from './resources.js';
import type { Store } from './store.js';

function ownerUids(o: JsonObject): string[] {
  const refs = obj(o.metadata)?.ownerReferences;
  return Array.isArray(refs) ? refs.filter(isObject).map((r) => String(r.uid)) : [];
}

function finalizersOf(o: JsonObject): Json[] {
  const f = obj(o.metadata)?.finalizers;
  return Array.isArray(f) ? f : [];
}

/** The garbage collector. */
export class GarbageCollector {
  constructor(
    private readonly store: Store,
    private readonly api: Api,
    private readonly controllers: Controllers,
    private readonly delayMs: () => number,
  ) {}

  /** After every committed write: owners being deleted with a GC finalizer get processed. */
  afterWrite(def: ResourceDefinition, object: JsonObject): void {
    const meta = obj(object.metadata) ?? {};
    if (meta.deletionTimestamp === undefined) return;
    const finalizers = finalizersOf(object);
    if (!finalizers.includes('foregroundDeletion') && !finalizers.includes('orphan')) return;
    const namespace = str(meta.namespace);
    const name = String(meta.name);
    this.controllers.schedule(this.delayMs(), () => this.processOwner(def, namespace, name));
  }

  /** After every removal: dependents left without any owner are deleted (background cascade). */
  afterRemove(_def: ResourceDefinition, object: JsonObject): void {
    const uid = str(obj(object.metadata)?.uid);
    if (uid === undefined) return;
    this.controllers.schedule(this.delayMs(), () => this.collectOrphansOf(uid));
  }

  private dependentsOf(uid: string): { def: ResourceDefinition; object: JsonObject }[] {
    const out: { def: ResourceDefinition; object: JsonObject }[] = [];
    for (const def of resources)
      for (const object of this.store.list(def))
        if (ownerUids(object).includes(uid)) out.push({ def, object });
    return out;
  }

  private existsUid(uid: string): boolean {
    return resources.some((def) => this.store.list(def).some((o) => str(obj(o.metadata)?.uid) === uid));
  }

  private processOwner(def: ResourceDefinition, namespace: string | undefined, name: string): void {
    const owner = this.store.get(def, namespace, name);
    if (!owner || obj(owner.metadata)?.deletionTimestamp === undefined) return;
    const uid = String(obj(owner.metadata)?.uid);
    const finalizers = finalizersOf(owner);
    const dependents = this.dependentsOf(uid);
    if (finalizers.includes('orphan')) {
      for (const d of dependents) {
        const m = obj(d.object.metadata) ?? {};
        this.api.writeMetadata(d.def, str(m.namespace), String(m.name), (meta) => {
          const refs = Array.isArray(meta.ownerReferences) ? meta.ownerReferences.filter(isObject) : [];
          const kept = refs.filter((r) => String(r.uid) !== uid);
          if (kept.length > 0) meta.ownerReferences = kept;
          else delete meta.ownerReferences;
        });
      }
      this.removeFinalizer(def, namespace, name, 'orphan');
      return;
    }
    if (finalizers.includes('foregroundDeletion')) {
      let remaining = 0;
      for (const d of dependents) {
        const m = obj(d.object.metadata) ?? {};
        if (m.deletionTimestamp === undefined)
          this.api.delete(d.def, str(m.namespace), String(m.name), { propagationPolicy: 'Foreground' });
        if (this.store.get(d.def, str(m.namespace), String(m.name))) remaining++;
      }
      if (remaining === 0) this.removeFinalizer(def, namespace, name, 'foregroundDeletion');
      else
        this.controllers.schedule(Math.max(10, this.delayMs()), () =>
          this.processOwner(def, namespace, name),
        );
    }
  }

  private removeFinalizer(
    def: ResourceDefinition,
    namespace: string | undefined,
    name: string,
    finalizer: string,
  ): void {
    this.api.writeMetadata(def, namespace, name, (meta) => {
      const kept = (Array.isArray(meta.finalizers) ? meta.finalizers : []).filter((f) => f !== finalizer);
      if (kept.length > 0) meta.finalizers = kept;
      else delete meta.finalizers;
    });
  }

  private collectOrphansOf(uid: string): void {
    for (const d of this.dependentsOf(uid)) {
      if (ownerUids(d.object).some((u) => this.existsUid(u))) continue;
      const m = obj(d.object.metadata) ?? {};
      if (m.deletionTimestamp === undefined)
        this.api.delete(d.def, str(m.namespace), String(m.name), { propagationPolicy: 'Background' });
    }
  }
}
