/**
 * Translation of AWS SDK errors from Route 53 into `ZonekeeperError`s, at the adapter boundary. The SDK
 * error is kept as `cause`; messages start with `Route 53:` and say what to do next.
 *
 * ```
 *  Route 53 / SDK error                                                  code
 *  Throttling, PriorRequestNotComplete, TooManyRequests…, HTTP 429      THROTTLED
 *  NoSuchHostedZone, NoSuchChange, NoSuchDelegationSet, HTTP 404        NOT_FOUND
 *  HostedZoneAlreadyExists                                               ALREADY_EXISTS
 *  HostedZoneNotEmpty, InvalidChangeBatch, TooManyHostedZones,          CONFLICT
 *  LimitsExceeded, ConflictingDomainExists, DelegationSetNotAvailable…
 *  InvalidInput, InvalidDomainName, InvalidArgument, InvalidPagination… INVALID_INPUT
 *  AccessDenied, InvalidClientTokenId, SignatureDoesNotMatch, HTTP 403  PERMISSION_DENIED
 *  HTTP 5xx, ServiceUnavailable, network errors, timeouts               UNAVAILABLE
 *  anything else                                                         INTERNAL
 * ```
 *
 * @packageDocumentation
 */

import { type ErrorCode, isZonekeeperError, ZonekeeperError } from '@zonekeeper/core';

const THROTTLED = new Set([
  'Throttling',
  'ThrottlingException',
  'PriorRequestNotComplete',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
]);
const NOT_FOUND = new Set(['NoSuchHostedZone', 'NoSuchChange', 'NoSuchDelegationSet', 'NoSuchHealthCheck']);
const LIMITS = new Set([
  'TooManyHostedZones',
  'LimitsExceeded',
  'TooManyTagKeys',
  'DelegationSetNotAvailable',
  'ConflictingDomainExists',
  'HostedZonePartiallyDelegated',
  'ConcurrentModification',
  'ConflictingTypes',
]);
const INVALID = new Set([
  'InvalidInput',
  'InvalidDomainName',
  'InvalidArgument',
  'InvalidPaginationToken',
  'InvalidVPCId',
  'ValidationException',
]);
const DENIED = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'UnrecognizedClientException',
  'ExpiredToken',
  'ExpiredTokenException',
  'IncompleteSignature',
  'MissingAuthenticationToken',
  'InvalidSignatureException',
  'NotAuthorized',
]);
const UNAVAILABLE = new Set([
  'ServiceUnavailable',
  'InternalFailure',
  'InternalError',
  'InternalServerError',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);
const NETWORK = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
]);

/** Where a failure happened, for the message. @public */
export interface Route53ErrorContext {
  /** The API operation, e.g. `ChangeResourceRecordSets`. */
  readonly operation: string;
  /** What it was about, e.g. `zone Z123` or `zone example.com`. */
  readonly subject?: string;
}

interface Facts {
  readonly name: string;
  readonly status: number | undefined;
  readonly attempts: number | undefined;
  readonly message: string;
  readonly networkCode: string | undefined;
}

function factsOf(error: unknown): Facts {
  const e = (typeof error === 'object' && error !== null ? error : {}) as {
    name?: unknown;
    code?: unknown;
    message?: unknown;
    $metadata?: { httpStatusCode?: unknown; attempts?: unknown };
  };
  const status = typeof e.$metadata?.httpStatusCode === 'number' ? e.$metadata.httpStatusCode : undefined;
  const attempts = typeof e.$metadata?.attempts === 'number' ? e.$metadata.attempts : undefined;
  const code = typeof e.code === 'string' ? e.code : undefined;
  return {
    name: typeof e.name === 'string' ? e.name : 'Error',
    status,
    attempts,
    message: (typeof e.message === 'string' ? e.message : String(error)).slice(0, 500),
    networkCode: code !== undefined && (NETWORK.has(code) || code.startsWith('E')) ? code : undefined,
  };
}

function classify(f: Facts): ErrorCode {
  if (THROTTLED.has(f.name) || f.status === 429) return 'THROTTLED';
  if (NOT_FOUND.has(f.name)) return 'NOT_FOUND';
  if (f.name === 'HostedZoneAlreadyExists') return 'ALREADY_EXISTS';
  if (f.name === 'HostedZoneNotEmpty' || f.name === 'InvalidChangeBatch' || LIMITS.has(f.name))
    return 'CONFLICT';
  if (INVALID.has(f.name)) return 'INVALID_INPUT';
  if (DENIED.has(f.name) || f.status === 403) return 'PERMISSION_DENIED';
  if (UNAVAILABLE.has(f.name) || (f.status !== undefined && f.status >= 500)) return 'UNAVAILABLE';
  if (f.status === undefined && (f.networkCode !== undefined || NETWORK.has(f.name))) return 'UNAVAILABLE';
  if (f.status === 404) return 'NOT_FOUND';
  if (f.status === 409) return 'CONFLICT';
  return 'INTERNAL';
}

function nextStep(code: ErrorCode, f: Facts, ctx: Route53ErrorContext): string {
  switch (code) {
    case 'THROTTLED':
      return f.name === 'PriorRequestNotComplete'
        ? 'Route 53 is still processing an earlier change to this zone; retry in a few seconds.'
        : 'The account-wide request budget (Route 53: 50 burst, 10 requests/s, less for CreateHostedZone and DeleteHostedZone) is shared with ExternalDNS and every other tool of the account: share one rate limiter between providers, lower requestsPerSecond, or retry later.';
    case 'NOT_FOUND':
      return 'It may have been deleted meanwhile; list the zones again.';
    case 'ALREADY_EXISTS':
      return 'A hosted zone was already created with this CallerReference; look it up by name instead of creating it again.';
    case 'CONFLICT':
      if (f.name === 'HostedZoneNotEmpty')
        return 'Delete every record except the apex SOA and NS first (deleteOrganizationZone does).';
      if (f.name === 'InvalidChangeBatch')
        return 'Nothing was changed; read the records again (someone may have changed them) and rebuild the batch.';
      return 'A Route 53 quota or a conflicting resource blocks this; check the quotas in Service Quotas (us-east-1) or remove what conflicts.';
    case 'INVALID_INPUT':
      return 'Fix the request input.';
    case 'PERMISSION_DENIED':
      return `Grant route53:${ctx.operation} to the credentials in use (see the zone-manager README for the policy), and check that they are valid.`;
    case 'UNAVAILABLE':
      return 'Route 53 could not be reached or failed; check the network and endpoint, then retry.';
    default:
      return 'This is unexpected; please report it with the error cause.';
  }
}

/**
 * Translates an error thrown by the AWS SDK for a Route 53 call. Already-translated zonekeeper errors
 * pass through unchanged. (Aborts are handled by the caller: it re-throws `signal.reason`.)
 * @public
 */
export function translateRoute53Error(error: unknown, context: Route53ErrorContext): ZonekeeperError {
  if (isZonekeeperError(error)) return error;
  const f = factsOf(error);
  const code = classify(f);
  const what = `${context.operation}${context.subject === undefined ? '' : ` (${context.subject})`}`;
  const said = f.networkCode ?? f.name;
  const after = f.attempts !== undefined && f.attempts > 1 ? ` after ${f.attempts} attempts` : '';
  return new ZonekeeperError(
    code,
    `Route 53: ${what} failed${after}: ${said}: ${f.message} ${nextStep(code, f, context)}`,
    {
      cause: error,
      details: {
        operation: context.operation,
        awsErrorCode: f.name,
        ...(context.subject === undefined ? {} : { subject: context.subject }),
        ...(f.status === undefined ? {} : { httpStatus: f.status }),
        ...(f.attempts === undefined ? {} : { attempts: f.attempts }),
      },
    },
  );
}
