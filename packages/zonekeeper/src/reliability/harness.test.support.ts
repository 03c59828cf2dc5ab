/**
 * Test support (not shipped): a harness that wraps zonekeeper's ports (DNS, identity, secret store,
 * clusters), records every side-effecting call in order, and crashes the run right after the k-th one
 * was applied:
 *
 * - `drop`: the k-th write reaches the backend and is applied, then its connection drops (the fault
 *   proxy's `drop` `after` for Route 53, IAM and Vault; a thrown `UNAVAILABLE` for a cluster). The code
 *   under test carries on as it would (SDK retries, clean-up paths).
 * - `fail`: the k-th write reaches the backend and is applied, then the answer is a 5xx (the fault proxy's
 *   `error` `after` — `ServiceUnavailable` for Route 53 and IAM, a 503 for Vault; a thrown `UNAVAILABLE`
 *   for a cluster). Unlike a drop, the client gets an answer and believes the request failed: the SDK's
 *   retry strategy retries what it considers retryable, the adapters report the rest.
 * - `abort`: the k-th write is applied, then the caller's signal is aborted.
 * - `kill`: the k-th write is applied, then the process "dies": every later call of this zonekeeper
 *   instance fails at once, so no clean-up code can reach any backend.
 *
 * @packageDocumentation
 */

import { ZonekeeperError } from '@zonekeeper/core';
import { IDENTITY_WRITE_METHODS, ROLE_WRITE_METHODS } from '@zonekeeper/iam-scoper';
import { TRACED_PORT_METHODS } from '../telemetry/telemetry.js';

/** `powerdns`: the PowerDNS HTTP API client the PowerDNS backend is built on (TSIG keys, metadata, zones). */
export type PortKind = 'dns' | 'identity' | 'secrets' | 'cluster' | 'roles' | 'podIdentity' | 'powerdns';

/** The PowerDNS API client's methods (`PowerDnsApi`), and those that write. */
const POWERDNS_READS = ['listZones', 'getZone', 'getMetadata', 'search', 'listTsigKeys', 'getTsigKey'];
const POWERDNS_WRITES = [
  'createZone',
  'deleteZone',
  'updateZone',
  'patchRRsets',
  'putMetadata',
  'deleteMetadata',
  'createTsigKey',
  'deleteTsigKey',
];
export type CrashMode = 'drop' | 'fail' | 'abort' | 'kill';
export const CRASH_MODES: readonly CrashMode[] = ['drop', 'fail', 'abort', 'kill'];

/** The port methods, per port, and which of them change state. */
export const PORT_METHODS: Readonly<
  Record<PortKind, { all: ReadonlySet<string>; writes: ReadonlySet<string> }>
> = {
  // Every remote call is the set the facade traces (one list of the ports' methods, shipped).
  dns: {
    all: TRACED_PORT_METHODS.dns,
    writes: new Set(['createZone', 'deleteZone', 'changeTags', 'changeRecords']),
  },
  identity: { all: TRACED_PORT_METHODS.identity, writes: new Set<string>(IDENTITY_WRITE_METHODS) },
  secrets: { all: TRACED_PORT_METHODS.secrets, writes: new Set(['write', 'writeMetadata', 'deleteAll']) },
  cluster: { all: TRACED_PORT_METHODS.cluster, writes: new Set(['apply', 'delete', 'replace']) },
  // Keyless credentials: IAM roles and OIDC providers, EKS Pod Identity associations.
  roles: { all: TRACED_PORT_METHODS.roles, writes: new Set<string>(ROLE_WRITE_METHODS) },
  podIdentity: {
    all: TRACED_PORT_METHODS.podIdentity,
    writes: new Set(['createAssociation', 'deleteAssociation']),
  },
  powerdns: { all: new Set([...POWERDNS_READS, ...POWERDNS_WRITES]), writes: new Set(POWERDNS_WRITES) },
};

/** One side-effecting call, in the order the run made it. */
export interface WriteCall {
  /** 1-based position among the run's writes. */
  readonly index: number;
  readonly port: PortKind;
  readonly method: string;
  /** The cluster id for cluster calls, else the port kind. */
  readonly target: string;
}

/** Makes a wire-level "applied, then the connection dropped" out of one port call. */
export type Dropper = (run: () => Promise<unknown>) => Promise<unknown>;

export interface HarnessOptions {
  /** Wire-level droppers per port; ports without one apply the call, then throw `UNAVAILABLE`. */
  readonly droppers?: Partial<Record<PortKind, Dropper>>;
  /** Wire-level "applied, then a 5xx" per port; ports without one apply the call, then throw `UNAVAILABLE`. */
  readonly failers?: Partial<Record<PortKind, Dropper>>;
  /** Called after every applied write (also the crashing one), e.g. to watch an invariant. */
  readonly afterWrite?: (call: WriteCall) => Promise<void> | void;
  /** Called with every successful port result (e.g. to collect the secrets issued). */
  readonly onResult?: (port: PortKind, method: string, result: unknown) => void;
  /** Called with every port error (injected crashes excluded). */
  readonly onError?: (port: PortKind, method: string, error: unknown) => void;
}

function injected(what: string): ZonekeeperError {
  return new ZonekeeperError('UNAVAILABLE', `${what} (injected by the reliability harness).`);
}

/** Records, counts and crashes port calls; one harness per zonekeeper instance under test. */
export class Harness {
  readonly writes: WriteCall[] = [];
  /** Every port call made through the harness (reads and writes). */
  calls = 0;
  /** The write the crash was injected at, once it fired. */
  fired: WriteCall | undefined;
  /** After a `kill`: every call fails. */
  dead = false;
  readonly controller = new AbortController();
  private crash: { readonly at: number; readonly mode: CrashMode } | undefined;

  constructor(private readonly options: HarnessOptions = {}) {}

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Crash right after write number `at` (1-based) is applied. */
  arm(at: number, mode: CrashMode): this {
    this.crash = { at, mode };
    return this;
  }

  /** The port, with every port method going through the harness. */
  wrap<T extends object>(port: T, kind: PortKind, target: string = kind): T {
    const { all, writes } = PORT_METHODS[kind];
    return new Proxy(port, {
      get: (object, property, receiver) => {
        const value = Reflect.get(object, property, receiver) as unknown;
        if (typeof property !== 'string' || typeof value !== 'function' || !all.has(property)) return value;
        const fn = value as (...args: unknown[]) => Promise<unknown>;
        return (...args: unknown[]) =>
          this.call(kind, target, property, writes.has(property), () => fn.apply(object, args));
      },
    });
  }

  private async call(
    port: PortKind,
    target: string,
    method: string,
    isWrite: boolean,
    run: () => Promise<unknown>,
  ): Promise<unknown> {
    if (this.dead) throw injected(`${port}: the process crashed, nothing runs after it`);
    this.calls += 1;
    const observe = async () => {
      let result: unknown;
      try {
        result = await run();
      } catch (error) {
        this.options.onError?.(port, method, error);
        throw error;
      }
      this.options.onResult?.(port, method, result);
      return result;
    };
    if (!isWrite) return observe();
    const call: WriteCall = { index: this.writes.length + 1, port, method, target };
    this.writes.push(call);
    const crash = this.crash?.at === call.index ? this.crash : undefined;
    if (!crash) {
      const result = await observe();
      await this.options.afterWrite?.(call);
      return result;
    }
    this.fired = call;
    if (crash.mode === 'drop' || crash.mode === 'fail') {
      const wire = (crash.mode === 'drop' ? this.options.droppers : this.options.failers)?.[port];
      try {
        if (wire) return await wire(observe);
        await observe();
        throw injected(
          `${port === 'cluster' ? 'Kubernetes' : port}: ${crash.mode === 'drop' ? 'connection reset' : 'HTTP 503'} after ${method} was applied`,
        );
      } finally {
        await this.options.afterWrite?.(call);
      }
    }
    await observe();
    await this.options.afterWrite?.(call);
    if (crash.mode === 'abort') {
      this.controller.abort();
      throw this.controller.signal.reason;
    }
    this.dead = true;
    throw injected(`${port}: the process crashed right after ${method} was applied`);
  }
}
