/**
 * ACME problem documents (RFC 8555 §6.7, RFC 7807) as zonekeeper errors: each problem type maps to one
 * error code and retry class, so a caller decides on `retry` alone — `badNonce` and `rateLimited` are
 * worth another run later, a refused identifier never is. Pure.
 *
 * @packageDocumentation
 */

import { type ErrorCode, type RetryClass, ZonekeeperError } from '@zonekeeper/core';

/** The problem-type namespace of RFC 8555. @public */
export const ACME_ERROR_NAMESPACE = 'urn:ietf:params:acme:error:';

/** An ACME problem document, as far as zonekeeper reads it. Secret-free. @public */
export interface AcmeProblem {
  /** The full type URN, e.g. `urn:ietf:params:acme:error:badNonce`. */
  readonly type: string;
  readonly detail?: string;
  /** The HTTP status of the response that carried it, when there was one. */
  readonly status?: number;
  /** The `Retry-After` delay in milliseconds, when the response had one. */
  readonly retryAfterMs?: number;
  /** The identifier a sub-problem or challenge error concerned, when known. */
  readonly identifier?: string;
}

/** How one ACME problem type maps to a zonekeeper error. @public */
export interface AcmeProblemMapping {
  readonly code: ErrorCode;
  readonly retry: RetryClass;
}

/**
 * The mapping of every RFC 8555 problem type (the part after `urn:ietf:params:acme:error:`). A type not
 * listed maps by HTTP status: 5xx or none → `UNAVAILABLE`/transient, 4xx → `INTERNAL`/bug.
 * @public
 */
export const ACME_PROBLEM_MAPPINGS: Readonly<Record<string, AcmeProblemMapping>> = {
  // The request was fine; the server asks for it again (clients retry badNonce a few times themselves).
  badNonce: { code: 'UNAVAILABLE', retry: 'transient' },
  rateLimited: { code: 'THROTTLED', retry: 'transient' },
  serverInternal: { code: 'UNAVAILABLE', retry: 'transient' },
  // The CA could not reach or read the DNS: propagation, a lame server. Worth another run.
  dns: { code: 'UNAVAILABLE', retry: 'transient' },
  connection: { code: 'UNAVAILABLE', retry: 'transient' },
  // The CA looked and found the wrong answer, or will not issue for the name.
  unauthorized: { code: 'PERMISSION_DENIED', retry: 'permanent' },
  incorrectResponse: { code: 'PERMISSION_DENIED', retry: 'permanent' },
  caa: { code: 'PERMISSION_DENIED', retry: 'permanent' },
  rejectedIdentifier: { code: 'PERMISSION_DENIED', retry: 'permanent' },
  unsupportedIdentifier: { code: 'INVALID_INPUT', retry: 'permanent' },
  externalAccountRequired: { code: 'PERMISSION_DENIED', retry: 'permanent' },
  userActionRequired: { code: 'PERMISSION_DENIED', retry: 'permanent' },
  accountDoesNotExist: { code: 'NOT_FOUND', retry: 'permanent' },
  invalidContact: { code: 'INVALID_INPUT', retry: 'permanent' },
  unsupportedContact: { code: 'INVALID_INPUT', retry: 'permanent' },
  alreadyRevoked: { code: 'CONFLICT', retry: 'permanent' },
  // RFC 9773 §5: the certificate named in `replaces` already has a replacement (zonekeeper then orders
  // without `replaces`).
  alreadyReplaced: { code: 'CONFLICT', retry: 'permanent' },
  orderNotReady: { code: 'PENDING', retry: 'pending' },
  // What zonekeeper sent was wrong: a bug to report, not a condition to wait out.
  malformed: { code: 'INTERNAL', retry: 'bug' },
  badCSR: { code: 'INTERNAL', retry: 'bug' },
  badPublicKey: { code: 'INTERNAL', retry: 'bug' },
  badRevocationReason: { code: 'INTERNAL', retry: 'bug' },
  badSignatureAlgorithm: { code: 'INTERNAL', retry: 'bug' },
  compound: { code: 'PERMISSION_DENIED', retry: 'permanent' },
};

/** The short name of a problem type (`badNonce`), or the whole type when it is not RFC 8555's. @public */
export function acmeProblemName(type: string): string {
  return type.startsWith(ACME_ERROR_NAMESPACE) ? type.slice(ACME_ERROR_NAMESPACE.length) : type;
}

/** The code and retry class of a problem (see {@link ACME_PROBLEM_MAPPINGS}). Pure. @public */
export function acmeProblemMapping(problem: Pick<AcmeProblem, 'type' | 'status'>): AcmeProblemMapping {
  const known = ACME_PROBLEM_MAPPINGS[acmeProblemName(problem.type)];
  if (known && problem.type.startsWith(ACME_ERROR_NAMESPACE)) return known;
  return problem.status === undefined || problem.status >= 500
    ? { code: 'UNAVAILABLE', retry: 'transient' }
    : { code: 'INTERNAL', retry: 'bug' };
}

/** A detail as the CA wrote it, made safe for a message: one line, bounded. */
function cleanDetail(detail: string | undefined): string {
  if (detail === undefined) return '';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping them is the point.
  return detail.replace(/[\u0000-\u001f\u007f]+/g, ' ').slice(0, 500);
}

/**
 * The zonekeeper error for a problem met while doing `what` (e.g. `ordering web for acme`). The
 * message names the CA's problem type and detail; `details.acmeProblem` is the short type name, and a
 * `Retry-After` becomes `retryAfterMs`. Pure.
 * @public
 */
export function acmeProblemError(
  problem: AcmeProblem,
  what: string,
  context: Readonly<Record<string, unknown>> = {},
): ZonekeeperError {
  const { code, retry } = acmeProblemMapping(problem);
  const name = acmeProblemName(problem.type);
  const detail = cleanDetail(problem.detail);
  return new ZonekeeperError(
    code,
    `ACME: ${what}: the CA answered ${name}${problem.identifier ? ` for ${problem.identifier}` : ''}${detail ? `: ${detail}` : ''}.`,
    {
      retry,
      ...(problem.retryAfterMs === undefined ? {} : { retryAfterMs: problem.retryAfterMs }),
      details: {
        ...context,
        acmeProblem: name,
        ...(problem.status === undefined ? {} : { status: problem.status }),
        ...(problem.identifier === undefined ? {} : { identifier: problem.identifier }),
      },
    },
  );
}

/** Reads a problem document from a parsed JSON body; `undefined` when it is not one. Pure. @public */
export function parseAcmeProblem(
  body: unknown,
  status?: number,
  retryAfterMs?: number,
): AcmeProblem | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const { type, detail } = body as { type?: unknown; detail?: unknown };
  if (typeof type !== 'string' || type.length === 0 || type.length > 200) return undefined;
  return {
    type,
    ...(typeof detail === 'string' ? { detail } : {}),
    ...(status === undefined ? {} : { status }),
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  };
}

/**
 * A `Retry-After` header value in milliseconds (delta-seconds or an HTTP date, relative to `now`);
 * `undefined` when absent or unreadable. Pure.
 * @public
 */
export function parseRetryAfter(value: unknown, now: Date): number | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Math.min(Number(value.trim()), 86_400) * 1000;
  const at = Date.parse(value);
  if (Number.isNaN(at)) return undefined;
  return Math.min(Math.max(0, at - now.getTime()), 86_400_000);
}
