/**
 * The key-issuing capability of an identity backend (`CredentialIssuer`): what IAM access keys and
 * PowerDNS TSIG keys have in common. A principal (an IAM user; a PowerDNS zone) holds a bounded number
 * of live keys; a key's secret exists only in what `createKey` returns.
 *
 * The identity port of `@zonekeeper/iam-scoper` is three capabilities — a user directory, user
 * policies, and access keys — and only this last one means something for every backend: a TSIG key has
 * no user, path, ARN or policy document (what it may change is the zone's metadata). See
 * docs/decisions.md ("the identity port is capabilities").
 *
 * @packageDocumentation
 */

import type { CallOptions } from './runtime.js';

/** A key just created: its id and secret. The secret is only here; never log it. @public */
export interface IssuedCredential {
  /** The principal that holds the key. */
  readonly principal: string;
  /** The key's id (IAM: the access key id; TSIG: the key name). */
  readonly keyId: string;
  /** The secret (IAM: the secret access key; TSIG: the base64 secret). */
  readonly secret: string;
}

/**
 * Issues, lists and deletes a principal's keys. Errors are `ZonekeeperError`s: `NOT_FOUND` (no such
 * principal, or no such key of that principal — also a key of another principal), `CONFLICT` (the
 * principal already holds {@link CredentialIssuer.keysPerPrincipal} keys), `INVALID_INPUT` (a malformed
 * principal or key id, before any request). Aborts re-throw `signal.reason`. Listing never returns a
 * secret; no error message contains one.
 * @public
 */
export interface CredentialIssuer {
  /** `iam`, `memory`, `powerdns-tsig`, … for messages. */
  readonly kind: string;
  /** How many live keys a principal may hold at once (IAM: 2; TSIG: 2, the organisation's two names). */
  readonly keysPerPrincipal: number;
  /** The ids of the principal's keys, sorted; `NOT_FOUND` if the principal does not exist. */
  listKeys(principal: string, options?: CallOptions): Promise<readonly string[]>;
  /** Creates a key; `CONFLICT` when the principal is full, `NOT_FOUND` if it does not exist. */
  createKey(principal: string, options?: CallOptions): Promise<IssuedCredential>;
  /** Deletes one of the principal's keys; `NOT_FOUND` when it has no such key. */
  deleteKey(principal: string, keyId: string, options?: CallOptions): Promise<void>;
}
