/**
 * Route 53's request budget as AWS enforces it since 2026-07-30: token buckets, as data.
 *
 * Every request takes one token from the **account** bucket (all actions combined) and one from its
 * **action's** bucket; a request that changes records also takes one token per change from the
 * **change-throughput** bucket, when the table has one. A request waits until every bucket it needs holds
 * its tokens, then takes them all at once. The buckets themselves (capacity, refill, and the "check the
 * whole hierarchy, then debit it together" step) are `limiter`'s `TokenBucket`s; this module adds the
 * table, the FIFO wait queue with cancellation, and the change bucket's variable cost.
 *
 * Share one limiter between every Route 53 client of one AWS account in the process: a provider created
 * without `rateLimiter` or `requestsPerSecond` uses {@link sharedRoute53RateLimiter}.
 *
 * @packageDocumentation
 */

import { type CallOptions, invalidInput } from '@zonekeeper/core';
import { TokenBucket } from 'limiter';

/** One token bucket: `capacity` tokens at most (the burst), refilled at `refillPerSecond` (the sustained rate). @public */
export interface Route53BucketSpec {
  /** Maximum tokens held, i.e. the burst a full bucket absorbs at once (≥ 1). */
  readonly capacity: number;
  /** Tokens added per second, up to `capacity` (> 0). */
  readonly refillPerSecond: number;
}

/**
 * Route 53's throttling model as data. The next change AWS makes is an edit of this table (or a table
 * passed as `table` to {@link createRoute53RateLimiter}).
 * @public
 */
export interface Route53ThrottlingTable {
  /** The account-level bucket every request draws from. */
  readonly account: Route53BucketSpec;
  /** The bucket of every action not listed in `actions` (each such action gets its own). */
  readonly defaultAction: Route53BucketSpec;
  /** Per-action buckets, keyed by the API action name (`CreateHostedZone`, …). */
  readonly actions: Readonly<Record<string, Route53BucketSpec>>;
  /**
   * The change-throughput bucket, in individual record changes: a request that changes records
   * (`ChangeResourceRecordSets`) takes one token per `Change` element. Absent: changes are not limited
   * on the client side.
   */
  readonly changes?: Route53BucketSpec;
}

/**
 * Route 53's published buckets since 2026-07-30 (AWS Route 53 Developer Guide, "Throttling for Amazon
 * Route 53 API requests"; `shared/research/aws-facts.md` 2.3): account 50 burst / 10 per second; every
 * unlisted action 50 / 10; `CreateHostedZone` 40 / 2, `DeleteHostedZone` 40 / 5,
 * `CreateReusableDelegationSet` 40 / 2, `AssociateVPCWithHostedZone` 20 / 5, and the other listed actions.
 *
 * The change-throughput bucket is **not** in this table: its figures were not captured in our research.
 * Add `changes` (for example `{ ...ROUTE53_THROTTLING_2026, changes: { capacity, refillPerSecond } }`)
 * from the AWS page before sizing large change batches.
 * @public
 */
export const ROUTE53_THROTTLING_2026: Route53ThrottlingTable = Object.freeze({
  account: Object.freeze({ capacity: 50, refillPerSecond: 10 }),
  defaultAction: Object.freeze({ capacity: 50, refillPerSecond: 10 }),
  actions: Object.freeze({
    AssociateVPCWithHostedZone: Object.freeze({ capacity: 20, refillPerSecond: 5 }),
    ChangeCidrCollection: Object.freeze({ capacity: 40, refillPerSecond: 5 }),
    CreateCidrCollection: Object.freeze({ capacity: 40, refillPerSecond: 5 }),
    CreateHealthCheck: Object.freeze({ capacity: 50, refillPerSecond: 0.5 }),
    CreateHostedZone: Object.freeze({ capacity: 40, refillPerSecond: 2 }),
    CreateReusableDelegationSet: Object.freeze({ capacity: 40, refillPerSecond: 2 }),
    CreateTrafficPolicyInstance: Object.freeze({ capacity: 1, refillPerSecond: 1 }),
    DeleteCidrCollection: Object.freeze({ capacity: 40, refillPerSecond: 5 }),
    DeleteHealthCheck: Object.freeze({ capacity: 15, refillPerSecond: 3 }),
    DeleteHostedZone: Object.freeze({ capacity: 40, refillPerSecond: 5 }),
    DeleteReusableDelegationSet: Object.freeze({ capacity: 40, refillPerSecond: 5 }),
    DeleteTrafficPolicyInstance: Object.freeze({ capacity: 1, refillPerSecond: 1 }),
    DisassociateVPCFromHostedZone: Object.freeze({ capacity: 10, refillPerSecond: 5 }),
    GetHealthCheckLastFailureReason: Object.freeze({ capacity: 4, refillPerSecond: 1 }),
    GetHealthCheckStatus: Object.freeze({ capacity: 4, refillPerSecond: 1 }),
  }),
});

/**
 * The account's sustained rate in {@link ROUTE53_THROTTLING_2026}: 10 requests per second.
 * @public
 */
export const DEFAULT_ROUTE53_REQUESTS_PER_SECOND: number = ROUTE53_THROTTLING_2026.account.refillPerSecond;

/** What one request asks of the limiter. @public */
export interface Route53AcquireOptions extends CallOptions {
  /** The API action (`ListHostedZones`, `CreateHostedZone`, …); default: an unlisted action. */
  readonly action?: string;
  /** Record changes the request makes (`Change` elements of a `ChangeResourceRecordSets`); default 0. */
  readonly changes?: number;
}

/**
 * A request budget. The Route 53 provider calls {@link Route53RateLimiter.acquire} before every HTTP
 * attempt, including the SDK's own retries, so retries never exceed the budget.
 * @public
 */
export interface Route53RateLimiter {
  /** The account bucket's sustained rate, in requests per second. */
  readonly requestsPerSecond: number;
  /**
   * Resolves when the request may be sent (its tokens are taken); rejects with `signal.reason` if
   * aborted while waiting, without taking any token.
   */
  acquire(options?: Route53AcquireOptions): Promise<void>;
}

/** Options of {@link createRoute53RateLimiter}. @public */
export interface Route53RateLimiterOptions {
  /** The buckets (default {@link ROUTE53_THROTTLING_2026}). */
  readonly table?: Route53ThrottlingTable;
  /**
   * This process's share of the account, as the account rate it may use: every bucket of `table`
   * (capacity and refill) is scaled by `requestsPerSecond ÷ table.account.refillPerSecond`, so e.g.
   * `5` with the default table means half of every bucket, leaving the other half to ExternalDNS and
   * the console. Default: the whole table (no scaling).
   */
  readonly requestsPerSecond?: number;
}

/** A limiter from {@link createRoute53RateLimiter}, with counters for tests and metrics. @public */
export interface Route53RequestBudget extends Route53RateLimiter {
  /** The table in force (after `requestsPerSecond` scaling). */
  readonly table: Route53ThrottlingTable;
  /** Requests let through so far. */
  readonly granted: number;
  /** Requests waiting for tokens now. */
  readonly waiting: number;
  /** Tokens in the account bucket now (fractional while refilling). */
  accountTokens(): number;
  /** Tokens in `action`'s bucket now. */
  actionTokens(action: string): number;
}

const MAX_RATE = 100_000;

function checkSpec(spec: unknown, where: string): Route53BucketSpec {
  const s = spec as Partial<Route53BucketSpec> | null;
  const ok =
    typeof s === 'object' &&
    s !== null &&
    typeof s.capacity === 'number' &&
    Number.isFinite(s.capacity) &&
    s.capacity >= 1 &&
    s.capacity <= 10_000_000 &&
    typeof s.refillPerSecond === 'number' &&
    Number.isFinite(s.refillPerSecond) &&
    s.refillPerSecond > 0 &&
    s.refillPerSecond <= 10_000_000;
  if (!ok) {
    throw invalidInput(
      `Route 53: throttling table ${where} must be { capacity ≥ 1, refillPerSecond > 0 }, got ${JSON.stringify(spec)}.`,
    );
  }
  return { capacity: s.capacity as number, refillPerSecond: s.refillPerSecond as number };
}

/**
 * Validates a table and scales it to `requestsPerSecond` (see {@link Route53RateLimiterOptions}). Pure.
 * @throws ZonekeeperError `INVALID_INPUT` for a malformed table or rate.
 * @public
 */
export function resolveRoute53ThrottlingTable(
  options: Route53RateLimiterOptions = {},
): Route53ThrottlingTable {
  const table = options.table ?? ROUTE53_THROTTLING_2026;
  if (
    typeof table !== 'object' ||
    table === null ||
    typeof table.actions !== 'object' ||
    table.actions === null
  ) {
    throw invalidInput('Route 53: the throttling table needs account, defaultAction and actions.');
  }
  const account = checkSpec(table.account, 'account');
  const rate = options.requestsPerSecond;
  if (
    rate !== undefined &&
    (typeof rate !== 'number' || !Number.isFinite(rate) || rate <= 0 || rate > MAX_RATE)
  ) {
    throw invalidInput(
      `Route 53: requestsPerSecond must be a positive number (at most ${MAX_RATE}), got ${String(rate)}.`,
    );
  }
  const factor = rate === undefined ? 1 : rate / account.refillPerSecond;
  const scale = (s: Route53BucketSpec): Route53BucketSpec =>
    Object.freeze({
      capacity: Math.max(1, Math.floor(s.capacity * factor)),
      refillPerSecond: s.refillPerSecond * factor,
    });
  const actions: Record<string, Route53BucketSpec> = {};
  for (const [name, spec] of Object.entries(table.actions))
    actions[name] = scale(checkSpec(spec, `actions.${name}`));
  return Object.freeze({
    account: scale(account),
    defaultAction: scale(checkSpec(table.defaultAction, 'defaultAction')),
    actions: Object.freeze(actions),
    ...(table.changes === undefined ? {} : { changes: scale(checkSpec(table.changes, 'changes')) }),
  });
}

function bucketOf(spec: Route53BucketSpec, parentBucket?: TokenBucket): TokenBucket {
  const bucket = new TokenBucket({
    bucketSize: spec.capacity,
    tokensPerInterval: spec.refillPerSecond,
    interval: 1000,
    ...(parentBucket === undefined ? {} : { parentBucket }),
  });
  bucket.content = spec.capacity; // buckets start full
  return bucket;
}

interface Waiter {
  readonly bucket: TokenBucket; // the action's bucket; its parent is the account bucket
  readonly changes: number;
  readonly resolve: () => void;
  readonly reject: (reason: unknown) => void;
  readonly signal: AbortSignal | undefined;
  readonly onAbort: () => void;
}

/**
 * Creates a limiter enforcing a throttling table (default {@link ROUTE53_THROTTLING_2026}). Requests are
 * served first come, first served per bucket: a request waiting for its own action's bucket (say
 * `CreateHostedZone`) does not hold up requests of other actions, but nothing overtakes a request that
 * waits for the account bucket. Time is the platform's monotonic clock (`performance.now()`) and timers
 * (`setTimeout`); tests drive both with fake timers.
 *
 * @example
 * ```ts
 * const limiter = createRoute53RateLimiter({ requestsPerSecond: 6 }); // 60 % of the account, 40 % left to ExternalDNS
 * const a = createRoute53Provider({ rateLimiter: limiter });
 * const b = createRoute53Provider({ rateLimiter: limiter, region: 'eu-west-1' });
 * ```
 * @throws ZonekeeperError `INVALID_INPUT` for a malformed table or rate.
 * @public
 */
export function createRoute53RateLimiter(options: Route53RateLimiterOptions = {}): Route53RequestBudget {
  const table = resolveRoute53ThrottlingTable(options);
  const account = bucketOf(table.account);
  const actionBuckets = new Map<string, TokenBucket>();
  const defaultActionKey = '\u0000default';
  const changeBucket = table.changes === undefined ? undefined : bucketOf(table.changes);
  const queue: Waiter[] = [];
  let granted = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;

  function actionBucket(action: string | undefined): TokenBucket {
    const key =
      action !== undefined && Object.hasOwn(table.actions, action) ? action : (action ?? defaultActionKey);
    let bucket = actionBuckets.get(key);
    if (bucket === undefined) {
      const spec = table.actions[key] ?? table.defaultAction;
      bucket = bucketOf(spec, account);
      actionBuckets.set(key, bucket);
    }
    return bucket;
  }

  function changeCost(changes: number): number {
    return changeBucket === undefined || changes === 0 ? 0 : Math.min(changes, changeBucket.bucketSize);
  }

  /** Grants every waiter that can go now, in order; schedules one timer for the next possible grant. */
  function pump(): void {
    if (timer !== undefined) {
      clearTimeout(timer);
      timer = undefined;
    }
    const blocked = new Set<TokenBucket>();
    let nextMs = Number.POSITIVE_INFINITY;
    for (let i = 0; i < queue.length; ) {
      const w = queue[i] as Waiter;
      const cost = changeCost(w.changes);
      if (blocked.has(w.bucket) || (cost > 0 && blocked.has(changeBucket as TokenBucket))) {
        i++;
        continue;
      }
      // getWaitTime drips and covers the action bucket and its parent, the account bucket.
      const requestWait = w.bucket.getWaitTime(1);
      const changeWait = cost > 0 ? (changeBucket as TokenBucket).getWaitTime(cost) : 0;
      if (requestWait === 0 && changeWait === 0 && w.bucket.tryRemoveTokens(1)) {
        if (cost > 0) (changeBucket as TokenBucket).tryRemoveTokens(cost);
        queue.splice(i, 1);
        w.signal?.removeEventListener('abort', w.onAbort);
        granted++;
        w.resolve();
        continue;
      }
      nextMs = Math.min(nextMs, Math.max(1, requestWait, changeWait));
      const accountWait = account.getWaitTime(1);
      if (accountWait > 0) break; // everyone needs the account bucket: nobody overtakes
      if (requestWait > 0) blocked.add(w.bucket);
      if (changeWait > 0) blocked.add(changeBucket as TokenBucket);
      i++;
    }
    if (queue.length > 0 && Number.isFinite(nextMs)) timer = setTimeout(pump, Math.ceil(nextMs));
  }

  return {
    table,
    requestsPerSecond: table.account.refillPerSecond,
    get granted() {
      return granted;
    },
    get waiting() {
      return queue.length;
    },
    accountTokens() {
      account.drip();
      return account.content;
    },
    actionTokens(action) {
      const bucket = actionBucket(action);
      bucket.drip();
      return bucket.content;
    },
    acquire(acquireOptions = {}) {
      const { signal, action, changes = 0 } = acquireOptions;
      if (signal?.aborted) return Promise.reject(signal.reason);
      if (action !== undefined && (typeof action !== 'string' || action.length === 0)) {
        return Promise.reject(invalidInput('Route 53: the rate limiter needs a non-empty action name.'));
      }
      if (!Number.isInteger(changes) || changes < 0) {
        return Promise.reject(
          invalidInput(`Route 53: changes must be a non-negative integer, got ${String(changes)}.`),
        );
      }
      return new Promise<void>((resolve, reject) => {
        const waiter: Waiter = {
          bucket: actionBucket(action),
          changes,
          resolve,
          reject,
          signal,
          onAbort: () => {
            const at = queue.indexOf(waiter);
            if (at >= 0) queue.splice(at, 1);
            reject(signal?.reason);
            pump();
          },
        };
        signal?.addEventListener('abort', waiter.onAbort, { once: true });
        queue.push(waiter);
        pump();
      });
    },
  };
}

let shared: Route53RequestBudget | undefined;

/**
 * The process-wide limiter for one AWS account with the default table, created on first use. Every
 * Route 53 provider created without `rateLimiter` or `requestsPerSecond` uses it, so all clients of the
 * process share the account's budget. A process that talks to several accounts creates one limiter per
 * account instead and passes it as `rateLimiter`.
 * @public
 */
export function sharedRoute53RateLimiter(): Route53RequestBudget {
  shared ??= createRoute53RateLimiter();
  return shared;
}
