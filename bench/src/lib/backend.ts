/**
 * The emulated backend of the API benchmarks: moto behind the testkit fault proxy (whose request log
 * counts every AWS call per operation), the testkit Vault fake (whose request log counts Vault calls),
 * and the real adapters pointed at them. Everything is started here and stopped by `stop()`.
 */
import { createIamIdentityProvider } from '@zonekeeper/iam-scoper/iam';
import { type FaultProxy, type FaultProxyLogEntry, startFaultProxy } from '@zonekeeper/testkit/fault-proxy';
import { type MotoServer, startMoto } from '@zonekeeper/testkit/moto';
import { startVaultFake, type VaultFake, type VaultFakeRequest } from '@zonekeeper/testkit/vault';
import { createVaultSecretStore } from '@zonekeeper/vault-keys/vault';
import {
  createRoute53Provider,
  createRoute53RetryStrategy,
  type Route53RateLimiter,
} from '@zonekeeper/zone-manager/route53';

export const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

export interface Backend {
  readonly moto: MotoServer;
  readonly proxy: FaultProxy;
  readonly vault?: VaultFake;
  /** A Route 53 provider through the proxy (fast retries; a generous limiter unless one is given). */
  route53(rateLimiter?: Route53RateLimiter): ReturnType<typeof createRoute53Provider>;
  /** An IAM provider through the proxy. */
  iam(): ReturnType<typeof createIamIdentityProvider>;
  /** A Vault secret store on the fake (requires `withVault`). */
  secrets(): ReturnType<typeof createVaultSecretStore>;
  /** Marks the logs; `since(mark)` then returns what happened after the mark. */
  mark(): Mark;
  since(mark: Mark): CallCounts;
  stop(): Promise<void>;
}

export interface Mark {
  readonly aws: number;
  readonly vault: number;
}

/** Calls by service, split into reads and writes, plus failures (status ≥ 400) and the operations. */
export interface CallCounts {
  readonly route53: { reads: number; writes: number };
  readonly iam: { reads: number; writes: number };
  readonly vault: { reads: number; writes: number };
  /** Requests answered with an error status other than 404 (none are expected). */
  readonly errors: number;
  /** Reads answered 404 (a lookup of something that does not exist yet: expected on cold runs). */
  readonly notFound: number;
  /** Route 53 and IAM operations with their counts, e.g. `{ ListHostedZones: 50 }`. */
  readonly operations: Readonly<Record<string, number>>;
}

const isRead = (operation: string) => /^(Get|List)/.test(operation);

function count(aws: readonly FaultProxyLogEntry[], vault: readonly VaultFakeRequest[]): CallCounts {
  const c = {
    route53: { reads: 0, writes: 0 },
    iam: { reads: 0, writes: 0 },
    vault: { reads: 0, writes: 0 },
    errors: 0,
    notFound: 0,
    operations: {} as Record<string, number>,
  };
  for (const e of aws) {
    const bucket = e.service === 'route53' ? c.route53 : e.service === 'iam' ? c.iam : undefined;
    if (!bucket) throw new Error(`unexpected AWS call to ${e.service} ${e.operation}`);
    if (isRead(e.operation)) bucket.reads++;
    else bucket.writes++;
    if (e.status === 404) c.notFound++;
    else if (e.status === null || e.status >= 400) {
      c.errors++;
      console.error(`unexpected answer: ${e.service} ${e.operation} → ${e.status ?? 'dropped'}`);
    }
    c.operations[e.operation] = (c.operations[e.operation] ?? 0) + 1;
  }
  for (const r of vault) {
    if (r.method === 'GET' || r.method === 'LIST' || /(^|&)list=true/.test(r.query)) c.vault.reads++;
    else c.vault.writes++;
    if (r.status === 404) c.notFound++;
    else if (r.status >= 400) {
      c.errors++;
      console.error(`unexpected answer: Vault ${r.method} ${r.path} → ${r.status}`);
    }
  }
  return c;
}

/** Starts moto, the proxy in front of it and (optionally) the Vault fake. */
export async function startBackend(options: { withVault?: boolean; seed?: string } = {}): Promise<Backend> {
  const started: { stop(): Promise<void> }[] = [];
  const stopAll = async () => {
    for (const s of started.reverse()) await s.stop().catch(() => undefined);
  };
  try {
    const moto = await startMoto();
    started.push(moto);
    const proxy = await startFaultProxy({ target: moto.endpoint, seed: options.seed ?? 'bench' });
    started.push(proxy);
    const vault = options.withVault ? await startVaultFake() : undefined;
    if (vault) started.push(vault);
    return {
      moto,
      proxy,
      ...(vault ? { vault } : {}),
      route53: (rateLimiter) =>
        createRoute53Provider({
          endpoint: proxy.endpoint,
          credentials,
          retryStrategy: createRoute53RetryStrategy({ maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20 }),
          ...(rateLimiter ? { rateLimiter } : { requestsPerSecond: 100_000 }),
        }),
      iam: () => createIamIdentityProvider({ endpoint: proxy.endpoint, credentials }),
      secrets: () => {
        if (!vault) throw new Error('backend started without Vault');
        return createVaultSecretStore({ endpoint: vault.endpoint, token: vault.rootToken });
      },
      // The logs are append-only snapshots: a mark is an index into each.
      mark: () => ({ aws: proxy.requests.length, vault: vault?.requests.length ?? 0 }),
      since: (m) => count(proxy.requests.slice(m.aws), vault?.requests.slice(m.vault) ?? []),
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** Runs `fn` with a backend and always stops it, also when `fn` throws or the process is interrupted. */
export async function withBackend<T>(
  options: { withVault?: boolean; seed?: string },
  fn: (b: Backend) => Promise<T>,
): Promise<T> {
  const backend = await startBackend(options);
  const onSignal = () => {
    void backend.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await fn(backend);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await backend.stop();
  }
}
