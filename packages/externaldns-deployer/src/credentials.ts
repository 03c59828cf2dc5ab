/**
 * The credentials ExternalDNS runs with, in one of four modes:
 *
 * ```
 *  mode          what is rendered                                                 what the cluster must provide
 *  access-key    Secret <name>-aws-credentials (shared-credentials file),           nothing
 *                AWS_SHARED_CREDENTIALS_FILE, the Secret mounted read-only
 *  irsa          ServiceAccount annotated eks.amazonaws.com/role-arn                EKS with its OIDC provider registered in IAM
 *                                                                                 (the pod identity webhook injects the token)
 *  pod-identity  nothing (EKS Pod Identity injects the container credentials)      EKS with the Pod Identity Agent add-on and an
 *                                                                                 association for the service account
 *  web-identity  a projected service-account token (audience, expiry),             any cluster whose service-account issuer is
 *                AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_SESSION_NAME registered in IAM as an OIDC provider
 * ```
 *
 * Only the access-key mode renders a Secret; the secret access key appears only in its file. Every mode
 * puts a short hash of what it runs with on the pod template ({@link CREDENTIALS_HASH_ANNOTATION}), so
 * a rotated key, another role or another mode rolls the pod.
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

/** The credential modes ExternalDNS can run with (see the module notes). @public */
export type CredentialsMode = 'access-key' | 'irsa' | 'pod-identity' | 'web-identity';

/** The credential modes, in the order of {@link CredentialsMode}. @public */
export const CREDENTIALS_MODES: readonly CredentialsMode[] = [
  'access-key',
  'irsa',
  'pod-identity',
  'web-identity',
];

/** IRSA (EKS): the ServiceAccount is annotated with the role; EKS's webhook injects the token. @public */
export interface IrsaCredentials {
  readonly mode: 'irsa';
  /** The role ExternalDNS assumes, `arn:<partition>:iam::<account>:role/[<path>/]<name>`. */
  readonly roleArn: string;
}

/** EKS Pod Identity: nothing is rendered; the association (EKS API) names the role. @public */
export interface PodIdentityCredentials {
  readonly mode: 'pod-identity';
  /**
   * The role of the association, if known: it changes nothing rendered but the credentials hash, so
   * moving the association to another role rolls the pod (EKS Pod Identity caches credentials per pod).
   */
  readonly roleArn?: string | undefined;
}

/**
 * Generic web identity (any cluster whose service-account issuer is an IAM OIDC provider): a projected
 * service-account token, and the AWS SDK's `AWS_ROLE_ARN` / `AWS_WEB_IDENTITY_TOKEN_FILE`.
 * @public
 */
export interface WebIdentityCredentials {
  readonly mode: 'web-identity';
  /** The role ExternalDNS assumes, `arn:<partition>:iam::<account>:role/[<path>/]<name>`. */
  readonly roleArn: string;
  /** The token's audience (`aud`), a client id of the OIDC provider. Default {@link DEFAULT_TOKEN_AUDIENCE}. */
  readonly audience?: string | undefined;
  /** The token's lifetime, 600–86,400 seconds (the kubelet renews it at 80%). Default {@link DEFAULT_TOKEN_EXPIRATION_SECONDS}. */
  readonly expirationSeconds?: number | undefined;
}

/** Access-key credentials, with the mode spelled out (the same as a bare {@link AwsStaticCredentials}). @public */
export interface AccessKeyCredentials extends AwsStaticCredentials {
  readonly mode: 'access-key';
}

/** The keyless modes' credentials. @public */
export type KeylessCredentials = IrsaCredentials | PodIdentityCredentials | WebIdentityCredentials;

/**
 * What {@link ExternalDnsOptions.credentials} accepts: an access key (with or without `mode:
 * 'access-key'`), or a keyless mode.
 * @public
 */
export type ExternalDnsCredentials = AwsStaticCredentials | AccessKeyCredentials | KeylessCredentials;

/** {@link ExternalDnsCredentials} after validation and defaults: the mode is always present. @public */
export type ResolvedExternalDnsCredentials =
  | AccessKeyCredentials
  | IrsaCredentials
  | { readonly mode: 'pod-identity'; readonly roleArn: string | undefined }
  | {
      readonly mode: 'web-identity';
      readonly roleArn: string;
      readonly audience: string;
      readonly expirationSeconds: number;
    };

/** The audience of the projected token in web-identity mode (the one IRSA and the AWS SDKs use). @public */
export const DEFAULT_TOKEN_AUDIENCE = 'sts.amazonaws.com';
/** The lifetime of the projected token in web-identity mode (as EKS's webhook sets it). @public */
export const DEFAULT_TOKEN_EXPIRATION_SECONDS = 86_400;
/** The shortest token lifetime Kubernetes accepts for a projected service-account token. @public */
export const MIN_TOKEN_EXPIRATION_SECONDS = 600;
/** The longest token lifetime zonekeeper renders (a day: a leaked token stays useful no longer). @public */
export const MAX_TOKEN_EXPIRATION_SECONDS = 86_400;

/** The ServiceAccount annotation EKS's pod identity webhook reads (IRSA). @public */
export const IRSA_ROLE_ARN_ANNOTATION = 'eks.amazonaws.com/role-arn';

/** The ServiceAccount annotation naming the credentials mode, so that switching modes rewrites the ServiceAccount. @public */
export const CREDENTIALS_MODE_ANNOTATION = 'zonekeeper.io/credentials-mode';

/** Where the projected token is mounted in web-identity mode (read-only). @public */
export const WEB_IDENTITY_TOKEN_MOUNT_PATH = '/var/run/secrets/zonekeeper.io/aws-token';

/** The file name of the projected token in its volume. @public */
export const WEB_IDENTITY_TOKEN_FILE_NAME = 'token';

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
 * A short (16 hex characters) SHA-256-based fingerprint of what ExternalDNS runs with: of
 * {@link credentialsFile} for an access key (changes whenever the key changes, reveals nothing usable
 * about it: a secret access key has ~240 bits of entropy), of the mode, role and token settings
 * otherwise. Validates first.
 * @public
 */
export function credentialsHash(credentials: ExternalDnsCredentials): string {
  const resolved = validateExternalDnsCredentials(credentials);
  if (resolved.mode !== 'access-key') {
    // Keyless: nothing secret, but the same short form (what the pod runs with, not how).
    return createHash('sha256')
      .update('zonekeeper.io/credentials-hash/keyless/v1\n')
      .update(JSON.stringify(resolved))
      .digest('hex')
      .slice(0, 16);
  }
  return createHash('sha256')
    .update('zonekeeper.io/credentials-hash/v1\n')
    .update(credentialsFile(resolved))
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
 * The key of the TSIG key's name in the rfc2136 Secret. The name travels with the secret (not as an
 * argument of the Deployment), so a pod that starts while a rotation changes the Secret but not yet the
 * Deployment still gets a matching pair.
 * @public
 */
export const TSIG_KEYNAME_KEY = 'tsig-keyname';

/** The environment variable ExternalDNS reads `--rfc2136-tsig-keyname` from. @public */
export const TSIG_KEYNAME_ENV = 'EXTERNAL_DNS_RFC2136_TSIG_KEYNAME';

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

const ROLE_ARN =
  /^arn:(aws|aws-cn|aws-us-gov):iam::(\d{12}):role\/(?:[\u0021-\u007E]{1,510}\/)?[\w+=,.@-]{1,64}$/;
/** An OIDC audience (client id): 1–255 printable ASCII characters without whitespace. */
const AUDIENCE = /^[\u0021-\u007E]{1,255}$/;

function validateRoleArn(value: unknown, mode: string): string {
  if (typeof value !== 'string' || !ROLE_ARN.test(value) || value.length > 2048) {
    fail(
      `credentials.roleArn (${mode}) ${value === undefined ? 'is required' : `${JSON.stringify(typeof value === 'string' ? value.slice(0, 200) : kindOf(value))} is not an IAM role ARN`}: expected "arn:aws:iam::<12-digit account>:role/[<path>/]<name>".`,
      { option: 'credentials.roleArn' },
    );
  }
  return value;
}

function onlyKeys(value: Record<string, unknown>, mode: string, keys: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!keys.includes(key)) {
      fail(
        `credentials.${key} is not an option of the ${mode} mode; it takes ${keys.map((k) => `"${k}"`).join(', ')}.`,
        { option: `credentials.${key}` },
      );
    }
  }
}

/**
 * Checks credentials of any mode and applies the defaults; never echoes an access key's fields.
 * @throws `INVALID_INPUT`.
 * @public
 */
export function validateExternalDnsCredentials(value: unknown): ResolvedExternalDnsCredentials {
  if (!isPlainObject(value)) {
    fail(
      `credentials must be an object { accessKeyId, secretAccessKey } (or { mode: "irsa" | "pod-identity" | "web-identity", roleArn } for a role), got ${kindOf(value)}.`,
      { option: 'credentials' },
    );
  }
  const mode = value.mode ?? 'access-key';
  switch (mode) {
    case 'access-key': {
      // Other fields are ignored, as they always were (a stored key record carries more), but not a
      // keyless mode's: a role given with a key would otherwise be silently ignored.
      for (const key of ['roleArn', 'audience', 'expirationSeconds'])
        if (key in value)
          fail(
            `credentials.${key} is not an option of the access-key mode; set mode to "irsa", "pod-identity" or "web-identity" to use a role.`,
            {
              option: `credentials.${key}`,
            },
          );
      return { mode: 'access-key', ...validateCredentials(value) };
    }
    case 'irsa':
      onlyKeys(value, 'irsa', ['mode', 'roleArn']);
      return { mode: 'irsa', roleArn: validateRoleArn(value.roleArn, 'irsa') };
    case 'pod-identity':
      onlyKeys(value, 'pod-identity', ['mode', 'roleArn']);
      return {
        mode: 'pod-identity',
        roleArn: value.roleArn === undefined ? undefined : validateRoleArn(value.roleArn, 'pod-identity'),
      };
    case 'web-identity': {
      onlyKeys(value, 'web-identity', ['mode', 'roleArn', 'audience', 'expirationSeconds']);
      const roleArn = validateRoleArn(value.roleArn, 'web-identity');
      const audience = value.audience ?? DEFAULT_TOKEN_AUDIENCE;
      if (typeof audience !== 'string' || !AUDIENCE.test(audience)) {
        fail(
          `credentials.audience must be 1–255 printable ASCII characters without spaces (a client id of the OIDC provider; default "${DEFAULT_TOKEN_AUDIENCE}"), got ${typeof audience === 'string' ? JSON.stringify(audience.slice(0, 100)) : kindOf(audience)}.`,
          { option: 'credentials.audience' },
        );
      }
      const expirationSeconds = value.expirationSeconds ?? DEFAULT_TOKEN_EXPIRATION_SECONDS;
      if (
        typeof expirationSeconds !== 'number' ||
        !Number.isInteger(expirationSeconds) ||
        expirationSeconds < MIN_TOKEN_EXPIRATION_SECONDS ||
        expirationSeconds > MAX_TOKEN_EXPIRATION_SECONDS
      ) {
        fail(
          `credentials.expirationSeconds must be a whole number of seconds from ${MIN_TOKEN_EXPIRATION_SECONDS} (Kubernetes' minimum) to ${MAX_TOKEN_EXPIRATION_SECONDS}, got ${typeof expirationSeconds === 'number' ? expirationSeconds : kindOf(expirationSeconds)}.`,
          { option: 'credentials.expirationSeconds' },
        );
      }
      return { mode: 'web-identity', roleArn, audience, expirationSeconds };
    }
    default:
      fail(
        `credentials.mode ${typeof mode === 'string' ? JSON.stringify(mode.slice(0, 50)) : kindOf(mode)} is not one of ${CREDENTIALS_MODES.join(', ')}.`,
        { option: 'credentials.mode' },
      );
  }
}
