/**
 * Waiting for a new access key to work. IAM is eventually consistent: a key returned by
 * `CreateAccessKey` is typically refused for 5–15 seconds (research/aws-facts.md 4.6, 4.7), and no IAM
 * API reports when it is ready. The only test is to use it: `sts:GetCallerIdentity` needs no permission,
 * so it succeeds exactly when the key authenticates.
 *
 * @packageDocumentation
 */

import {
  GetCallerIdentityCommand,
  type GetCallerIdentityCommandOutput,
  STSClient,
} from '@aws-sdk/client-sts';
import {
  type CallOptions,
  type Clock,
  hasErrorCode,
  invalidInput,
  isAbortError,
  pollUntil,
  systemClock,
  ZonekeeperError,
} from '@zonekeeper/core';
import type { AccessKey } from '../identity-ports.js';
import { validateAccessKeyId } from '../identity-validation.js';
import { translateIamError } from './errors.js';

/** Options of {@link waitForAccessKey}. @public */
export interface WaitForAccessKeyOptions extends CallOptions {
  /** STS endpoint URL, e.g. moto's (default: the SDK's STS endpoint for `region`). */
  readonly endpoint?: string;
  /** Region of the STS endpoint (default `AWS_REGION`, else `us-east-1`). */
  readonly region?: string;
  /** Clock for the waits and the deadline (default: the system clock). */
  readonly clock?: Clock;
  /** Give up after this long (default 60 000 ms); the failure is `TIMEOUT`. */
  readonly timeoutMs?: number;
  /** First wait between attempts (default 1 000 ms), doubling up to 5 000 ms. */
  readonly initialDelayMs?: number;
}

/** Result of {@link waitForAccessKey}. @public */
export interface WaitForAccessKeyResult {
  /** The caller ARN STS reported for the key (`arn:aws:iam::<account>:user/zonekeeper/<name>`). */
  readonly arn: string;
  /** How many `GetCallerIdentity` calls it took. */
  readonly attempts: number;
}

/** Errors that mean "IAM does not know this key yet". */
const NOT_YET = new Set([
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'AccessDenied',
  'UnrecognizedClient',
]);

/**
 * Polls `sts:GetCallerIdentity` with the new key until it authenticates (IAM is eventually
 * consistent), so ExternalDNS never starts with a key AWS still refuses. Rejections that mean "not yet"
 * (`InvalidClientTokenId`, `SignatureDoesNotMatch`, `AccessDenied`), throttling and network failures are
 * retried with backoff until `timeoutMs`.
 *
 * @example
 * ```ts
 * const key = await issueAccessKey({ userName }, { identity });
 * await writeAccessKey(store, { organization: 'acme' }, key, { cas: 0 }); // store first
 * await waitForAccessKey(key, { signal: AbortSignal.timeout(120_000) });
 * ```
 * @throws `INVALID_INPUT` for a key without id or secret; `TIMEOUT` when it never authenticated; an
 *   abort re-throws `signal.reason`. The secret never appears in an error or in `details`.
 * @public
 */
export async function waitForAccessKey(
  key: Pick<AccessKey, 'accessKeyId' | 'secretAccessKey'> & { readonly userName?: string },
  options: WaitForAccessKeyOptions = {},
): Promise<WaitForAccessKeyResult> {
  if (typeof key !== 'object' || key === null)
    throw invalidInput('waitForAccessKey: key must be an AccessKey.');
  const accessKeyId = validateAccessKeyId(key.accessKeyId);
  if (typeof key.secretAccessKey !== 'string' || key.secretAccessKey.length === 0) {
    throw invalidInput(`waitForAccessKey: the key ${accessKeyId} has no secret access key.`);
  }
  const timeoutMs = options.timeoutMs ?? 60_000;
  if (!(Number.isFinite(timeoutMs) && timeoutMs >= 0)) {
    throw invalidInput(
      `waitForAccessKey: timeoutMs must be a non-negative number, got ${String(timeoutMs)}.`,
    );
  }
  const client = new STSClient({
    region: options.region ?? process.env.AWS_REGION ?? 'us-east-1',
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    credentials: { accessKeyId, secretAccessKey: key.secretAccessKey },
    maxAttempts: 1, // pollUntil is the retry loop
  });
  const signal = options.signal;
  let lastFailure = '';
  try {
    return await pollUntil<WaitForAccessKeyResult>(
      async (attempt) => {
        try {
          const out = (await client.send(
            new GetCallerIdentityCommand({}),
            signal === undefined ? {} : { abortSignal: signal },
          )) as GetCallerIdentityCommandOutput;
          return { done: true, value: { arn: out.Arn ?? '', attempts: attempt } };
        } catch (error) {
          if (signal?.aborted) throw signal.reason;
          const z = translateIamError(error, 'GetCallerIdentity', { accessKeyId });
          const awsCode = String(z.details?.awsCode ?? '');
          if (NOT_YET.has(awsCode) || z.code === 'THROTTLED' || z.code === 'UNAVAILABLE') {
            lastFailure = awsCode;
            return { done: false };
          }
          throw z;
        }
      },
      {
        clock: options.clock ?? systemClock,
        timeoutMs,
        initialDelayMs: options.initialDelayMs ?? 1_000,
        maxDelayMs: 5_000,
        what: `IAM access key ${accessKeyId} to authenticate with STS`,
        ...(signal === undefined ? {} : { signal }),
      },
    );
  } catch (error) {
    if (isAbortError(error) || (signal?.aborted && error === signal.reason)) throw error;
    if (hasErrorCode(error, 'TIMEOUT')) {
      throw new ZonekeeperError(
        'TIMEOUT',
        `IAM: access key ${accessKeyId}${key.userName ? ` of user ${key.userName}` : ''} did not authenticate with STS within ${timeoutMs} ms${lastFailure ? ` (last answer: ${lastFailure})` : ''}. IAM usually needs 5–15 s; check that the key still exists and wait longer.`,
        {
          cause: error,
          details: { accessKeyId, timeoutMs, ...(lastFailure ? { lastAnswer: lastFailure } : {}) },
        },
      );
    }
    throw error;
  } finally {
    client.destroy();
  }
}
