/**
 * Translation of PowerDNS API failures into `ZonekeeperError`s, at the adapter boundary. The original
 * error is kept as `cause`; messages start with `PowerDNS:`, say what to do next and never contain the
 * API key.
 *
 * ```
 *  PowerDNS answer / failure                               code               retry
 *  HTTP 401, 403 (wrong key, webserver-allow-from)         PERMISSION_DENIED  permanent
 *  HTTP 404                                                NOT_FOUND          permanent
 *  HTTP 409 (a zone or key name is taken)                  CONFLICT           permanent
 *  HTTP 422 on PATCH (record content rejected)             CONFLICT           permanent
 *  HTTP 400, 422 elsewhere                                 INVALID_INPUT      permanent
 *  HTTP 429                                                THROTTLED          transient
 *  HTTP 5xx (backend errors), network errors, no answer    UNAVAILABLE        transient
 *  anything else                                           INTERNAL           bug
 * ```
 *
 * @packageDocumentation
 */

import { type ErrorCode, isZonekeeperError, ZonekeeperError } from '@zonekeeper/core';

/** Where a PowerDNS failure happened, for the message. @public */
export interface PowerDnsErrorContext {
  /** The API operation, e.g. `PatchZone`. */
  readonly operation: string;
  /** What it was about, e.g. `zone acme.example.com`. */
  readonly subject?: string;
  /** Read HTTP 422 as a rejected change (`CONFLICT`) rather than bad input. */
  readonly unprocessableIsConflict?: boolean;
}

const NETWORK =
  /^(ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|ECONNABORTED|UND_ERR_\w+)$/;

interface Facts {
  readonly status: number | undefined;
  readonly message: string;
  readonly network: string | undefined;
  readonly timeout: boolean;
}

function factsOf(error: unknown): Facts {
  const e = (typeof error === 'object' && error !== null ? error : {}) as {
    name?: unknown;
    status?: unknown;
    message?: unknown;
    code?: unknown;
    cause?: { code?: unknown; name?: unknown };
  };
  const status = e.name === 'PowerDnsApiError' && typeof e.status === 'number' ? e.status : undefined;
  const code =
    typeof e.cause?.code === 'string' ? e.cause.code : typeof e.code === 'string' ? e.code : undefined;
  return {
    status,
    message: (typeof e.message === 'string' ? e.message : String(error)).slice(0, 500),
    network:
      code !== undefined && NETWORK.test(code) ? code : e.name === 'TypeError' ? 'fetch failed' : undefined,
    timeout: e.name === 'TimeoutError' || e.cause?.name === 'TimeoutError',
  };
}

function classify(f: Facts, ctx: PowerDnsErrorContext): ErrorCode {
  if (f.status === undefined) return f.timeout || f.network !== undefined ? 'UNAVAILABLE' : 'INTERNAL';
  if (f.status === 401 || f.status === 403) return 'PERMISSION_DENIED';
  if (f.status === 404) return 'NOT_FOUND';
  if (f.status === 409) return 'CONFLICT';
  if (f.status === 422) return ctx.unprocessableIsConflict ? 'CONFLICT' : 'INVALID_INPUT';
  if (f.status === 400) return 'INVALID_INPUT';
  if (f.status === 429) return 'THROTTLED';
  if (f.status >= 500) return 'UNAVAILABLE';
  return 'INTERNAL';
}

function nextStep(code: ErrorCode): string {
  switch (code) {
    case 'PERMISSION_DENIED':
      return 'Check the API key (api-key in pdns.conf) and that webserver-allow-from admits this client.';
    case 'NOT_FOUND':
      return 'It may have been deleted meanwhile; list the zones again.';
    case 'CONFLICT':
      return 'Nothing was changed; read the current state again and rebuild the request.';
    case 'INVALID_INPUT':
      return 'Fix the request input.';
    case 'THROTTLED':
      return 'Retry later.';
    case 'UNAVAILABLE':
      return 'Check that pdns_server runs with api=yes and webserver=yes and that the URL is right, then retry.';
    default:
      return 'This is unexpected; please report it with the error cause.';
  }
}

/**
 * Translates a failure of a {@link PowerDnsApi} call. Zonekeeper errors pass through unchanged; aborts
 * are the caller's to re-throw (`signal.reason`) before calling this.
 * @public
 */
export function translatePowerDnsError(error: unknown, context: PowerDnsErrorContext): ZonekeeperError {
  if (isZonekeeperError(error)) return error;
  const f = factsOf(error);
  const code = classify(f, context);
  const what = `${context.operation}${context.subject === undefined ? '' : ` (${context.subject})`}`;
  const said =
    f.status !== undefined
      ? `HTTP ${f.status}: ${f.message}`
      : f.timeout
        ? 'no answer in time'
        : `${f.network ?? 'error'}: ${f.message}`;
  return new ZonekeeperError(code, `PowerDNS: ${what} failed: ${said}. ${nextStep(code)}`, {
    cause: error,
    details: {
      operation: context.operation,
      ...(context.subject === undefined ? {} : { subject: context.subject }),
      ...(f.status === undefined ? {} : { httpStatus: f.status }),
    },
  });
}
