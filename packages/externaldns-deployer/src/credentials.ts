/**
 * The credentials ExternalDNS runs with: an AWS shared-credentials file in a Secret, and its hash on
 * the pod template (so a rotated key rolls the pod). The secret access key appears only in the file.
 *
 * @packageDocumentation
 */

import { createHash } from 'node:crypto';
import { invalidInput } from '@zonekeeper/core';

const ACCESS_KEY_ID = /^\w{16,128}$/;
const SECRET_ACCESS_KEY = /^[\x21-\x7e]{1,128}$/;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fail(message: string, details?: Readonly<Record<string, unknown>>): never {
  throw invalidInput(`ExternalDNS options: ${message}`, details);
}

/** Static AWS credentials (an IAM user's access key). @public */
export interface AwsStaticCredentials {
  /** The access key id, e.g. `AKIA…` (16–128 letters, digits or `_`, as IAM documents it). */
  readonly accessKeyId: string;
  /** The secret access key (1–128 printable ASCII characters, no whitespace). Written only into the Secret; never echoed in an error. */
  readonly secretAccessKey: string;
}

/** Pod-template annotation carrying {@link credentialsHash}; a rotated key changes it and rolls the pod. @public */
export const CREDENTIALS_HASH_ANNOTATION = 'zonekeeper.io/credentials-hash';

/** The key of the credentials file in the Secret. @public */
export const CREDENTIALS_SECRET_KEY = 'credentials';

/** Where the Secret is mounted (read-only) in the container. @public */
export const CREDENTIALS_MOUNT_PATH = '/etc/zonekeeper/aws';

/**
 * The AWS shared-credentials file ExternalDNS reads through `AWS_SHARED_CREDENTIALS_FILE`:
 * `[default]\naws_access_key_id = …\naws_secret_access_key = …\n`. Validates both fields first.
 * @public
 */
export function credentialsFile(credentials: AwsStaticCredentials): string {
  const { accessKeyId, secretAccessKey } = validateCredentials(credentials);
  return `[default]\naws_access_key_id = ${accessKeyId}\naws_secret_access_key = ${secretAccessKey}\n`;
}

/**
 * A short (16 hex characters) SHA-256-based fingerprint of {@link credentialsFile}: changes whenever the
 * key changes, reveals nothing usable about it (a secret access key has ~240 bits of entropy).
 * @public
 */
export function credentialsHash(credentials: AwsStaticCredentials): string {
  return createHash('sha256')
    .update('zonekeeper.io/credentials-hash/v1\n')
    .update(credentialsFile(credentials))
    .digest('hex')
    .slice(0, 16);
}

/** The type of a value, never its content (for the credentials fields). */
function kindOf(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (value === '') return 'an empty string';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

/**
 * Checks both fields of the credentials without ever echoing either of them.
 * @internal
 */
export function validateCredentials(value: unknown): AwsStaticCredentials {
  // Never echo either field (or the whole value): a caller who swaps them would print the secret.
  if (!isPlainObject(value)) {
    fail(`credentials must be an object { accessKeyId, secretAccessKey }, got ${kindOf(value)}.`, {
      option: 'credentials',
    });
  }
  const { accessKeyId, secretAccessKey } = value;
  if (typeof accessKeyId !== 'string' || accessKeyId.length === 0) {
    fail(
      `credentials.accessKeyId is required: a non-empty string (the IAM access key id, "AKIA…"), got ${kindOf(accessKeyId)}.`,
      { option: 'credentials.accessKeyId' },
    );
  }
  if (!ACCESS_KEY_ID.test(accessKeyId)) {
    fail(
      `credentials.accessKeyId is not an AWS access key id: expected 16–128 letters, digits or "_" (e.g. "AKIA…"), got a string of ${accessKeyId.length} characters (not shown).`,
      { option: 'credentials.accessKeyId' },
    );
  }
  if (typeof secretAccessKey !== 'string' || secretAccessKey.length === 0) {
    fail(`credentials.secretAccessKey is required: a non-empty string, got ${kindOf(secretAccessKey)}.`, {
      option: 'credentials.secretAccessKey',
    });
  }
  if (!SECRET_ACCESS_KEY.test(secretAccessKey)) {
    fail(
      `credentials.secretAccessKey is not an AWS secret access key: expected 1–128 printable ASCII characters without whitespace or line breaks (AWS issues 40 characters of A-Z, a-z, 0-9, "/" and "+"), got a string of ${secretAccessKey.length} characters (not shown).`,
      { option: 'credentials.secretAccessKey' },
    );
  }
  return { accessKeyId, secretAccessKey };
}

/** The key of the TSIG secret in the rfc2136 Secret. @public */
export const TSIG_SECRET_KEY = 'tsig-secret';

/** The environment variable ExternalDNS reads `--rfc2136-tsig-secret` from (kingpin's `EXTERNAL_DNS_<FLAG>`). @public */
export const TSIG_SECRET_ENV = 'EXTERNAL_DNS_RFC2136_TSIG_SECRET';

/**
 * A short (16 hex characters) SHA-256-based fingerprint of a TSIG key (name, algorithm, secret), the
 * pod-template annotation of an rfc2136 Deployment: a rotated key changes it and rolls the pod.
 * @public
 */
export function tsigKeyHash(key: {
  readonly name: string;
  readonly algorithm: string;
  readonly secret: string;
}): string {
  return createHash('sha256')
    .update('zonekeeper.io/tsig-key-hash/v1\n')
    .update(`${key.name}\n${key.algorithm}\n${key.secret}\n`)
    .digest('hex')
    .slice(0, 16);
}
