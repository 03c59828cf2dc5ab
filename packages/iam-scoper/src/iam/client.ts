/**
 * The IAM client and request path shared by the IAM adapters (users and keys, roles, OIDC providers):
 * option checks, client construction, the retry guard, abort handling and error translation. Internal.
 *
 * @packageDocumentation
 */

import { IAMClient, type IAMClientConfig, type Tag } from '@aws-sdk/client-iam';
import { StandardRetryStrategy } from '@smithy/core/retry';
import {
  type CallOptions,
  hasErrorCode,
  invalidInput,
  throwIfAborted,
  ZonekeeperError,
} from '@zonekeeper/core';
import { type IamCallTarget, translateIamError, withRetryGuard } from './errors.js';

/**
 * The part of an `IAMClient` the adapters use: `send`. Any AWS SDK v3 IAM client fits.
 * @public
 */
export interface IamClientLike {
  send(command: unknown, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
}

/** Options of the IAM adapters. @public */
export interface IamClientOptions {
  /**
   * A caller-built IAM client (its own credentials, retry strategy, logger, …). When given, `region`,
   * `endpoint`, `credentials`, `maxAttempts` and `retryStrategy` are ignored. The adapter's retry guard
   * (no retry of `LimitExceeded`; `CreateAccessKey` retried only after throttling) applies to it too.
   */
  readonly client?: IamClientLike;
  /** Region for signing (default `AWS_REGION`, else `us-east-1`; IAM is a global service). */
  readonly region?: string;
  /** Endpoint URL, e.g. moto's (default: the SDK's IAM endpoint). */
  readonly endpoint?: string;
  /** zonekeeper's own AWS credentials (default: the SDK's provider chain). Never logged. */
  readonly credentials?: IAMClientConfig['credentials'];
  /** Attempts per call, first included (default 3, the SDK's). Ignored when `retryStrategy` is given. */
  readonly maxAttempts?: number;
  /** The SDK retry strategy (default `new StandardRetryStrategy(maxAttempts)`). */
  readonly retryStrategy?: IAMClientConfig['retryStrategy'];
  /** `MaxItems` per page of the list calls (default: IAM's default, 100). */
  readonly pageSize?: number;
}

/** What the adapters build on. @internal */
export interface IamSender {
  /** `{ MaxItems }` when a page size is set, else `{}`. */
  readonly page: { readonly MaxItems?: number };
  send<T>(
    op: string,
    target: IamCallTarget,
    command: { middlewareStack: unknown },
    opts: CallOptions | undefined,
  ): Promise<T>;
}

/** Checks the options, builds the client and returns the request path. @internal */
export function createIamSender(options: IamClientOptions): IamSender {
  const pageSize = options.pageSize;
  if (pageSize !== undefined && !(Number.isInteger(pageSize) && pageSize >= 1 && pageSize <= 1000)) {
    throw invalidInput(`IAM: pageSize must be an integer from 1 to 1000, got ${String(pageSize)}.`);
  }
  const maxAttempts = options.maxAttempts;
  if (maxAttempts !== undefined && !(Number.isInteger(maxAttempts) && maxAttempts >= 1)) {
    throw invalidInput(`IAM: maxAttempts must be an integer ≥ 1, got ${String(maxAttempts)}.`);
  }
  const client: IamClientLike =
    options.client ??
    new IAMClient({
      region: options.region ?? process.env.AWS_REGION ?? 'us-east-1',
      ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
      ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
      retryStrategy: options.retryStrategy ?? new StandardRetryStrategy(maxAttempts ?? 3),
    });
  return {
    page: pageSize === undefined ? {} : { MaxItems: pageSize },
    async send<T>(
      op: string,
      target: IamCallTarget,
      command: { middlewareStack: unknown },
      opts: CallOptions | undefined,
    ): Promise<T> {
      const signal = opts?.signal;
      throwIfAborted(signal);
      try {
        return (await client.send(
          withRetryGuard(command),
          signal === undefined ? {} : { abortSignal: signal },
        )) as T;
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        throw translateIamError(error, op, target);
      }
    },
  };
}

/**
 * Every page of an IAM listing (`Marker` / `IsTruncated`), in order. `fetch` sends one request with the
 * marker of the page it asks for (none for the first) and may check the page before it is kept.
 * @internal
 */
export async function allPages<
  Page extends { readonly IsTruncated?: boolean | undefined; readonly Marker?: string | undefined },
>(fetch: (marker: { readonly Marker?: string }) => Promise<Page>): Promise<Page[]> {
  const pages: Page[] = [];
  let marker: string | undefined;
  do {
    const page = await fetch(marker ? { Marker: marker } : {});
    pages.push(page);
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker);
  return pages;
}

/** IAM's tag list as a record (a tag without a key is ignored). @internal */
export function tagsOf(tags: readonly Tag[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of tags ?? []) if (typeof t.Key === 'string') out[t.Key] = t.Value ?? '';
  return out;
}

/** A record of tags as IAM's tag list. @internal */
export function toTagList(tags: Readonly<Record<string, string>>): Tag[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

/** Resolves to `undefined` when the call failed with `NOT_FOUND`. @internal */
export async function undefinedIfNotFound<T>(promise: Promise<T>): Promise<T | undefined> {
  try {
    return await promise;
  } catch (error) {
    if (hasErrorCode(error, 'NOT_FOUND')) return undefined;
    throw error;
  }
}

/** IAM returns policy documents URL-encoded (RFC 3986); decodes them. @internal */
export function decodePolicyDocument(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The error for an answer that lacks a field IAM always sends. @internal */
export function malformedAnswer(op: string, what: string): ZonekeeperError {
  return new ZonekeeperError(
    'INTERNAL',
    `IAM: ${op} returned no ${what}; this is unexpected, please report it.`,
    {
      details: { operation: op },
    },
  );
}
