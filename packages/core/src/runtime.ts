/**
 * Injected runtime: cancellation, time and logging. Pure functions never use these; only apply steps,
 * ensure functions and adapters do, and they receive them from the caller.
 *
 * @packageDocumentation
 */

import { ZonekeeperError } from './errors.js';

/**
 * Per-call options. Every async public function and port method takes it as its last parameter and
 * forwards `signal` to every remote call it makes.
 * @public
 */
export interface CallOptions {
  /** Aborts the operation; the platform `AbortError`/`TimeoutError` (`signal.reason`) is re-thrown. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Throws `signal.reason` if the signal is aborted. Call it between steps so an abort leaves the
 * remaining steps unexecuted.
 * @public
 */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  signal?.throwIfAborted();
}

/**
 * Waits `ms` milliseconds, or rejects with the signal's reason as soon as it aborts (at once when it
 * already has). The timer is cleared on abort.
 * @public
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * The call options with nothing but the signal: what every function forwards to the remote calls it
 * makes, so that options meant for it (`dryRun`, timeouts) never leak into a port call.
 *
 * @example
 * ```ts
 * await dns.getZone(id, signalOnly(options));
 * ```
 * @public
 */
export function signalOnly(options: CallOptions | undefined): CallOptions {
  return options?.signal === undefined ? {} : { signal: options.signal };
}

/**
 * Re-throws `signal.reason` unchanged when the signal is aborted, whatever the reason's type (an
 * `AbortError`, a `TimeoutError`, or any value a caller passed to `abort()`). Use it in `catch` blocks
 * so that clean-up or translation code never turns an abort into another error.
 * @public
 */
export function rethrowIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason;
}

/**
 * A source of time. Pure functions take `now` as data; only code that waits or stamps uses a clock.
 * @public
 */
export interface Clock {
  /** The current instant. */
  now(): Date;
  /** Resolves after `ms` milliseconds; rejects with `signal.reason` when aborted. */
  sleep(ms: number, options?: CallOptions): Promise<void>;
}

/**
 * The real clock: `new Date()` and `setTimeout`.
 * @public
 */
export const systemClock: Clock = {
  now: () => new Date(),
  sleep: (ms, options = {}) =>
    new Promise<void>((resolve, reject) => {
      const { signal } = options;
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      const timer = setTimeout(
        () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        Math.max(0, ms),
      );
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

/**
 * A clock for tests and simulations: time moves only when {@link ManualClock.advance} (or `set`) is
 * called, and pending sleeps resolve in deadline order as time passes them.
 * @public
 */
export interface ManualClock extends Clock {
  /** Moves time forward by `ms` and resolves every sleep whose deadline has passed. */
  advance(ms: number): Promise<void>;
  /** Jumps to `instant` (must not go backwards) and resolves passed sleeps. */
  set(instant: Date): Promise<void>;
  /** Number of sleeps not yet resolved. */
  readonly pendingSleeps: number;
}

/**
 * Creates a {@link ManualClock} starting at `start`.
 *
 * If `autoAdvance` is true, a `sleep` advances the clock by its duration and resolves at once, which makes
 * polling loops run instantly in tests while the clock still records how long they waited.
 * @public
 */
export function createManualClock(
  start: Date,
  options: { readonly autoAdvance?: boolean } = {},
): ManualClock {
  let nowMs = start.getTime();
  if (!Number.isFinite(nowMs)) throw new TypeError('createManualClock: start must be a valid Date');
  const sleepers: { at: number; resolve: () => void }[] = [];
  const release = async () => {
    sleepers.sort((a, b) => a.at - b.at);
    while (sleepers.length > 0 && (sleepers[0] as { at: number }).at <= nowMs) {
      sleepers.shift()?.resolve();
      // Let the woken task run before waking the next, so ordering is observable.
      await Promise.resolve();
    }
  };
  return {
    now: () => new Date(nowMs),
    sleep(ms, callOptions = {}) {
      const { signal } = callOptions;
      if (signal?.aborted) return Promise.reject(signal.reason);
      if (options.autoAdvance) {
        nowMs += Math.max(0, ms);
        return release();
      }
      return new Promise<void>((resolve, reject) => {
        const entry = {
          at: nowMs + Math.max(0, ms),
          resolve: () => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          },
        };
        const onAbort = () => {
          const i = sleepers.indexOf(entry);
          if (i >= 0) sleepers.splice(i, 1);
          reject(signal?.reason);
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        sleepers.push(entry);
      });
    },
    async advance(ms) {
      nowMs += Math.max(0, ms);
      await release();
    },
    async set(instant) {
      const t = instant.getTime();
      if (!(t >= nowMs)) throw new RangeError('ManualClock.set: time cannot go backwards');
      nowMs = t;
      await release();
    },
    get pendingSleeps() {
      return sleepers.length;
    },
  };
}

/**
 * A console-compatible logger (`console`, pino and winston all fit). zonekeeper is silent unless given
 * one, and never passes a secret to it.
 * @public
 */
export interface Logger {
  trace?(message: string, ...meta: unknown[]): void;
  debug(message: string, ...meta: unknown[]): void;
  info(message: string, ...meta: unknown[]): void;
  warn(message: string, ...meta: unknown[]): void;
  error(message: string, ...meta: unknown[]): void;
}

/**
 * The default logger: it drops everything.
 * @public
 */
export const noopLogger: Logger = {
  trace: () => {},
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
};

/**
 * Masks a secret for display. The result never reveals the secret's length: it is eight `*` followed by
 * at most the last `visible` characters (and never more than a quarter of the value), so
 * `maskSecret('AKIAIOSFODNN7EXAMPLE', 4)` is `'********MPLE'` and `maskSecret(secretKey)` is `'********'`.
 * Use `visible = 0` (the default) for secret access keys, private keys and tokens.
 * @public
 */
export function maskSecret(value: string, visible = 0): string {
  const keep = Math.max(0, Math.min(Math.floor(visible), Math.floor(value.length / 4)));
  return `********${keep > 0 ? value.slice(-keep) : ''}`;
}

/** Options of {@link pollUntil}. @public */
export interface PollOptions extends CallOptions {
  /** Clock used for waiting and the deadline (default {@link systemClock}). */
  readonly clock?: Clock;
  /** Give up after this long (default 300 000 ms); the failure is a `TIMEOUT` error. */
  readonly timeoutMs?: number;
  /** First delay between attempts (default 500 ms). */
  readonly initialDelayMs?: number;
  /** Largest delay between attempts (default 10 000 ms). */
  readonly maxDelayMs?: number;
  /** Growth factor of the delay (default 2). */
  readonly factor?: number;
  /** Describes what is awaited, for the timeout message (e.g. `'Route 53 change C123 to be INSYNC'`). */
  readonly what?: string;
}

/** What a poll attempt reports: finished with a value, or not yet (optionally with a hint). @public */
export type PollResult<T> =
  | { readonly done: true; readonly value: T }
  | { readonly done: false; readonly retryAfterMs?: number };

/**
 * Calls `attempt` until it reports `done`, waiting with capped exponential backoff between attempts.
 * Throws a `TIMEOUT` {@link ZonekeeperError} after `timeoutMs`, re-throws `signal.reason` on abort, and
 * lets any error thrown by `attempt` propagate unchanged (retries of failed calls belong to the
 * adapters' SDK retry strategies, not here).
 * @public
 */
export async function pollUntil<T>(
  attempt: (attemptNumber: number) => Promise<PollResult<T>>,
  options: PollOptions = {},
): Promise<T> {
  const clock = options.clock ?? systemClock;
  const timeoutMs = options.timeoutMs ?? 300_000;
  const maxDelayMs = options.maxDelayMs ?? 10_000;
  const factor = options.factor ?? 2;
  const started = clock.now().getTime();
  let delay = options.initialDelayMs ?? 500;
  for (let n = 1; ; n++) {
    throwIfAborted(options.signal);
    const result = await attempt(n);
    if (result.done) return result.value;
    const elapsed = clock.now().getTime() - started;
    const wait = Math.min(result.retryAfterMs ?? delay, maxDelayMs);
    if (elapsed + wait > timeoutMs) {
      throw new ZonekeeperError(
        'TIMEOUT',
        `Timed out after ${elapsed} ms waiting for ${options.what ?? 'an operation'} (${n} attempts).`,
        {
          details: { attempts: n, elapsedMs: elapsed, timeoutMs },
        },
      );
    }
    await clock.sleep(wait, options.signal === undefined ? {} : { signal: options.signal });
    delay = Math.min(delay * factor, maxDelayMs);
  }
}

/** AWS access key ids (`AKIA…` long-term, `ASIA…` temporary). */
const ACCESS_KEY_ID = /\b(?:AKIA|ASIA)[A-Z0-9]{12,124}\b/g;

/**
 * Masks every AWS access key id in `text` to its last 4 characters (`********WXYZ`), as the CLI shows
 * them. Secret access keys never reach text in the first place; key ids are not secret, but they are
 * one half of a credential and have no business in logs.
 * @public
 */
export function maskAccessKeyIds(text: string): string {
  return text.replace(ACCESS_KEY_ID, (id) => maskSecret(id, 4));
}

/**
 * A logger that masks access key ids ({@link maskAccessKeyIds}) in every message and string argument
 * before handing them to `logger`. zonekeeper wraps the configured logger in it once, so no package
 * needs to remember to.
 * @public
 */
export function maskingLogger(logger: Logger): Logger {
  const mask = (x: unknown) => (typeof x === 'string' ? maskAccessKeyIds(x) : x);
  const at =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (message: string, ...meta: unknown[]) =>
      logger[level](maskAccessKeyIds(message), ...meta.map(mask));
  return {
    ...(logger.trace
      ? { trace: (m: string, ...x: unknown[]) => logger.trace?.(maskAccessKeyIds(m), ...x.map(mask)) }
      : {}),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
  };
}
