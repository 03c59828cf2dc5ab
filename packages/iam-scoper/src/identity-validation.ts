/**
 * IAM's own input rules (names, paths, tags, policy documents, access key ids), checked on the client
 * so that bad input fails with `INVALID_INPUT` before any request is sent. Shared by the memory provider,
 * the IAM adapter and the identity operations. Internal.
 *
 * Sources: the IAM API reference patterns of `CreateUser`, `PutUserPolicy`, `TagUser` and
 * `DeleteAccessKey`, and the IAM quotas page (research/aws-facts.md 4.1–4.4).
 *
 * @packageDocumentation
 */

import { describeValue, invalidInput } from '@zonekeeper/core';

/** IAM user name: `[\w+=,.@-]`, 1–64 characters. */
const USER_NAME = /^[\w+=,.@-]{1,64}$/;
/** Inline policy name: `[\w+=,.@-]`, 1–128 characters. */
const POLICY_NAME = /^[\w+=,.@-]{1,128}$/;
/** Path: `/` or `/…/` of printable ASCII, at most 512 characters. */
const PATH = /^(?:\/|\/[\u0021-\u007E]+\/)$/;
/** Path prefix of ListUsers: `/` followed by printable ASCII. */
const PATH_PREFIX = /^\/[\u0021-\u007F]*$/;
/** Access key id: `[\w]`, 16–128 characters. */
const ACCESS_KEY_ID = /^\w{16,128}$/;
/** Tag keys and values: letters, spaces, digits and `_ . : / = + - @`. */
const TAG_KEY = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u;
const TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}$/u;
/** Tags per IAM user. @internal */
export const MAX_TAGS_PER_USER = 50;
/** The longest policy document IAM accepts in a request (the per-user budget is smaller, see policy.ts). */
const MAX_POLICY_DOCUMENT_LENGTH = 131_072;

/** Checks an IAM user name; returns it unchanged. @internal */
export function validateUserName(value: unknown, what = 'IAM user name'): string {
  if (typeof value !== 'string' || !USER_NAME.test(value)) {
    throw invalidInput(
      `${what} ${describeValue(value, { maxLength: 80 })} is invalid: IAM user names are 1–64 characters of letters, digits and + = , . @ _ -.`,
      { userName: typeof value === 'string' ? value : String(value) },
    );
  }
  return value;
}

/** Checks an inline policy name; returns it unchanged. @internal */
export function validatePolicyName(value: unknown): string {
  if (typeof value !== 'string' || !POLICY_NAME.test(value)) {
    throw invalidInput(
      `IAM policy name ${describeValue(value, { maxLength: 80 })} is invalid: policy names are 1–128 characters of letters, digits and + = , . @ _ -.`,
    );
  }
  return value;
}

/** Checks an IAM path (`/` or `/a/b/`); returns it unchanged. @internal */
export function validateIamPath(value: unknown): string {
  if (typeof value !== 'string' || value.length > 512 || !PATH.test(value)) {
    throw invalidInput(
      `IAM path ${describeValue(value, { maxLength: 80 })} is invalid: a path begins and ends with "/" (e.g. "/zonekeeper/"), has at most 512 printable ASCII characters.`,
    );
  }
  return value;
}

/** Checks a ListUsers path prefix (`/zonekeeper/`); returns it unchanged. @internal */
export function validatePathPrefix(value: unknown): string {
  if (typeof value !== 'string' || value.length > 512 || !PATH_PREFIX.test(value)) {
    throw invalidInput(
      `IAM path prefix ${describeValue(value, { maxLength: 80 })} is invalid: it begins with "/" and has at most 512 printable ASCII characters.`,
    );
  }
  return value;
}

/** Checks an access key id; returns it unchanged. @internal */
export function validateAccessKeyId(value: unknown, what = 'Access key id'): string {
  if (typeof value !== 'string' || !ACCESS_KEY_ID.test(value)) {
    throw invalidInput(
      `${what} ${describeValue(value, { maxLength: 80 })} is invalid: IAM access key ids are 16–128 letters and digits (e.g. "AKIAIOSFODNN7EXAMPLE").`,
    );
  }
  return value;
}

/**
 * Checks a tag map: at most 50 tags, keys 1–128 and values 0–256 characters of IAM's tag alphabet, no
 * key in the reserved `aws:` namespace. Returns a copy.
 * @internal
 */
export function validateTags(value: unknown, { allowEmpty = true } = {}): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidInput(
      `IAM tags must be an object of key → value strings, got ${describeValue(value, { maxLength: 80 })}.`,
    );
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (!allowEmpty && entries.length === 0) throw invalidInput('IAM tags must contain at least one tag.');
  if (entries.length > MAX_TAGS_PER_USER) {
    throw invalidInput(`IAM allows at most ${MAX_TAGS_PER_USER} tags per user, got ${entries.length}.`);
  }
  const out: Record<string, string> = {};
  for (const [key, v] of entries) {
    if (!TAG_KEY.test(key)) {
      throw invalidInput(
        `IAM tag key ${describeValue(key, { maxLength: 80 })} is invalid: 1–128 characters of letters, digits, spaces and _ . : / = + - @.`,
      );
    }
    if (key.toLowerCase().startsWith('aws:')) {
      throw invalidInput(
        `IAM tag key ${describeValue(key, { maxLength: 80 })} is in the reserved "aws:" namespace.`,
      );
    }
    if (typeof v !== 'string' || !TAG_VALUE.test(v)) {
      throw invalidInput(
        `IAM tag ${describeValue(key, { maxLength: 80 })} has an invalid value ${describeValue(v, { maxLength: 80 })}: 0–256 characters of letters, digits, spaces and _ . : / = + - @.`,
      );
    }
    out[key] = v;
  }
  return out;
}

/**
 * Checks that a policy document is JSON text of an object with a `Statement` (what IAM calls a
 * `MalformedPolicyDocument` otherwise); returns the parsed object.
 * @internal
 */
export function validatePolicyDocument(value: unknown): Record<string, unknown> {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_POLICY_DOCUMENT_LENGTH) {
    throw invalidInput(
      `IAM policy document must be non-empty JSON text of at most ${MAX_POLICY_DOCUMENT_LENGTH} characters, got ${describeValue(value, { maxLength: 80 })}.`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw invalidInput('IAM policy document is not valid JSON; pass minifyPolicy(buildZonePolicy(…)).');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw invalidInput('IAM policy document must be a JSON object with Version and Statement.');
  }
  const statement = (parsed as { Statement?: unknown }).Statement;
  const statements = Array.isArray(statement) ? statement : [statement];
  if (
    statements.length === 0 ||
    statements.some(
      (s) => typeof s !== 'object' || s === null || Array.isArray(s) || Object.keys(s).length === 0,
    )
  ) {
    throw invalidInput(
      'IAM policy document needs a Statement with at least one statement object; pass minifyPolicy(buildZonePolicy(…)).',
    );
  }
  return parsed as Record<string, unknown>;
}

/** The number of characters IAM counts against a user's inline-policy budget: everything but whitespace. @internal */
export function nonWhitespaceLength(document: string): number {
  return document.replace(/\s/g, '').length;
}
