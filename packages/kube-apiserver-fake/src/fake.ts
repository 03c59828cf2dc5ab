/**
 * `startKubernetesFake()`: the in-process, wire-level Kubernetes API server fake and its test
 * helpers.
 * @internal
 */

import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  type ErrorCode,
  ErrorCodes,
  type KubernetesObject,
  type ObjectRef,
  ZonekeeperError,
} from '@zonekeeper/core';
import { Api } from './api.js';
import { Controllers } from './controllers.js';
import { StatusError } from './errors.js';
import { GarbageCollector } from './garbage-collector.js';
import { clone, isObject, type Json, obj, str } from './json.js';
import { buildKubeconfig, type Kubeconfig, type KubeconfigOptions } from './kubeconfig.js';
import type { PodLogSource } from './pod-logs.js';
import { groupVersion, type ResourceDefinition, resourceForKind, resources } from './resources.js';
import { matchesLabels, parseLabelSelector } from './selectors.js';
import { type KubernetesRequestRecord, RequestHandler } from './server.js';
import { Store } from './store.js';
import { selfSignedCertificate } from './tls.js';

/** Options of {@link startKubernetesFake}. @public */
export interface KubernetesFakeOptions {
  /** Bearer token clients must send. Default: a random token. */
  readonly token?: string;
  /**
   * Serve HTTPS with a self-signed certificate (exposed as {@link KubernetesFake.ca} and written into
   * the kubeconfig). Default true: kubectl (client-go) never sends bearer tokens to `http://` servers.
   * With `false` the fake serves plain HTTP (fine for `@kubernetes/client-node`).
   */
  readonly tls?: boolean;
  /**
   * Accept requests without an `Authorization` header as an anonymous administrator (a wrong token is
   * still 401). Default false. Useful for kubectl against a plain-HTTP fake.
   */
  readonly allowAnonymous?: boolean;
  /** TCP port on 127.0.0.1. Default 0 (a free port). */
  readonly port?: number;
  /** Delay before the simulated Deployment controller reports a rollout complete (or failed). Default 50 ms; 0 allowed. */
  readonly rolloutDelayMs?: number;
  /**
   * How long a deleted namespace stays `Terminating` before its contents are removed and it
   * disappears (creating inside it meanwhile is a 403, as on a real cluster). Default 200 ms; 0 allowed.
   */
  readonly namespaceDeletionDelayMs?: number;
  /**
   * Delay of the simulated garbage collector: foreground and orphan deletions finish (their finalizer
   * is removed) and dependents of deleted owners go after it. Default 0 ms (still asynchronous: the
   * DELETE answers the object with its finalizer, as a real server does).
   */
  readonly garbageCollectionDelayMs?: number;
  /** Namespaces that exist at start. Default `default`, `kube-system`, `kube-public`, `kube-node-lease`. */
  readonly namespaces?: readonly string[];
  /** Create the `default` ServiceAccount in every new namespace, like the real controller. Default true. */
  readonly defaultServiceAccounts?: boolean;
  /** Time source for timestamps (creationTimestamp, managedFields, conditions). Default: the system clock. */
  readonly clock?: () => Date;
}

/** Selects objects for {@link KubernetesFake.objects}. @public */
export interface KubernetesObjectFilter {
  /** e.g. `apps/v1`. */
  readonly apiVersion?: string;
  /** e.g. `Deployment`. */
  readonly kind?: string;
  /** Only namespaced objects of this namespace. */
  readonly namespace?: string;
  /** A label selector such as `app=x,tier!=db`. */
  readonly labelSelector?: string;
}

/** Options of {@link KubernetesFake.put}. @public */
export interface PutOptions {
  /** Manager the seeded fields are attributed to (operation Update). Default `zonekeeper-testkit`. */
  readonly fieldManager?: string;
}

/** A running Kubernetes API server fake. @public */
export interface KubernetesFake extends AsyncDisposable {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  readonly endpoint: string;
  /** The bearer token clients must send. */
  readonly token: string;
  /** PEM certificate of the HTTPS server (its own CA); `undefined` when serving plain HTTP. */
  readonly ca: string | undefined;
  /** A kubeconfig for this server (object, YAML, and `loadFromOptions` shape). */
  kubeconfig(options?: KubeconfigOptions): Kubeconfig;
  /** Writes the kubeconfig YAML to `<dir>/kubeconfig` (mode 0600) and returns the path. */
  writeKubeconfig(dir: string, options?: KubeconfigOptions): Promise<string>;
  /** Stored objects (deep copies with `apiVersion`/`kind`), in etcd key order. */
  objects(filter?: KubernetesObjectFilter): KubernetesObject[];
  /** One stored object, or `undefined`. */
  get(ref: ObjectRef): KubernetesObject | undefined;
  /**
   * Seeds state: creates or replaces an object through the normal write path (defaults, validation,
   * managedFields, controllers). A missing namespace is created. Returns the stored object. Throws a
   * `ZonekeeperError` (`INVALID_INPUT` for unserved kinds and invalid objects, `CONFLICT`, …) whose
   * `details.status` is the API server's `Status`.
   */
  put(object: KubernetesObject, options?: PutOptions): KubernetesObject;
  /** Deletes an object as a client would (finalizers and namespace lifecycle apply); `false` when absent. */
  delete(ref: ObjectRef): boolean;
  /**
   * Makes this Deployment's rollouts fail: the controller reports `Progressing=False` with `reason`
   * (default `ProgressDeadlineExceeded`). Applies to the current rollout if the Deployment exists.
   */
  failRollout(namespace: string, name: string, reason?: string): void;
  /** Undoes {@link KubernetesFake.failRollout}: the next rollout of this Deployment succeeds. */
  recoverRollout(namespace: string, name: string): void;
  /** Sets the rollout delay of the simulated Deployment controller (ms, 0 allowed). */
  setRolloutDelay(ms: number): void;
  /** Resolves once the simulated controllers have no pending work (rollouts reported, namespaces gone). */
  settle(): Promise<void>;
  /**
   * Plays the kubelet for `GET …/pods/<name>/log` (`kubectl logs`): the source supplies each container's
   * lines. Without one (the default), or for a container the source does not know, a scheduled pod's log
   * is answered as a kubelet answers a container that has not started (400); an unscheduled pod's (no
   * `spec.nodeName`) is 204 No Content, as on a real server. `undefined` removes the source.
   */
  setPodLogs(source: PodLogSource | undefined): void;
  /** Every request served so far (never the token). */
  readonly requests: readonly KubernetesRequestRecord[];
  /** Empties the request log. */
  clearRequests(): void;
  /** TCP connections accepted so far (each a TLS handshake over HTTPS): shows whether clients reuse them. */
  readonly connections: number;
  /** Stops the server (ends watches and controllers). Idempotent. */
  stop(): Promise<void>;
}

function randomToken(): string {
  return `zkfake-${randomBytes(24).toString('base64url')}`;
}

function defOf(apiVersion: string, kind: string): ResourceDefinition {
  const def = resourceForKind(apiVersion, kind);
  if (!def) {
    throw new ZonekeeperError(
      ErrorCodes.INVALID_INPUT,
      `Kubernetes fake: ${apiVersion} ${kind} is not served; use one of ${resources.map((r) => `${groupVersion(r)} ${r.kind}`).join(', ')}.`,
      { details: { apiVersion, kind } },
    );
  }
  return def;
}

const codeByStatus: Readonly<Record<number, ErrorCode>> = {
  400: ErrorCodes.INVALID_INPUT,
  403: ErrorCodes.PERMISSION_DENIED,
  404: ErrorCodes.NOT_FOUND,
  422: ErrorCodes.INVALID_INPUT,
};

/** An API error of a helper call, as a ZonekeeperError carrying the `Status` (the cause keeps it too). */
function toError(error: unknown): unknown {
  if (!(error instanceof StatusError)) return error;
  const code =
    error.code === 409
      ? error.reason === 'AlreadyExists'
        ? ErrorCodes.ALREADY_EXISTS
        : ErrorCodes.CONFLICT
      : (codeByStatus[error.code] ?? ErrorCodes.INTERNAL);
  return new ZonekeeperError(code, `Kubernetes fake: ${error.message}`, {
    cause: error,
    details: { status: error.toStatus() },
  });
}

function checkDelay(name: string, ms: number | undefined): void {
  if (ms !== undefined && (!Number.isFinite(ms) || ms < 0)) {
    throw new ZonekeeperError(
      ErrorCodes.INVALID_INPUT,
      `Kubernetes fake: ${name} must be a number >= 0 (ms), got ${ms}.`,
    );
  }
}

/**
 * Starts an in-process Kubernetes API server fake on 127.0.0.1 (HTTPS by default, bearer-token auth), wire
 * compatible with `@kubernetes/client-node` and `kubectl` for the built-in kinds zonekeeper uses.
 * Resolves when it is listening.
 * @public
 */
export async function startKubernetesFake(options: KubernetesFakeOptions = {}): Promise<KubernetesFake> {
  checkDelay('rolloutDelayMs', options.rolloutDelayMs);
  checkDelay('namespaceDeletionDelayMs', options.namespaceDeletionDelayMs);
  checkDelay('garbageCollectionDelayMs', options.garbageCollectionDelayMs);
  if (
    options.port !== undefined &&
    (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535)
  ) {
    throw new ZonekeeperError(
      ErrorCodes.INVALID_INPUT,
      `Kubernetes fake: port must be an integer in 0..65535, got ${options.port}.`,
    );
  }
  if (options.token !== undefined && !/^[\x21-\x7e]+$/.test(options.token)) {
    throw new ZonekeeperError(
      ErrorCodes.INVALID_INPUT,
      'Kubernetes fake: the token must be non-empty printable ASCII without spaces.',
    );
  }
  const token = options.token ?? randomToken();
  const clock = options.clock ?? (() => new Date());
  const store = new Store();
  const controllers = new Controllers(store, clock, {
    rolloutDelayMs: options.rolloutDelayMs ?? 50,
    namespaceDeletionDelayMs: options.namespaceDeletionDelayMs ?? 200,
    defaultServiceAccounts: options.defaultServiceAccounts ?? true,
  });
  let gc: GarbageCollector | undefined;
  const api = new Api(store, clock, {
    afterWrite: (def, o, prev) => {
      controllers.afterWrite(def, o, prev);
      gc?.afterWrite(def, o);
    },
    afterRemove: (def, o) => {
      controllers.afterRemove(def, o);
      gc?.afterRemove(def, o);
    },
  });
  controllers.attach(api);
  const gcDelayMs = options.garbageCollectionDelayMs ?? 0;
  gc = new GarbageCollector(store, api, controllers, () => gcDelayMs);
  const namespaceDef = defOf('v1', 'Namespace');
  for (const ns of options.namespaces ?? ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
    api.create(
      namespaceDef,
      undefined,
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
      { fieldManager: 'kube-apiserver' },
    );
  }
  const log: KubernetesRequestRecord[] = [];
  let podLogs: PodLogSource | undefined;
  let address = '127.0.0.1:0';
  const handler = new RequestHandler({
    api,
    store,
    token: () => token,
    allowAnonymous: options.allowAnonymous ?? false,
    clock,
    log: (e) => log.push(e),
    serverAddress: () => address,
    podLogs: () => podLogs,
  });
  const tls = options.tls ?? true;
  const certificate = tls ? selfSignedCertificate(clock()) : undefined;
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => handler.handle(req, res);
  const server = certificate
    ? createHttpsServer({ cert: certificate.cert, key: certificate.key }, onRequest)
    : createHttpServer(onRequest);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      controllers.stop();
      reject(
        new ZonekeeperError(
          ErrorCodes.UNAVAILABLE,
          `Kubernetes fake: cannot listen on 127.0.0.1:${options.port ?? 0} (${error.code ?? error.message}); pick another port or omit it.`,
          { cause: error },
        ),
      );
    });
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.removeAllListeners('error');
      resolve();
    });
  });
  let connections = 0;
  server.on('connection', () => {
    connections += 1;
  });
  const port = (server.address() as AddressInfo).port;
  address = `127.0.0.1:${port}`;
  const endpoint = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  const ca = certificate?.cert;
  let stopped: Promise<void> | undefined;

  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      controllers.stop();
      handler.closeWatches();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    })();
    return stopped;
  };

  const fake: KubernetesFake = {
    endpoint,
    token,
    ca,
    kubeconfig: (o) => buildKubeconfig(endpoint, token, ca, o),
    async writeKubeconfig(dir, o) {
      await mkdir(dir, { recursive: true });
      const path = join(dir, 'kubeconfig');
      await writeFile(path, buildKubeconfig(endpoint, token, ca, o).yaml, { mode: 0o600 });
      return path;
    },
    objects(filter = {}) {
      let selector: ReturnType<typeof parseLabelSelector> | undefined;
      try {
        selector = filter.labelSelector ? parseLabelSelector(filter.labelSelector) : undefined;
      } catch (error) {
        throw new ZonekeeperError(ErrorCodes.INVALID_INPUT, `Kubernetes fake: ${(error as Error).message}`, {
          cause: error,
        });
      }
      return store.all().filter((o) => {
        const meta = obj(o.metadata) ?? {};
        if (filter.apiVersion !== undefined && o.apiVersion !== filter.apiVersion) return false;
        if (filter.kind !== undefined && o.kind !== filter.kind) return false;
        if (filter.namespace !== undefined && meta.namespace !== filter.namespace) return false;
        if (selector && !matchesLabels(selector, obj(meta.labels) as Record<string, string> | undefined))
          return false;
        return true;
      }) as unknown as KubernetesObject[];
    },
    get(ref) {
      const def = defOf(ref.apiVersion, ref.kind);
      return store.get(def, def.namespaced ? ref.namespace : undefined, ref.name) as unknown as
        | KubernetesObject
        | undefined;
    },
    put(object, o = {}) {
      const body = clone(object as unknown as Json);
      if (!isObject(body))
        throw new ZonekeeperError(ErrorCodes.INVALID_INPUT, 'Kubernetes fake: put() needs an object.');
      const def = defOf(String(body.apiVersion), String(body.kind));
      const meta = obj(body.metadata) ?? {};
      const name = str(meta.name) ?? '';
      const namespace = def.namespaced ? (str(meta.namespace) ?? 'default') : undefined;
      const write = { fieldManager: o.fieldManager ?? 'zonekeeper-testkit' };
      try {
        if (namespace !== undefined && !store.get(namespaceDef, undefined, namespace)) {
          api.create(
            namespaceDef,
            undefined,
            { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
            write,
          );
        }
        const live = name ? store.get(def, namespace, name) : undefined;
        if (live) {
          delete meta.resourceVersion;
          return api.update(def, namespace, name, body, write).object as unknown as KubernetesObject;
        }
        delete meta.resourceVersion;
        return api.create(def, namespace, body, write).object as unknown as KubernetesObject;
      } catch (error) {
        throw toError(error);
      }
    },
    delete(ref) {
      const def = defOf(ref.apiVersion, ref.kind);
      try {
        api.delete(def, def.namespaced ? ref.namespace : undefined, ref.name);
        return true;
      } catch (error) {
        if (error instanceof StatusError && error.code === 404) return false;
        throw toError(error);
      }
    },
    failRollout(namespace, name, reason = 'ProgressDeadlineExceeded') {
      controllers.failRollout(namespace, name, reason);
    },
    recoverRollout(namespace, name) {
      controllers.recoverRollout(namespace, name);
    },
    setRolloutDelay(ms) {
      checkDelay('the rollout delay', ms);
      controllers.options.rolloutDelayMs = ms;
    },
    settle: () => controllers.settle(),
    setPodLogs(source) {
      podLogs = source;
    },
    get connections() {
      return connections;
    },
    get requests() {
      return [...log];
    },
    clearRequests() {
      log.length = 0;
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
  return fake;
}
