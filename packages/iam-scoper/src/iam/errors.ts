/**
 * The IAM adapter's error boundary: which SDK errors must not be retried, and the translation of AWS
 * errors into `ZonekeeperError`s.
 *
 * Two SDK behaviours shape it (research/aws-facts.md 2.7, test-infra.md 3):
 * - `LimitExceededException` (IAM's "2 access keys per user", and the inline-policy size budget) is in
 *   smithy's throttling list, so every retry strategy retries it. It is a hard error.
 * - Network errors and 5xx are retried as transient; for `CreateAccessKey`, whose request IAM may
 *   already have applied, a retry creates a second key the caller never sees (a leak). So
 *   `CreateAccessKey` (and `CreateUser`) is retried only after throttling, which IAM answers without
 *   creating anything.
 *
 * Both are enforced by a per-command middleware that sits inside the client's retry middleware (so it
 * works with any caller-built client and any retry strategy): it re-throws such errors wrapped in an
 * error no retry strategy classifies as retryable, and the translation unwraps it.
 *
 * Secrets: SDK error objects can carry the raw response (`$response`, `$responseBodyText`, both
 * non-enumerable). For a `CreateAccessKey` answer that failed to parse, that text contains the secret
 * access key. So the vendor error is never kept as `cause`: the cause is a plain `Error` with the AWS
 * error name, code, message (with anything that looks like a secret access key redacted), HTTP status and
 * request id.
 *
 * @packageDocumentation
 */

import { isThrottlingError } from '@smithy/core/retry';
import { type ErrorCode, type RetryClass, ZonekeeperError } from '@zonekeeper/core';

/** The name of the wrapper error that no retry strategy retries. @internal */
export const NOT_RETRIED = 'ZonekeeperIamNotRetried';

interface SdkErrorLike {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  Code?: unknown;
  $metadata?: { httpStatusCode?: number; requestId?: string; attempts?: number };
}

class NotRetried extends Error {
  override readonly name = NOT_RETRIED;
  readonly original: unknown;
  readonly $metadata: SdkErrorLike['$metadata'];
  constructor(original: unknown) {
    super('IAM request failed; not retried');
    this.original = original;
    // Its own metadata, without the original's HTTP status: a retry strategy classifies errors by
    // `$metadata.httpStatusCode` too (5xx is transient), so sharing the original's would make a 503 after
    // an applied CreateAccessKey retried after all. The retry middleware writes `attempts` here.
    this.$metadata = {};
  }
}

function isLimitExceeded(error: SdkErrorLike): boolean {
  return (
    error.name === 'LimitExceededException' ||
    error.name === 'LimitExceeded' ||
    error.Code === 'LimitExceeded'
  );
}

/**
 * Writes IAM may have applied although the caller saw an error (a 5xx or a dropped connection after the
 * request reached IAM): retrying them blindly creates a second key (a leak) or hides that the first
 * attempt created the user. They are retried only after throttling, which IAM answers without applying
 * anything; the operations reconcile what an applied-but-unanswered request left.
 */
const NOT_IDEMPOTENT: ReadonlySet<string> = new Set(['CreateAccessKeyCommand', 'CreateUserCommand']);

/** Decides whether the SDK may retry `error` for `commandName`. */
function mustNotRetry(commandName: string, error: unknown): boolean {
  const e = (error ?? {}) as SdkErrorLike;
  if (typeof error !== 'object' || error === null) return false;
  if (e.name === 'AbortError') return false;
  if (isLimitExceeded(e)) return true;
  if (NOT_IDEMPOTENT.has(commandName))
    return !isThrottlingError(error as Parameters<typeof isThrottlingError>[0]);
  return false;
}

interface MiddlewareStackLike {
  add(
    middleware: (
      next: (args: unknown) => Promise<unknown>,
      context: { commandName?: string },
    ) => (args: unknown) => Promise<unknown>,
    options: { step: 'finalizeRequest'; priority: 'low'; name: string; override: boolean },
  ): void;
}

/**
 * Adds the no-retry middleware to one command (see the module notes).
 * @internal
 */
export function withRetryGuard<C extends { middlewareStack: unknown }>(command: C): C {
  (command.middlewareStack as MiddlewareStackLike).add(
    (next, context) => async (args) => {
      try {
        return await next(args);
      } catch (error) {
        if (mustNotRetry(context.commandName ?? '', error)) throw new NotRetried(error);
        throw error;
      }
    },
    { step: 'finalizeRequest', priority: 'low', name: 'zonekeeperIamRetryGuard', override: true },
  );
  return command;
}

/** Replaces anything shaped like a secret access key (40 characters of base64) with `[redacted]`. */
export function redactSecrets(text: string): string {
  return text.replace(/(?<![A-Za-z0-9/+=])[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+=])/g, '[redacted]');
}

/** What the failing call was about, for messages and `details`. @internal */
export interface IamCallTarget {
  readonly userName?: string;
  readonly roleName?: string;
  readonly oidcProviderArn?: string;
  readonly policyName?: string;
  readonly accessKeyId?: string;
}

const ALREADY_EXISTS = new Set(['EntityAlreadyExists']);
const NOT_FOUND = new Set(['NoSuchEntity']);
const CONFLICT = new Set(['LimitExceeded', 'DeleteConflict']);
const CONFLICT_TRANSIENT = new Set(['ConcurrentModification', 'EntityTemporarilyUnmodifiable']);
const INVALID = new Set([
  'MalformedPolicyDocument',
  'InvalidInput',
  'ValidationError',
  'Validation',
  'PolicyNotAttachable',
]);
const THROTTLED = new Set([
  'Throttling',
  'ThrottlingException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'TooManyRequests',
  'SlowDown',
]);
const DENIED = new Set([
  'AccessDenied',
  'UnauthorizedOperation',
  'UnrecognizedClient',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
  'MissingAuthenticationToken',
  'ExpiredToken',
  'UnmodifiableEntity',
]);
const UNAVAILABLE = new Set([
  'ServiceFailure',
  'ServiceUnavailable',
  'InternalFailure',
  'RequestTimeout',
  'TimeoutError',
]);

function describeTarget(op: string, target: IamCallTarget): string {
  const parts = [
    target.userName === undefined ? undefined : `user ${target.userName}`,
    target.roleName === undefined ? undefined : `role ${target.roleName}`,
    target.oidcProviderArn === undefined ? undefined : `OIDC provider ${target.oidcProviderArn}`,
    target.policyName === undefined ? undefined : `policy ${target.policyName}`,
    target.accessKeyId === undefined ? undefined : `access key ${target.accessKeyId}`,
  ].filter((p): p is string => p !== undefined);
  return parts.length === 0 ? op : `${op} (${parts.join(', ')})`;
}

function advice(code: ErrorCode, awsCode: string, op: string): string {
  if (code === 'CONFLICT' && awsCode === 'LimitExceeded') {
    if (op === 'CreateRole' || op === 'UpdateAssumeRolePolicy') {
      return "The trust policy exceeds the account's role trust policy limit (ACLSizePerRole, 2,048 characters unless raised, at most 4,096). Use one role per cluster, or raise the quota (Service Quotas) and build with maxPolicyChars.";
    }
    if (op === 'PutRolePolicy') {
      return "The role's inline policies would exceed IAM's 10,240-character budget. Delete the role's other inline policies, then try again.";
    }
    if (op === 'CreateOpenIDConnectProvider') {
      return 'The account has the maximum number of OIDC providers (or the provider too many client ids). Delete unused providers or raise the quota, then try again.';
    }
    if (op === 'CreateAccessKey') {
      return 'The user already has the maximum of 2 access keys (not retried). Delete the keys zonekeeper does not know with reconcileAccessKeys (pass the ids stored in Vault), then try again.';
    }
    if (op === 'PutUserPolicy') {
      return "The user's inline policies would exceed IAM's 2,048-character budget. Delete the user's other inline policies (ensureZoneIdentity does), or allow fewer record names.";
    }
    return 'An IAM quota is exhausted (not retried). Free capacity or raise the quota, then try again.';
  }
  if (code === 'CONFLICT' && awsCode === 'DeleteConflict' && op === 'DeleteRole') {
    return 'The role still has inline or attached policies or is in an instance profile. deleteRolePolicy removes inline policies; remove the rest by hand, then try again.';
  }
  if (code === 'CONFLICT' && awsCode === 'DeleteConflict') {
    return 'The user still has access keys, inline or attached policies, a login profile, MFA devices or group memberships. deleteZoneIdentity removes keys and inline policies; remove the rest by hand, then try again.';
  }
  switch (code) {
    case 'ALREADY_EXISTS':
      if (op === 'CreateRole') return 'An IAM role of that name exists (names are compared without case).';
      if (op === 'CreateOpenIDConnectProvider') {
        return 'The account already has an OIDC provider for this issuer URL (one per URL); use it.';
      }
      return 'An IAM user of that name exists (names are compared without case).';
    case 'NOT_FOUND':
      return 'It does not exist (or was deleted concurrently).';
    case 'CONFLICT':
      return 'IAM is changing the entity concurrently; try again shortly.';
    case 'INVALID_INPUT':
      if (op === 'CreateRole' || op === 'UpdateAssumeRolePolicy') {
        return 'IAM rejected the trust policy: every Federated principal must be an OIDC provider registered in the account (register it before the role), and every principal must exist.';
      }
      return 'IAM rejected the input; fix it (zonekeeper validates names, paths, tags and documents first, so this is unexpected: please report it).';
    case 'THROTTLED':
      return "IAM rate-limited the call even after the SDK's retries; try again later or lower the call rate (maxAttempts / retryStrategy).";
    case 'PERMISSION_DENIED':
      if (/Role/.test(op)) {
        return `Check zonekeeper's own AWS credentials and that its IAM policy allows iam:${op} on arn:aws:iam::<account>:role/zonekeeper/* (buildIdentityAdminPolicy).`;
      }
      if (/OpenIDConnectProvider/.test(op)) {
        return `Check zonekeeper's own AWS credentials and that its IAM policy allows iam:${op} on arn:aws:iam::<account>:oidc-provider/* (buildIdentityAdminPolicy).`;
      }
      return `Check zonekeeper's own AWS credentials and that its IAM policy allows iam:${op} on arn:aws:iam::<account>:user/zonekeeper/*.`;
    case 'UNAVAILABLE':
      return op === 'CreateAccessKey'
        ? 'IAM may have created the key before the answer was lost (CreateAccessKey is not retried, so at most one): run reconcileAccessKeys with the ids stored in Vault, then try again.'
        : 'IAM is unreachable or failing; try again later (the operation converges when re-run).';
    default:
      return 'This IAM error is not one zonekeeper expects; please report it.';
  }
}

/**
 * Translates whatever an SDK `send` threw into a `ZonekeeperError` (see the module notes for what the
 * cause keeps).
 * @internal
 */
export function translateIamError(error: unknown, op: string, target: IamCallTarget = {}): ZonekeeperError {
  const wrapper = error as { name?: unknown; original?: unknown; $metadata?: SdkErrorLike['$metadata'] };
  const original = (wrapper?.name === NOT_RETRIED ? wrapper.original : error) as SdkErrorLike | undefined;
  const meta =
    wrapper?.name === NOT_RETRIED
      ? {
          ...original?.$metadata,
          ...(wrapper.$metadata?.attempts === undefined ? {} : { attempts: wrapper.$metadata.attempts }),
        }
      : (original?.$metadata ?? wrapper?.$metadata);
  const name = typeof original?.name === 'string' ? original.name : 'Error';
  const awsCode =
    typeof original?.Code === 'string'
      ? original.Code
      : name.endsWith('Exception')
        ? name.slice(0, -9)
        : name;
  const status = meta?.httpStatusCode;
  const networkCode = typeof original?.code === 'string' ? original.code : undefined;
  const vendorMessage = redactSecrets(String(original?.message ?? '').slice(0, 500));

  let code: ErrorCode;
  let retry: RetryClass | undefined;
  if (ALREADY_EXISTS.has(awsCode)) code = 'ALREADY_EXISTS';
  else if (NOT_FOUND.has(awsCode)) code = 'NOT_FOUND';
  else if (CONFLICT.has(awsCode)) code = 'CONFLICT';
  else if (CONFLICT_TRANSIENT.has(awsCode)) {
    code = 'CONFLICT';
    retry = 'transient';
  } else if (INVALID.has(awsCode)) code = 'INVALID_INPUT';
  else if (THROTTLED.has(awsCode) || status === 429) code = 'THROTTLED';
  else if (DENIED.has(awsCode) || status === 403) code = 'PERMISSION_DENIED';
  else if (UNAVAILABLE.has(awsCode) || (status !== undefined && status >= 500)) code = 'UNAVAILABLE';
  else if (status === undefined || status < 300 || networkCode !== undefined) code = 'UNAVAILABLE';
  else code = 'INTERNAL';

  const what = describeTarget(op, target);
  const said =
    status === undefined
      ? `${networkCode ?? name}${vendorMessage ? `: ${vendorMessage}` : ''}`
      : status < 300
        ? `IAM's answer could not be read (${vendorMessage || name})`
        : `${vendorMessage || awsCode} (${awsCode}, HTTP ${status})`;
  const message = `IAM: ${what} failed: ${said}. ${advice(code, awsCode, op)}`;

  const cause = new Error(`${name}: ${vendorMessage}`);
  cause.name = name;
  Object.assign(cause, {
    code: networkCode ?? awsCode,
    ...(status === undefined ? {} : { httpStatusCode: status }),
    ...(meta?.requestId === undefined ? {} : { requestId: meta.requestId }),
    ...(meta?.attempts === undefined ? {} : { attempts: meta.attempts }),
  });
  return new ZonekeeperError(code, message, {
    cause,
    ...(retry === undefined ? {} : { retry }),
    details: {
      operation: op,
      ...target,
      awsCode: networkCode ?? awsCode,
      ...(status === undefined ? {} : { httpStatusCode: status }),
      ...(meta?.requestId === undefined ? {} : { requestId: meta.requestId }),
      ...(meta?.attempts === undefined ? {} : { attempts: meta.attempts }),
    },
  });
}
