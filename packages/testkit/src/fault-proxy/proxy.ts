/**
 * An HTTP proxy on 127.0.0.1 that forwards AWS API calls to a target (moto or a fake) and injects
 * faults: AWS-shaped errors, latency, and dropped connections before or after the target applied the
 * request.
 *
 * @packageDocumentation
 */

import {
  type ClientRequest,
  createServer,
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { type CallOptions, invalidInput } from '@zonekeeper/core';
import { renderAwsError } from './aws-errors.js';
import { type AwsRequestIdentity, identifyAwsRequest } from './identify.js';
import { type Decision, describeFault, type FaultRule, RuleEngine } from './rules.js';

/**
 * Options of {@link startFaultProxy}.
 * @public
 */
export interface FaultProxyOptions extends CallOptions {
  /** Where requests are forwarded: a base URL such as moto's `endpoint` (`http://127.0.0.1:5000`). */
  readonly target: string | URL;
  /** Initial fault rules (default: none, the proxy only forwards and logs). */
  readonly rules?: readonly FaultRule[];
  /** Seed of the PRNG that decides probabilistic rules (default `0x5eed`, so runs are reproducible). */
  readonly seed?: number | string;
  /** Largest request body accepted, in bytes; larger requests get 413 (default 10 MiB). */
  readonly maxBodyBytes?: number;
}

/**
 * One request the proxy handled. Never contains headers, bodies or query strings: they carry
 * credentials, signatures and secrets.
 * @public
 */
export interface FaultProxyLogEntry {
  /** Arrival order, from 1, over the proxy's lifetime (not reset by `clearLog`). */
  readonly seq: number;
  /** SigV4 service (`route53`, `iam`, `sts`) or `'unknown'`. */
  readonly service: string;
  /** AWS operation (`CreateHostedZone`) or `'Unknown'`. */
  readonly operation: string;
  /** HTTP method. */
  readonly method: string;
  /** URL path without the query string. */
  readonly path: string;
  /** Status the client received; `null` if its connection was dropped. */
  readonly status: number | null;
  /** Status the target answered; `null` if the request was not forwarded (injected error, drop before, target down). */
  readonly upstreamStatus: number | null;
  /** The injected fault: `error:<Code>`, `latency:<ms>`, `drop:before` or `drop:after`. Absent if none. */
  readonly fault?: string;
  /** The label (or index) of the rule that fired. Absent if none. */
  readonly rule?: string | number;
  /** Time from arrival until the proxy answered or dropped the connection, in milliseconds. */
  readonly durationMs: number;
  /**
   * Which attempt of one SDK call this request was (1 for the first), from the `amz-sdk-request:
   * attempt=N; max=M` header AWS SDKs send; absent when the client sent none (curl, a hand-made request).
   * Counting entries with `attempt === 1` counts calls, not retries.
   */
  readonly attempt?: number;
}

/**
 * Filter of {@link FaultProxy.count}; every given field must match.
 * @public
 */
export interface FaultProxyLogFilter {
  /** Service name, exact string or RegExp. */
  readonly service?: string | RegExp;
  /** Operation name, exact string or RegExp. */
  readonly operation?: string | RegExp;
  /** `true`: only requests that got a fault; `false`: only requests that did not. */
  readonly faulted?: boolean;
  /** The `fault` text (`'error:Throttling'`, `'drop:after'`), exact string or RegExp. */
  readonly fault?: string | RegExp;
  /**
   * `true`: only the first attempt of each SDK call (`attempt === 1`), so a request the SDK retried is
   * counted once. Requests without an attempt header never match it.
   */
  readonly firstAttempts?: boolean;
}

/**
 * A running fault-injection proxy, from {@link startFaultProxy}.
 * @public
 */
export interface FaultProxy extends AsyncDisposable {
  /** Base URL to give SDK clients as `endpoint` (`http://127.0.0.1:<port>`). */
  readonly endpoint: string;
  /** The TCP port on 127.0.0.1. */
  readonly port: number;
  /** The log so far (finished requests, in arrival order): a snapshot, not a live view. */
  readonly requests: readonly FaultProxyLogEntry[];
  /** Replaces the rules, resetting every `times` counter; re-seeds the PRNG if `seed` is given. */
  setRules(rules: readonly FaultRule[], seed?: number | string): void;
  /** Empties the log (sequence numbers keep counting). */
  clearLog(): void;
  /** Number of logged requests matching `filter` (all requests without one). */
  count(filter?: FaultProxyLogFilter): number;
  /** Stops listening, drops open connections and in-flight requests. Idempotent. */
  stop(): Promise<void>;
}

const hopByHop = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
  'content-length',
]);

function forwardableHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !hopByHop.has(name)) out[name] = value;
  }
  return out;
}

function matchText(matcher: string | RegExp | undefined, value: string | undefined): boolean {
  if (matcher === undefined) return true;
  if (value === undefined) return false;
  if (typeof matcher === 'string') return matcher === value;
  matcher.lastIndex = 0;
  return matcher.test(value);
}

function parseTarget(target: string | URL): URL {
  let url: URL;
  try {
    url = new URL(String(target));
  } catch {
    throw invalidInput(
      `fault-proxy: target must be an absolute http(s) URL, got ${JSON.stringify(String(target))}.`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw invalidInput(`fault-proxy: target must use http or https, got ${url.protocol}`);
  }
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw invalidInput('fault-proxy: target must be a base URL without credentials, query or fragment.');
  }
  return url;
}

interface UpstreamResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/**
 * Starts the fault-injection proxy on 127.0.0.1 (a free port) in front of `target`.
 *
 * Each request is read completely, identified ({@link identifyAwsRequest}), matched against the
 * rules, then answered with an injected error, dropped, or forwarded (after an injected latency). The
 * target's response is read completely before it is passed on, so the log entry of a request is
 * final before its client sees the response. The `Host` header is forwarded unchanged, so SigV4
 * signatures stay valid.
 *
 * @example
 * ```ts
 * await using proxy = await startFaultProxy({
 *   target: moto.endpoint,
 *   rules: [{ service: 'route53', operation: 'ChangeResourceRecordSets', fault: 'Throttling', times: 2 }],
 * });
 * const r53 = new Route53Client({ endpoint: proxy.endpoint, ... });
 * ...
 * expect(proxy.count({ operation: 'ChangeResourceRecordSets' })).toBe(3);
 * ```
 * @throws ZonekeeperError `INVALID_INPUT` for a bad target or rule (rules are validated again by
 * `setRules`). An abort before the proxy listens re-throws `signal.reason`.
 * @public
 */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const target = parseTarget(options.target);
  const maxBodyBytes = options.maxBodyBytes ?? 10 * 1024 * 1024;
  if (!(Number.isInteger(maxBodyBytes) && maxBodyBytes > 0)) {
    throw invalidInput('fault-proxy: maxBodyBytes must be a positive integer.');
  }
  const engine = new RuleEngine(options.rules ?? [], options.seed ?? 0x5eed);
  options.signal?.throwIfAborted();

  const basePath = target.pathname.replace(/\/+$/, '');
  const isHttps = target.protocol === 'https:';
  const agent = isHttps ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
  const log: FaultProxyLogEntry[] = [];
  const inFlight = new Set<ClientRequest>();
  const timers = new Map<NodeJS.Timeout, () => void>();
  let seq = 0;
  let stopped = false;

  const record = (
    entry: Omit<FaultProxyLogEntry, 'durationMs' | 'fault' | 'rule'>,
    decision: Decision | undefined,
    started: number,
  ): void => {
    log.push(
      Object.freeze({
        ...entry,
        ...(decision === undefined ? {} : { fault: describeFault(decision.fault), rule: decision.rule }),
        durationMs: Math.round((performance.now() - started) * 10) / 10,
      }),
    );
  };

  const forward = (req: IncomingMessage, body: Buffer): Promise<UpstreamResponse> =>
    new Promise((resolve, reject) => {
      const headers = forwardableHeaders(req.headers);
      if (body.length > 0 || !['GET', 'HEAD', 'DELETE', 'OPTIONS'].includes(req.method ?? 'GET')) {
        headers['content-length'] = String(body.length);
      }
      const send = isHttps ? httpsRequest : httpRequest;
      const upstream = send(
        {
          protocol: target.protocol,
          hostname: target.hostname,
          port: target.port,
          method: req.method,
          path: `${basePath}${req.url ?? '/'}`,
          headers,
          agent,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            inFlight.delete(upstream);
            resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) });
          });
          res.on('error', reject);
        },
      );
      inFlight.add(upstream);
      upstream.on('error', (error) => {
        inFlight.delete(upstream);
        reject(error);
      });
      upstream.end(body);
    });

  /** Resolves after `ms`, or at once when the proxy stops. */
  const wait = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.set(timer, resolve);
    });

  const drop = (socket: Socket): void => {
    // RST rather than FIN where possible: the client sees ECONNRESET, as on a crashed server.
    if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
    else socket.destroy();
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> => {
    const started = performance.now();
    const number = ++seq;
    const method = req.method ?? 'GET';
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const identity: AwsRequestIdentity = identifyAwsRequest({
      method,
      url: req.url ?? '/',
      headers: req.headers,
      body,
    });
    const attempt = sdkAttempt(req.headers['amz-sdk-request']);
    const base = {
      seq: number,
      service: identity.service,
      operation: identity.operation,
      method,
      path,
      ...(attempt === undefined ? {} : { attempt }),
    };
    const decision = engine.decide(identity);
    const fault = decision?.fault;

    if (fault?.kind === 'error' && fault.when === 'before') {
      const rendered = renderAwsError(identity, fault.error);
      record({ ...base, status: rendered.status, upstreamStatus: null }, decision, started);
      res.writeHead(rendered.status, {
        ...rendered.headers,
        'content-length': Buffer.byteLength(rendered.body),
      });
      res.end(rendered.body);
      return;
    }
    if (fault?.kind === 'drop' && fault.when === 'before') {
      record({ ...base, status: null, upstreamStatus: null }, decision, started);
      drop(req.socket);
      return;
    }
    if (fault?.kind === 'latency') await wait(fault.ms);
    if (stopped) {
      drop(req.socket);
      return;
    }

    let upstream: UpstreamResponse;
    try {
      upstream = await forward(req, body);
    } catch (error) {
      if (stopped) {
        drop(req.socket);
        return;
      }
      const text = `fault-proxy: target ${target.origin} failed: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`;
      record({ ...base, status: 502, upstreamStatus: null }, decision, started);
      res.writeHead(502, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(text) });
      res.end(text);
      return;
    }
    if (fault?.kind === 'drop') {
      // 'after': the target applied the request; the client never hears about it.
      record({ ...base, status: null, upstreamStatus: upstream.status }, decision, started);
      drop(req.socket);
      return;
    }
    if (fault?.kind === 'error') {
      // 'after': the target applied the request; the client hears an error instead of its answer.
      const rendered = renderAwsError(identity, fault.error);
      record({ ...base, status: rendered.status, upstreamStatus: upstream.status }, decision, started);
      res.writeHead(rendered.status, {
        ...rendered.headers,
        'content-length': Buffer.byteLength(rendered.body),
      });
      res.end(rendered.body);
      return;
    }
    record({ ...base, status: upstream.status, upstreamStatus: upstream.status }, decision, started);
    const headers = forwardableHeaders(upstream.headers);
    headers['content-length'] = String(upstream.body.length);
    res.writeHead(upstream.status, headers);
    res.end(upstream.body);
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBodyBytes) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('error', () => drop(req.socket));
    req.on('end', () => {
      if (tooLarge) {
        res.writeHead(413, { 'content-type': 'text/plain', connection: 'close' });
        res.end(`fault-proxy: request body larger than ${maxBodyBytes} bytes`);
        return;
      }
      handle(req, res, Buffer.concat(chunks)).catch(() => drop(req.socket));
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  if (options.signal?.aborted) {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    throw options.signal.reason;
  }

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= new Promise<void>((resolve) => {
      stopped = true;
      for (const [timer, release] of timers) {
        clearTimeout(timer);
        release();
      }
      timers.clear();
      for (const upstream of inFlight) upstream.destroy();
      inFlight.clear();
      server.close(() => resolve());
      server.closeAllConnections();
      agent.destroy();
    });
    return stopping;
  };

  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    get requests() {
      return log.slice().sort((a, b) => a.seq - b.seq);
    },
    setRules: (rules, seed) => engine.setRules(rules, seed),
    clearLog: () => {
      log.length = 0;
    },
    count: (filter = {}) =>
      log.filter(
        (e) =>
          matchText(filter.service, e.service) &&
          matchText(filter.operation, e.operation) &&
          (filter.faulted === undefined || filter.faulted === (e.fault !== undefined)) &&
          (filter.fault === undefined || matchText(filter.fault, e.fault)) &&
          (filter.firstAttempts !== true || e.attempt === 1),
      ).length,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/** The attempt number of an `amz-sdk-request: attempt=N; max=M` header, or `undefined`. */
function sdkAttempt(header: string | string[] | undefined): number | undefined {
  const text = Array.isArray(header) ? header[0] : header;
  const match = text === undefined ? null : /(?:^|;)\s*attempt=(\d+)/.exec(text);
  return match === null ? undefined : Number(match[1]);
}
