/**
 * Simulated controllers: the Deployment controller (rollout status and conditions after a delay, or
 * `ProgressDeadlineExceeded` when told to fail), the namespace lifecycle controller (contents deleted,
 * then the namespace removed) and the service-account controller (`default` in every namespace).
 * @internal
 */

import { createHash } from 'node:crypto';
import type { Api } from './api.js';
import { StatusError } from './errors.js';
import { child, isObject, type Json, type JsonObject, obj } from './json.js';
import { type ResourceDefinition, resources } from './resources.js';
import type { Store } from './store.js';
import { formatTime } from './strategy.js';

const namespaceDef = resources.find((r) => r.kind === 'Namespace') as ResourceDefinition;
const deploymentDef = resources.find((r) => r.kind === 'Deployment') as ResourceDefinition;
const serviceAccountDef = resources.find((r) => r.kind === 'ServiceAccount') as ResourceDefinition;
const SAFE = 'bcdfghjklmnpqrstvwxz2456789';

/** The pod-template-hash the real controller derives (a short, safe-alphabet hash of the template). */
export function templateHash(template: Json | undefined): string {
  const digest = createHash('sha256')
    .update(JSON.stringify(template ?? null))
    .digest();
  let out = '';
  for (let i = 0; i < 10; i++) out += SAFE[(digest[i] as number) % SAFE.length];
  return out;
}

function intOrPercent(value: Json | undefined, total: number, roundUp: boolean): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.endsWith('%')) {
    const pct = Number(value.slice(0, -1));
    const raw = (pct * total) / 100;
    return roundUp ? Math.ceil(raw) : Math.floor(raw);
  }
  return 0;
}

interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
}

function setConditions(status: JsonObject, wanted: readonly Condition[], now: string): void {
  const existing = Array.isArray(status.conditions) ? status.conditions.filter(isObject) : [];
  const out: JsonObject[] = [];
  for (const c of wanted) {
    const prev = existing.find((e) => e.type === c.type);
    const same = prev && prev.status === c.status && prev.reason === c.reason && prev.message === c.message;
    out.push({
      type: c.type,
      status: c.status,
      lastUpdateTime: same ? (prev.lastUpdateTime ?? now) : now,
      lastTransitionTime: prev && prev.status === c.status ? (prev.lastTransitionTime ?? now) : now,
      reason: c.reason,
      message: c.message,
    });
  }
  status.conditions = out;
}

/** Options of the controllers. */
export interface ControllerOptions {
  rolloutDelayMs: number;
  namespaceDeletionDelayMs: number;
  readonly defaultServiceAccounts: boolean;
}

/** The simulated controllers. */
export class Controllers {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly idleWaiters: (() => void)[] = [];
  private readonly failures = new Map<string, string>();
  private readonly revisions = new Map<string, { hash: string; revision: number }>();
  private stopped = false;
  private api: Api | undefined;

  constructor(
    private readonly store: Store,
    private readonly clock: () => Date,
    readonly options: ControllerOptions,
  ) {}

  /** Connects the API the controllers write through. */
  attach(api: Api): void {
    this.api = api;
  }

  /** Marks a Deployment's rollouts as failing (`Progressing=False` with `reason`). */
  failRollout(namespace: string, name: string, reason: string): void {
    this.failures.set(`${namespace}/${name}`, reason);
    if (this.store.get(deploymentDef, namespace, name)) this.scheduleRollout(namespace, name, true);
  }

  /** Lets a Deployment's rollouts succeed again. */
  recoverRollout(namespace: string, name: string): void {
    this.failures.delete(`${namespace}/${name}`);
    if (this.store.get(deploymentDef, namespace, name)) this.scheduleRollout(namespace, name, true);
  }

  /** Resolves once no controller work is pending. */
  settle(): Promise<void> {
    if (this.timers.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Cancels all pending work. */
  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.flushWaiters();
  }

  private flushWaiters(): void {
    if (this.timers.size > 0) return;
    for (const w of this.idleWaiters.splice(0)) w();
  }

  /** Runs `work` after `delayMs` as pending controller work ({@link Controllers.settle} waits for it). */
  schedule(delayMs: number, work: () => void): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      try {
        if (!this.stopped) work();
      } catch (error) {
        // A controller losing a race (object deleted, conflict) just skips this round.
        if (!(error instanceof StatusError)) throw error;
      } finally {
        this.flushWaiters();
      }
    }, delayMs);
    timer.unref();
    this.timers.add(timer);
  }

  // ------------------------------------------------------------------------------ hooks

  /** After every committed write. */
  afterWrite(def: ResourceDefinition, object: JsonObject, previous: JsonObject | undefined): void {
    const meta = obj(object.metadata) ?? {};
    if (def === deploymentDef) {
      const generationChanged = !previous || obj(previous.metadata)?.generation !== meta.generation;
      if (generationChanged && meta.deletionTimestamp === undefined) {
        this.scheduleRollout(String(meta.namespace), String(meta.name), false);
      }
    } else if (def === namespaceDef) {
      if (!previous && this.options.defaultServiceAccounts)
        this.createDefaultServiceAccount(String(meta.name));
      if (meta.deletionTimestamp !== undefined) {
        this.schedule(this.options.namespaceDeletionDelayMs, () => this.finalizeNamespace(String(meta.name)));
      }
    }
  }

  /** After every removal. */
  afterRemove(def: ResourceDefinition, object: JsonObject): void {
    const meta = obj(object.metadata) ?? {};
    if (def === deploymentDef) this.revisions.delete(String(meta.uid));
    if (def.namespaced && typeof meta.namespace === 'string') {
      const ns = this.store.get(namespaceDef, undefined, meta.namespace);
      if (ns && obj(ns.metadata)?.deletionTimestamp !== undefined) {
        const name = meta.namespace;
        this.schedule(0, () => this.finalizeNamespace(name));
      }
    }
  }

  // ------------------------------------------------------------------------------ namespaces

  private createDefaultServiceAccount(namespace: string): void {
    if (!this.api || this.store.get(serviceAccountDef, namespace, 'default')) return;
    this.api.create(
      serviceAccountDef,
      namespace,
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace } },
      { fieldManager: 'kube-controller-manager' },
    );
  }

  private finalizeNamespace(name: string): void {
    const api = this.api;
    if (!api) return;
    const ns = this.store.get(namespaceDef, undefined, name);
    if (!ns || obj(ns.metadata)?.deletionTimestamp === undefined) return;
    let remaining = 0;
    for (const def of resources) {
      if (!def.namespaced) continue;
      for (const o of this.store.list(def, name)) {
        const m = obj(o.metadata) ?? {};
        if (m.deletionTimestamp === undefined)
          api.delete(def, name, String(m.name), { propagationPolicy: 'Background' });
        if (this.store.get(def, name, String(m.name))) remaining++;
      }
    }
    const finalizers = obj(ns.metadata)?.finalizers;
    if (remaining === 0 && !(Array.isArray(finalizers) && finalizers.length > 0)) {
      api.removeNow(namespaceDef, undefined, name);
    }
  }

  // ------------------------------------------------------------------------------ deployments

  private scheduleRollout(namespace: string, name: string, force: boolean): void {
    const d = this.store.get(deploymentDef, namespace, name);
    if (!d) return;
    const generation = obj(d.metadata)?.generation;
    const stillCurrent = (): JsonObject | undefined => {
      const current = this.store.get(deploymentDef, namespace, name);
      if (!current || obj(current.metadata)?.deletionTimestamp !== undefined) return undefined;
      if (!force && obj(current.metadata)?.generation !== generation) return undefined;
      return current;
    };
    this.schedule(0, () => {
      if (stillCurrent()) this.observe(namespace, name);
    });
    this.schedule(this.options.rolloutDelayMs, () => {
      if (stillCurrent()) this.complete(namespace, name);
    });
  }

  private revisionOf(d: JsonObject): { hash: string; revision: number } {
    const uid = String(obj(d.metadata)?.uid);
    const hash = templateHash(obj(d.spec)?.template);
    const prev = this.revisions.get(uid);
    if (prev?.hash === hash) return prev;
    const next = { hash, revision: (prev?.revision ?? 0) + 1 };
    this.revisions.set(uid, next);
    return next;
  }

  private observe(namespace: string, name: string): void {
    this.api?.writeStatus(deploymentDef, namespace, name, (d) => {
      const now = formatTime(this.clock());
      const spec = obj(d.spec) ?? {};
      const meta = obj(d.metadata) ?? {};
      const desired = typeof spec.replicas === 'number' ? spec.replicas : 1;
      const { hash, revision } = this.revisionOf(d);
      const annotations = child(meta, 'annotations');
      const firstRollout = annotations['deployment.kubernetes.io/revision'] === undefined;
      annotations['deployment.kubernetes.io/revision'] = String(revision);
      const status = child(d, 'status');
      const rsName = `${name}-${hash}`;
      status.observedGeneration = meta.generation ?? 1;
      if (spec.paused === true) {
        setConditions(
          status,
          [
            ...(Array.isArray(status.conditions)
              ? status.conditions
                  .filter(isObject)
                  .filter((c) => c.type === 'Available')
                  .map((c) => ({
                    type: 'Available',
                    status: String(c.status),
                    reason: String(c.reason),
                    message: String(c.message),
                  }))
              : []),
            {
              type: 'Progressing',
              status: 'Unknown',
              reason: 'DeploymentPaused',
              message: 'Deployment is paused',
            },
          ],
          now,
        );
        return;
      }
      const available = Math.min(
        typeof status.availableReplicas === 'number' ? status.availableReplicas : 0,
        desired,
      );
      const maxUnavailable = intOrPercent(
        obj(obj(spec.strategy)?.rollingUpdate)?.maxUnavailable,
        desired,
        false,
      );
      status.replicas = desired;
      status.updatedReplicas = desired;
      status.readyReplicas = available;
      status.availableReplicas = available;
      status.unavailableReplicas = desired - available;
      const minAvailable = available >= desired - maxUnavailable;
      setConditions(
        status,
        [
          minAvailable
            ? {
                type: 'Available',
                status: 'True',
                reason: 'MinimumReplicasAvailable',
                message: 'Deployment has minimum availability.',
              }
            : {
                type: 'Available',
                status: 'False',
                reason: 'MinimumReplicasUnavailable',
                message: 'Deployment does not have minimum availability.',
              },
          firstRollout
            ? {
                type: 'Progressing',
                status: 'True',
                reason: 'NewReplicaSetCreated',
                message: `Created new replica set "${rsName}"`,
              }
            : {
                type: 'Progressing',
                status: 'True',
                reason: 'ReplicaSetUpdated',
                message: `ReplicaSet "${rsName}" is progressing.`,
              },
        ],
        now,
      );
      cleanStatus(status);
    });
  }

  private complete(namespace: string, name: string): void {
    const failure = this.failures.get(`${namespace}/${name}`);
    this.api?.writeStatus(deploymentDef, namespace, name, (d) => {
      const spec = obj(d.spec) ?? {};
      if (spec.paused === true) return;
      const now = formatTime(this.clock());
      const meta = obj(d.metadata) ?? {};
      const desired = typeof spec.replicas === 'number' ? spec.replicas : 1;
      const { hash } = this.revisionOf(d);
      const rsName = `${name}-${hash}`;
      const status = child(d, 'status');
      status.observedGeneration = meta.generation ?? 1;
      status.replicas = desired;
      status.updatedReplicas = desired;
      if (failure !== undefined) {
        const available = Math.min(
          typeof status.availableReplicas === 'number' ? status.availableReplicas : 0,
          desired,
        );
        status.readyReplicas = available;
        status.availableReplicas = available;
        status.unavailableReplicas = desired - available;
        const maxUnavailable = intOrPercent(
          obj(obj(spec.strategy)?.rollingUpdate)?.maxUnavailable,
          desired,
          false,
        );
        setConditions(
          status,
          [
            available >= desired - maxUnavailable
              ? {
                  type: 'Available',
                  status: 'True',
                  reason: 'MinimumReplicasAvailable',
                  message: 'Deployment has minimum availability.',
                }
              : {
                  type: 'Available',
                  status: 'False',
                  reason: 'MinimumReplicasUnavailable',
                  message: 'Deployment does not have minimum availability.',
                },
            {
              type: 'Progressing',
              status: 'False',
              reason: failure,
              message:
                failure === 'ProgressDeadlineExceeded'
                  ? `ReplicaSet "${rsName}" has timed out progressing.`
                  : `ReplicaSet "${rsName}" failed to progress: ${failure}`,
            },
          ],
          now,
        );
      } else {
        status.readyReplicas = desired;
        status.availableReplicas = desired;
        status.unavailableReplicas = 0;
        setConditions(
          status,
          [
            {
              type: 'Available',
              status: 'True',
              reason: 'MinimumReplicasAvailable',
              message: 'Deployment has minimum availability.',
            },
            {
              type: 'Progressing',
              status: 'True',
              reason: 'NewReplicaSetAvailable',
              message: `ReplicaSet "${rsName}" has successfully progressed.`,
            },
          ],
          now,
        );
      }
      cleanStatus(status);
    });
  }
}

/** The real status omits zero counts (omitempty). */
function cleanStatus(status: JsonObject): void {
  for (const k of [
    'replicas',
    'updatedReplicas',
    'readyReplicas',
    'availableReplicas',
    'unavailableReplicas',
  ]) {
    if (status[k] === 0) delete status[k];
  }
}
