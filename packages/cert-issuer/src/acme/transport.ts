/**
 * The HTTP side of `acme-client`, per call: acme-client sends every request through one module-wide
 * axios instance and throws plain `Error`s with the CA's detail text. zonekeeper runs each ACME call
 * inside an `AsyncLocalStorage` scope and hooks that instance once, so that — for requests made inside
 * a scope only — the caller's `AbortSignal` cancels the request, a per-request timeout applies, the
 * CA's TLS certificate can be pinned (`caCertificates`: tests against Pebble), acme-client's own
 * retries of 5xx / 429 / network errors are off (callers decide on the retry class), and the last
 * problem document the CA answered is kept, so the error can be mapped by type instead of by text.
 * Requests outside a scope are left exactly as acme-client makes them.
 *
 * @packageDocumentation
 */

import { AsyncLocalStorage } from 'node:async_hooks';
import { Agent } from 'node:https';
import { createRequire } from 'node:module';
import { loadAcmeClient } from './acme-runtime.js';
import { type AcmeProblem, acmeProblemName, parseAcmeProblem, parseRetryAfter } from './problems.js';

/** What one scope sets for its requests. @internal */
export interface AcmeTransportScope {
  readonly signal?: AbortSignal;
  readonly timeoutMs: number;
  /** Pinned trust for the CA's HTTPS endpoint (PEM), or undefined for the system's. */
  readonly agent?: Agent;
  /** The last problem document seen in this scope, if the last response was one. */
  lastProblem?: AcmeProblem;
  /**
   * The last transport failure (no response: refused, reset, TLS, timeout), if the last request had
   * one. acme-client loses it (its response interceptor reads `response.config` of an error without a
   * response), so it is kept here, from a wrapper around axios's HTTP adapter.
   */
  transportError?: unknown;
  /** Requests made in this scope (tests count them). */
  requests: number;
  /** The short type of every problem document answered in this scope, survived or not, in order. */
  readonly problems: string[];
}

const scopes = new AsyncLocalStorage<AcmeTransportScope>();
let installed = false;
const agents = new Map<string, Agent>();

type Adapter = (config: unknown) => Promise<unknown>;
interface AxiosLikeConfig {
  signal?: AbortSignal;
  timeout?: number;
  httpsAgent?: unknown;
  retryAttempt?: number;
  adapter?: unknown;
}

let httpAdapter: Adapter | undefined;
/** axios's own HTTP adapter, from the axios acme-client depends on (whatever the package layout). */
function baseAdapter(): Adapter {
  if (!httpAdapter) {
    const requireFromAcme = createRequire(import.meta.resolve('acme-client'));
    const axiosModule = requireFromAcme('axios') as { getAdapter: (name: string) => Adapter };
    httpAdapter = axiosModule.getAdapter('http');
  }
  return httpAdapter;
}
interface AxiosLikeResponse {
  status: number;
  data: unknown;
  headers: Record<string, unknown>;
}

async function install(): Promise<void> {
  if (installed) return;
  const { axios: acmeAxios } = await loadAcmeClient();
  if (installed) return;
  installed = true;
  acmeAxios.interceptors.request.use((config) => {
    const scope = scopes.getStore();
    if (!scope) return config;
    const c = config as unknown as AxiosLikeConfig;
    scope.requests++;
    if (scope.signal) c.signal = scope.signal;
    c.timeout = scope.timeoutMs;
    if (scope.agent) c.httpsAgent = scope.agent;
    const adapter = baseAdapter();
    c.adapter = async (request: unknown) => {
      try {
        const response = await adapter(request);
        delete scope.transportError;
        return response;
      } catch (error) {
        scope.transportError = error;
        delete scope.lastProblem;
        throw error;
      }
    };
    // acme-client's response interceptor retries while retryAttempt ≤ retryMaxAttempts: never, here.
    c.retryAttempt = Number.MAX_SAFE_INTEGER;
    return config;
  });
  acmeAxios.interceptors.response.use(
    (response) => {
      const scope = scopes.getStore();
      if (!scope) return response;
      const r = response as unknown as AxiosLikeResponse;
      if (r.status >= 400) {
        const problem = parseAcmeProblem(
          r.data,
          r.status,
          parseRetryAfter(r.headers['retry-after'], new Date()),
        );
        scope.lastProblem = problem ?? { type: 'about:blank', status: r.status };
        scope.problems.push(acmeProblemName(scope.lastProblem.type));
      } else {
        delete scope.lastProblem;
      }
      return response;
    },
    (error: unknown) => Promise.reject(error),
  );
}

/** A cached HTTPS agent trusting exactly `pem`. @internal */
export function pinnedAgent(pem: string): Agent {
  let agent = agents.get(pem);
  if (!agent) {
    agent = new Agent({ ca: pem, keepAlive: false });
    agents.set(pem, agent);
  }
  return agent;
}

/** Runs `fn` in a fresh scope; returns its result and the scope (for the last problem and counts). @internal */
export async function inAcmeScope<T>(
  scope: Omit<AcmeTransportScope, 'requests' | 'lastProblem' | 'problems'>,
  fn: (scope: AcmeTransportScope) => Promise<T>,
): Promise<T> {
  await install();
  const s: AcmeTransportScope = { ...scope, requests: 0, problems: [] };
  return scopes.run(s, () => fn(s));
}

/** The scope of the current call, if any. @internal */
export function currentAcmeScope(): AcmeTransportScope | undefined {
  return scopes.getStore();
}
