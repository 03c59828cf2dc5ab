/**
 * Helpers shared by this package's tests (not a test file, not exported by the package).
 */

import type { Logger } from '@zonekeeper/core';

/**
 * Every string reachable from `value` through own properties — enumerable or not, symbols included —
 * plus message, stack and the cause chain, so a secret hidden in a non-enumerable field is found too.
 */
export function everything(value: unknown, depth = 0, seen = new Set<unknown>()): string {
  if (value === null || value === undefined) return '';
  if (typeof value !== 'object' && typeof value !== 'function') return String(value);
  if (seen.has(value) || depth > 8) return '';
  seen.add(value);
  const parts: string[] = [];
  for (const key of Reflect.ownKeys(value)) {
    try {
      parts.push(String(key), everything((value as Record<PropertyKey, unknown>)[key], depth + 1, seen));
    } catch {
      // getters that throw
    }
  }
  if (value instanceof Error)
    parts.push(value.message, String(value.stack), everything(value.cause, depth + 1, seen));
  return parts.join('\n');
}

/** A logger that keeps every line and every meta argument as text. */
export function capturingLogger(): Logger & { readonly lines: string[] } {
  const lines: string[] = [];
  const put =
    (level: string) =>
    (message: string, ...meta: unknown[]) => {
      lines.push(`${level} ${message} ${meta.map((m) => everything(m)).join(' ')}`);
    };
  return {
    lines,
    trace: put('trace'),
    debug: put('debug'),
    info: put('info'),
    warn: put('warn'),
    error: put('error'),
  };
}

/** The rejection of `promise` (fails the test if it resolves). */
export async function rejectionOf(
  promise: Promise<unknown>,
): Promise<Error & { code?: string; details?: Record<string, unknown> }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected a rejection, but the promise resolved');
}

/** IAM operations that change state, for "no write call" assertions on the proxy log. */
export const IAM_WRITE_OPERATIONS =
  /^(CreateUser|TagUser|UntagUser|DeleteUser|UpdateUser|PutUserPolicy|DeleteUserPolicy|CreateAccessKey|DeleteAccessKey|UpdateAccessKey|AttachUserPolicy|DetachUserPolicy)$/;
