/**
 * The zonekeeper error family: one class, a closed set of codes, and a retry class that says what the
 * caller should do next.
 *
 * Every package throws only {@link ZonekeeperError}. Vendor errors (AWS, Vault, Kubernetes) are
 * translated at the adapter boundary and kept as `cause`. Guards check `name` and `code`, never
 * `instanceof`, so they work when two copies of `@zonekeeper/core` are installed.
 *
 * Messages never contain secrets (secret access keys, private keys, Vault tokens): constructors do not
 * inspect them, so callers must not put secrets in a message or in `details`.
 *
 * @packageDocumentation
 */

/**
 * Every error code zonekeeper uses, as a single `as const` map.
 * @public
 */
export const ErrorCodes = {
  /** The caller passed something invalid. Nothing was sent to a remote system. Fix the input. */
  INVALID_INPUT: 'INVALID_INPUT',
  /** The thing asked for does not exist. */
  NOT_FOUND: 'NOT_FOUND',
  /** A create hit an existing resource. */
  ALREADY_EXISTS: 'ALREADY_EXISTS',
  /** The remote state changed under us, or a limit blocks the change (check-and-set mismatch, key quota). */
  CONFLICT: 'CONFLICT',
  /** The resource exists but does not carry zonekeeper's ownership mark; zonekeeper will not touch it. */
  NOT_OWNED: 'NOT_OWNED',
  /** The credentials in use are not allowed to do this. */
  PERMISSION_DENIED: 'PERMISSION_DENIED',
  /** The remote service rate-limited the call. Retry later. */
  THROTTLED: 'THROTTLED',
  /** The remote service is unreachable, sealed or failing (5xx, network). Retry later. */
  UNAVAILABLE: 'UNAVAILABLE',
  /** The work is accepted but not finished (a Route 53 change still PENDING). Poll again. */
  PENDING: 'PENDING',
  /** Waiting for something took longer than allowed. */
  TIMEOUT: 'TIMEOUT',
  /** An invariant broke: this is a bug in zonekeeper or in a provider. Please report it. */
  INTERNAL: 'INTERNAL',
} as const;

/** One of {@link ErrorCodes}. @public */
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/**
 * What the caller should do with an error:
 * - `transient`: retry later (throttling, 5xx, network, timeouts);
 * - `pending`: the work is in progress, poll again after `retryAfterMs`;
 * - `permanent`: never retry automatically; the input or the world must change first;
 * - `bug`: an invariant broke.
 * @public
 */
export type RetryClass = 'transient' | 'pending' | 'permanent' | 'bug';

/** The retry class each code gets unless the thrower says otherwise. @public */
export const defaultRetryClass: Readonly<Record<ErrorCode, RetryClass>> = {
  INVALID_INPUT: 'permanent',
  NOT_FOUND: 'permanent',
  ALREADY_EXISTS: 'permanent',
  CONFLICT: 'permanent',
  NOT_OWNED: 'permanent',
  PERMISSION_DENIED: 'permanent',
  THROTTLED: 'transient',
  UNAVAILABLE: 'transient',
  PENDING: 'pending',
  TIMEOUT: 'transient',
  INTERNAL: 'bug',
};

/** Options of {@link ZonekeeperError}. @public */
export interface ZonekeeperErrorOptions {
  /** The underlying error (vendor error, network error). */
  readonly cause?: unknown;
  /** Overrides the code's {@link defaultRetryClass}. */
  readonly retry?: RetryClass;
  /** How long to wait before retrying, when known (e.g. from a `Retry-After` header). */
  readonly retryAfterMs?: number;
  /**
   * Structured, secret-free facts about the failure (ids, names, the failing step). By convention,
   * an error whose message tells to run an operation carries it as `remedy: { operation, organization?,
   * clusterId?, alternatives?, when? }` (e.g. `{ operation: 'ensureOrganization', organization: 'acme',
   * when: 'first' }`), so a front end (the `zonekeeper` CLI) can name its own command instead.
   */
  readonly details?: Readonly<Record<string, unknown>>;
}

/**
 * The one error class of zonekeeper.
 *
 * @example
 * ```ts
 * try { await ensureOrganizationZone(input, deps); }
 * catch (e) { if (hasErrorCode(e, 'NOT_OWNED')) console.error(e.message); else throw e; }
 * ```
 * @public
 */
export class ZonekeeperError extends Error {
  override readonly name = 'ZonekeeperError' as const;
  /** What went wrong, from {@link ErrorCodes}. */
  readonly code: ErrorCode;
  /** What to do next. */
  readonly retry: RetryClass;
  /** How long to wait before retrying, when known. */
  readonly retryAfterMs: number | undefined;
  /** Structured, secret-free facts about the failure. */
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, message: string, options: ZonekeeperErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retry = options.retry ?? defaultRetryClass[code];
    this.retryAfterMs = options.retryAfterMs;
    this.details = options.details;
  }

  /** A plain JSON view (no `cause`, which may carry vendor internals). */
  toJSON(): {
    name: 'ZonekeeperError';
    code: ErrorCode;
    retry: RetryClass;
    message: string;
    retryAfterMs?: number;
    details?: Readonly<Record<string, unknown>>;
  } {
    return {
      name: this.name,
      code: this.code,
      retry: this.retry,
      message: this.message,
      ...(this.retryAfterMs === undefined ? {} : { retryAfterMs: this.retryAfterMs }),
      ...(this.details === undefined ? {} : { details: this.details }),
    };
  }
}

const codeSet: ReadonlySet<string> = new Set(Object.values(ErrorCodes));

/**
 * True if `error` is a {@link ZonekeeperError} (checked by `name` and `code`, not `instanceof`).
 * @public
 */
export function isZonekeeperError(error: unknown): error is ZonekeeperError {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { name?: unknown }).name === 'ZonekeeperError' &&
    codeSet.has((error as { code?: unknown }).code as string)
  );
}

/**
 * True if `error` is a {@link ZonekeeperError} with the given code (or one of the given codes).
 * @public
 */
export function hasErrorCode(
  error: unknown,
  code: ErrorCode | readonly ErrorCode[],
): error is ZonekeeperError {
  if (!isZonekeeperError(error)) return false;
  return typeof code === 'string' ? error.code === code : code.includes(error.code);
}

/**
 * True if retrying later may succeed: a zonekeeper error whose retry class is `transient` or `pending`.
 * Anything else (including unknown errors and aborts) is not retryable.
 * @public
 */
export function isRetryable(error: unknown): boolean {
  return isZonekeeperError(error) && (error.retry === 'transient' || error.retry === 'pending');
}

/**
 * True if `error` is the platform's abort error (`AbortError` or `TimeoutError`, as thrown by
 * `AbortSignal.throwIfAborted()` and `AbortSignal.timeout()`).
 * @public
 */
export function isAbortError(error: unknown): boolean {
  const name = typeof error === 'object' && error !== null ? (error as { name?: unknown }).name : undefined;
  return name === 'AbortError' || name === 'TimeoutError';
}

/**
 * Shorthand for `new ZonekeeperError('INVALID_INPUT', message, { details })`.
 * @public
 */
export function invalidInput(message: string, details?: Readonly<Record<string, unknown>>): ZonekeeperError {
  return new ZonekeeperError(ErrorCodes.INVALID_INPUT, message, details === undefined ? {} : { details });
}

/**
 * Normalises anything thrown into a {@link ZonekeeperError}: zonekeeper errors pass through unchanged,
 * anything else becomes `INTERNAL` with the original as `cause`. Check {@link isAbortError} first if
 * aborts must stay aborts (by convention zonekeeper re-throws `signal.reason` untouched).
 * @public
 */
export function toZonekeeperError(error: unknown, context = 'Unexpected error'): ZonekeeperError {
  if (isZonekeeperError(error)) return error;
  const text = error instanceof Error ? error.message : String(error);
  return new ZonekeeperError(ErrorCodes.INTERNAL, `${context}: ${text}`, { cause: error });
}
