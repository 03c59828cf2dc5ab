/**
 * The Kubernetes adapter of the {@link ClusterClient} port, on `@kubernetes/client-node` 1.4.0.
 *
 * @example
 * ```ts
 * import { createKubernetesCluster } from '@zonekeeper/externaldns-deployer/kubernetes';
 * const cluster = createKubernetesCluster({ name: 'prod-1', kubeconfigPath: '/etc/zonekeeper/prod-1.kubeconfig' });
 * ```
 *
 * - `apply` is server-side apply (`PATCH … application/apply-patch+yaml`) with field manager
 *   `zonekeeper` and `force` (zonekeeper owns what it renders); the client discovers the resource's
 *   plural through the API server's discovery documents first.
 * - `signal` is forwarded to the HTTP request (through a request middleware), so an abort cancels it.
 * - Connections are kept alive and reused: `@kubernetes/client-node` builds a new HTTPS agent for every
 *   request (a TCP connect and a TLS handshake per call); the adapter swaps it for one keep-alive agent
 *   per distinct set of TLS options (in practice one per client), idle sockets unref'd so they never keep
 *   the process alive.
 * - Errors are translated to `ZonekeeperError` and *sanitised*: the API server's `Status` message is
 *   kept (it says what is wrong), but never for Secrets, whose 422 messages may echo values; the client's
 *   own error object (which holds request headers) is not kept as `cause`.
 *
 * @packageDocumentation
 */

import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent, type AgentOptions as HttpsAgentOptions } from 'node:https';
import {
  createConfiguration,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  ServerConfiguration,
} from '@kubernetes/client-node';
import {
  type ApplyOptions,
  type CallOptions,
  type ClusterClient,
  describeRef,
  hasErrorCode,
  invalidInput,
  type KubernetesObject,
  type ListOptions,
  type ObjectRef,
  refOf,
  throwIfAborted,
  ZONEKEEPER_MANAGER,
  ZonekeeperError,
} from '@zonekeeper/core';
import { NAMESPACE_TERMINATING } from './apply.js';

/** Options of {@link createKubernetesCluster}. Give exactly one source of configuration. @public */
export interface KubernetesClusterOptions {
  /** The cluster's name in messages (default: the kubeconfig's current context). */
  readonly name?: string;
  /** A kubeconfig file. */
  readonly kubeconfigPath?: string;
  /** A kubeconfig as YAML text. */
  readonly kubeconfigYaml?: string;
  /** A ready `KubeConfig`. */
  readonly kubeConfig?: KubeConfig;
  /** The context to use (default: the kubeconfig's current context). */
  readonly context?: string;
  /** Field manager of server-side apply (default `zonekeeper`). */
  readonly fieldManager?: string;
}

interface StatusBody {
  reason?: string;
  message?: string;
  details?: { causes?: { reason?: string; field?: string }[] };
}

function parseStatus(body: unknown): StatusBody {
  if (typeof body === 'string') {
    try {
      return JSON.parse(body) as StatusBody;
    } catch {
      return {};
    }
  }
  return (body ?? {}) as StatusBody;
}

/** Translates what the client threw, keeping only the status code and the Status reason/message. */
function translate(error: unknown, cluster: string, op: string, ref: ObjectRef | string): ZonekeeperError {
  const what = typeof ref === 'string' ? ref : describeRef(ref);
  const secret = typeof ref !== 'string' && ref.kind === 'Secret';
  const e = error as { code?: unknown; body?: unknown; message?: unknown };
  const status = typeof e?.code === 'number' ? e.code : undefined;
  const prefix = `Kubernetes (${cluster}): ${op} ${what}`;
  if (status === undefined) {
    const network =
      typeof e?.code === 'string' ? e.code : error instanceof Error ? error.name : 'network error';
    return new ZonekeeperError(
      'UNAVAILABLE',
      `${prefix} failed: the API server is unreachable (${network}); check the kubeconfig and network, then retry.`,
      {
        cause: new Error(`request failed (${network})`),
        details: { cluster, operation: op },
      },
    );
  }
  const s = parseStatus(e.body);
  const said = s.message && !secret ? `: ${s.message.slice(0, 500)}` : '';
  const cause = new Error(`HTTP ${status}${s.reason ? ` ${s.reason}` : ''}`);
  const details = { cluster, operation: op, status, ...(s.reason ? { reason: s.reason } : {}) };
  switch (true) {
    case status === 404:
      return new ZonekeeperError('NOT_FOUND', `${prefix}: not found${said}.`, { cause, details });
    case status === 409 && s.reason === 'AlreadyExists':
      return new ZonekeeperError('ALREADY_EXISTS', `${prefix}: already exists.`, { cause, details });
    case status === 409:
      return new ZonekeeperError('CONFLICT', `${prefix}: conflict${said}.`, {
        cause,
        details,
        // A stale resourceVersion is worth a re-read and retry; a field-manager conflict is not.
        retry: s.details?.causes?.some((c) => c.reason === 'FieldManagerConflict')
          ? 'permanent'
          : 'transient',
      });
    case status === 400 || status === 415 || status === 422:
      return new ZonekeeperError('INVALID_INPUT', `${prefix} was rejected (HTTP ${status})${said}.`, {
        cause,
        details,
      });
    case status === 403 && s.details?.causes?.some((c) => c.reason === 'NamespaceTerminating'):
      // Admission refuses new objects while the namespace is being deleted: it goes away by itself
      // (seconds on a real cluster), so this is worth waiting for, unlike an RBAC denial.
      return new ZonekeeperError(
        'CONFLICT',
        `${prefix}: the namespace is being deleted (Terminating); retry once it is gone.`,
        { cause, details: { ...details, reason: NAMESPACE_TERMINATING }, retry: 'transient' },
      );
    case status === 401 || status === 403:
      return new ZonekeeperError(
        'PERMISSION_DENIED',
        `${prefix} was denied (HTTP ${status})${said}; check the credentials and RBAC of the kubeconfig user.`,
        { cause, details },
      );
    case status === 429:
      return new ZonekeeperError('THROTTLED', `${prefix} was rate-limited; retry later.`, { cause, details });
    case status >= 500:
      return new ZonekeeperError('UNAVAILABLE', `${prefix} failed with HTTP ${status}${said}; retry later.`, {
        cause,
        details,
      });
    default:
      return new ZonekeeperError('INTERNAL', `${prefix} failed with unexpected HTTP ${status}${said}.`, {
        cause,
        details,
      });
  }
}

function loadKubeConfig(options: KubernetesClusterOptions): KubeConfig {
  const sources = [options.kubeconfigPath, options.kubeconfigYaml, options.kubeConfig].filter(
    (x) => x !== undefined,
  );
  if (sources.length > 1)
    throw invalidInput('Give only one of kubeconfigPath, kubeconfigYaml and kubeConfig.');
  let kc = options.kubeConfig;
  if (!kc) {
    kc = new KubeConfig();
    try {
      if (options.kubeconfigPath !== undefined) kc.loadFromFile(options.kubeconfigPath);
      else if (options.kubeconfigYaml !== undefined) kc.loadFromString(options.kubeconfigYaml);
      else kc.loadFromDefault();
    } catch (error) {
      throw invalidInput(
        `The kubeconfig could not be loaded: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}.`,
      );
    }
  }
  if (options.context !== undefined) {
    if (!kc.getContextObject(options.context))
      throw invalidInput(`The kubeconfig has no context named ${JSON.stringify(options.context)}.`);
    kc.setCurrentContext(options.context);
  }
  if (!kc.getCurrentCluster()) throw invalidInput('The kubeconfig has no current cluster; set a context.');
  return kc;
}

/** The TLS options an agent of client-node carries, by which agents are interchangeable. */
const AGENT_IDENTITY: readonly (keyof HttpsAgentOptions)[] = [
  'ca',
  'cert',
  'key',
  'pfx',
  'passphrase',
  'rejectUnauthorized',
  'servername',
  'ciphers',
  'secureProtocol',
];

/**
 * Replaces client-node's per-request agent by a kept-alive one with the same options (a hash of them is
 * the cache key, so no key material is kept twice). Proxy agents (a kubeconfig `proxy-url`) are left as
 * they are.
 */
function keepAliveAgents(): (
  agent: HttpAgent | HttpsAgent | undefined,
) => HttpAgent | HttpsAgent | undefined {
  const agents = new Map<string, HttpAgent | HttpsAgent>();
  return (agent) => {
    if (agent === undefined) return undefined;
    const plain = agent.constructor === HttpsAgent || agent.constructor === HttpAgent;
    if (!plain) return agent;
    const options = (agent as unknown as { options: Record<string, unknown> }).options;
    const identity = createHash('sha256');
    identity.update(agent instanceof HttpsAgent ? 'https' : 'http');
    for (const k of AGENT_IDENTITY) identity.update(`\0${k}=${String(options[k] ?? '')}`);
    const id = identity.digest('hex');
    let shared = agents.get(id);
    if (!shared) {
      const settings = { ...options, keepAlive: true };
      shared = agent instanceof HttpsAgent ? new HttpsAgent(settings) : new HttpAgent(settings);
      agents.set(id, shared);
    }
    agent.destroy();
    return shared;
  };
}

/** `KubernetesObjectApi` with the kubeconfig's default namespace (the setter is protected). */
class ObjectApi extends KubernetesObjectApi {
  constructor(configuration: ConstructorParameters<typeof KubernetesObjectApi>[0], kc: KubeConfig) {
    super(configuration);
    this.setDefaultNamespace(kc);
  }
}

/** The (plural-less) Kubernetes object shape the client works with. */
type ClientObject = { apiVersion?: string; kind?: string; metadata?: { name?: string; namespace?: string } };

/**
 * Creates the Kubernetes cluster client.
 * @throws `INVALID_INPUT` when the kubeconfig cannot be loaded or lacks the context.
 * @public
 */
export function createKubernetesCluster(options: KubernetesClusterOptions = {}): ClusterClient {
  const kc = loadKubeConfig(options);
  const name = options.name ?? kc.getCurrentContext();
  const fieldManager = options.fieldManager ?? ZONEKEEPER_MANAGER;
  const signals = new AsyncLocalStorage<AbortSignal | undefined>();
  const server = kc.getCurrentCluster()?.server as string;
  const shareAgent = keepAliveAgents();
  const configuration = createConfiguration({
    baseServer: new ServerConfiguration(server, {}),
    authMethods: { default: kc },
    promiseMiddleware: [
      {
        pre: async (context) => {
          const signal = signals.getStore();
          if (signal) context.setSignal(signal);
          const agent = shareAgent(context.getAgent());
          if (agent) context.setAgent(agent);
          return context;
        },
        post: async (response) => response,
      },
    ],
  });
  const api = new ObjectApi(configuration, kc);

  async function call<T>(
    op: string,
    ref: ObjectRef | string,
    options: CallOptions,
    run: () => Promise<T>,
  ): Promise<T> {
    throwIfAborted(options.signal);
    try {
      return await signals.run(options.signal, run);
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      throw translate(error, name, op, ref);
    }
  }

  const header = (ref: ObjectRef): ClientObject => ({
    apiVersion: ref.apiVersion,
    kind: ref.kind,
    metadata: ref.namespace === undefined ? { name: ref.name } : { name: ref.name, namespace: ref.namespace },
  });

  const withKind = (o: unknown, apiVersion: string, kind: string): KubernetesObject =>
    ({ ...(o as object), apiVersion, kind }) as KubernetesObject;

  const checkObject = (object: KubernetesObject, op: 'apply' | 'replace') => {
    if (
      !object ||
      typeof object !== 'object' ||
      !object.apiVersion ||
      !object.kind ||
      !object.metadata?.name
    ) {
      throw invalidInput('Kubernetes object needs apiVersion, kind and metadata.name.');
    }
    if (op === 'apply' && (object.metadata as { managedFields?: unknown }).managedFields !== undefined) {
      throw invalidInput(
        'Kubernetes object must not carry metadata.managedFields when applied (server-side apply rejects it).',
      );
    }
  };

  return {
    name,
    async apply(object, opts: ApplyOptions = {}) {
      checkObject(object, 'apply');
      const ref = refOf(object);
      // A resourceVersion in an apply configuration is a precondition (409 when stale): apply is
      // declarative, so never send one (objects read back from the cluster carry it).
      const { resourceVersion: _ignored, ...metadata } = object.metadata;
      const configuration = { ...object, metadata };
      const stored = await call('apply', ref, opts, () =>
        api.patch(
          configuration as never,
          undefined,
          undefined,
          fieldManager,
          opts.force ?? true,
          PatchStrategy.ServerSideApply,
        ),
      );
      return withKind(stored, object.apiVersion, object.kind);
    },
    async get(ref, opts = {}) {
      try {
        const got = await call('get', ref, opts, () => api.read(header(ref) as never));
        return withKind(got, ref.apiVersion, ref.kind);
      } catch (error) {
        if (hasErrorCode(error, 'NOT_FOUND')) return undefined;
        throw error;
      }
    },
    async list(apiVersion, kind, opts: ListOptions = {}) {
      const items: KubernetesObject[] = [];
      let continueToken: string | undefined;
      do {
        const page = await call('list', `${kind} (${apiVersion})`, opts, () =>
          api.list(
            apiVersion,
            kind,
            opts.namespace,
            undefined,
            undefined,
            undefined,
            undefined,
            opts.labelSelector,
            500,
            continueToken,
          ),
        );
        for (const item of page.items) items.push(withKind(item, apiVersion, kind));
        continueToken = page.metadata?._continue || undefined;
      } while (continueToken);
      return items;
    },
    async delete(ref, opts = {}) {
      try {
        await call('delete', ref, opts, () =>
          api.delete(header(ref) as never, undefined, undefined, undefined, undefined, 'Background'),
        );
        return true;
      } catch (error) {
        if (hasErrorCode(error, 'NOT_FOUND')) return false;
        throw error;
      }
    },
    async replace(object, opts = {}) {
      checkObject(object, 'replace');
      const ref = refOf(object);
      const stored = object.metadata.resourceVersion
        ? await call('replace', ref, opts, () =>
            api.replace(object as never, undefined, undefined, fieldManager),
          )
        : await call('create', ref, opts, () =>
            api.create(object as never, undefined, undefined, fieldManager),
          );
      return withKind(stored, object.apiVersion, object.kind);
    },
  };
}
