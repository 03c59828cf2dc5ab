/**
 * Deterministic names for the IAM identities zonekeeper creates. Pure: the same input always gives the
 * same name, so a re-run finds the user it created before.
 *
 * ```
 *  form   when                               name
 *  short  the readable part fits             zk-<b8>.<org>             zk-<b8>.<org>.<cluster>
 *  long   otherwise (long org or cluster)    zk-<b8>.<readable…>_<h16>
 * ```
 *
 * - `<b8>`: the first 8 hex digits of sha256(base domain). Several platforms (base domains) can share
 *   one AWS account, and `zk-<b8>.` is the prefix of every user of one platform
 *   ({@link identityUserNamePrefix}). Pipeline used a crc32 in the same place.
 * - `<org>`, `<cluster>`: the organisation name and cluster id, lowercase DNS labels (they contain
 *   neither `.` nor `_`, so `.` separates them unambiguously).
 * - long form: `<readable…>` is `<org>[.<cluster>]` cut to fit, and `<h16>` the first 16 hex digits of
 *   sha256 over the whole input (base domain, organisation, cluster), which keeps truncated names
 *   distinct. The `_` never occurs in a short name, so the two forms cannot collide.
 *
 * Every name is at most 64 characters of `[a-z0-9.\-_]` (IAM allows `[\w+=,.@-]`, compared without
 * case). Distinct inputs give distinct names unless two base domains share `<b8>` (probability 2⁻³² per
 * pair of platforms in one account) or two long inputs share `<h16>` (2⁻⁶⁴).
 *
 * @packageDocumentation
 */

import { createHash } from 'node:crypto';
import {
  invalidInput,
  normalizeBaseDomain,
  validateClusterId,
  validateOrganizationName,
} from '@zonekeeper/core';

/** The IAM path of every user zonekeeper creates (`ListUsers --path-prefix /zonekeeper/`). @public */
export const IDENTITY_PATH = '/zonekeeper/';

/** IAM's limit on a user name, in characters. @public */
export const MAX_IAM_USER_NAME_LENGTH = 64;

/** The suffix of the inline policy name, after the user name ({@link identityPolicyName}). @public */
export const IDENTITY_POLICY_SUFFIX = '.route53';

/** Input of {@link identityUserName} and {@link identityPolicyName}. @public */
export interface IdentityNameInput {
  /** The platform's base domain (`example.com`, trailing dot and case ignored). */
  readonly baseDomain: string;
  /** The organisation name, a lowercase DNS label. */
  readonly organization: string;
  /** The cluster id, a lowercase DNS label, for a per-cluster identity; omit for the organisation's. */
  readonly clusterId?: string | undefined;
}

const PREFIX = 'zk-';
const BASE_HASH_LENGTH = 8;
const INPUT_HASH_LENGTH = 16;

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function baseDomainHash(base: string): string {
  return sha256Hex(base).slice(0, BASE_HASH_LENGTH);
}

/**
 * The prefix shared by the names of every identity of one platform, `zk-<b8>.`; use it to tell this
 * platform's users from another's in the same account.
 * @throws `INVALID_INPUT` for an invalid base domain.
 * @public
 */
export function identityUserNamePrefix(baseDomain: string): string {
  return `${PREFIX}${baseDomainHash(normalizeBaseDomain(baseDomain))}.`;
}

/**
 * The IAM user name of an organisation's identity (`zk-<b8>.<org>`) or of one cluster's
 * (`zk-<b8>.<org>.<cluster>`), falling back to a truncated readable part plus a hash when that would
 * exceed 64 characters. See the module notes for the exact rules.
 *
 * @example
 * ```ts
 * identityUserName({ baseDomain: 'example.com', organization: 'acme' });                  // zk-<b8>.acme
 * identityUserName({ baseDomain: 'example.com', organization: 'acme', clusterId: 'c1' }); // zk-<b8>.acme.c1
 * ```
 * @throws `INVALID_INPUT` for an invalid base domain, organisation name or cluster id.
 * @public
 */
export function identityUserName(input: IdentityNameInput): string {
  if (typeof input !== 'object' || input === null) {
    throw invalidInput('IAM user name: input must be an object with baseDomain and organization.');
  }
  const base = normalizeBaseDomain(input.baseDomain);
  const org = validateOrganizationName(input.organization);
  const cluster = input.clusterId === undefined ? undefined : validateClusterId(input.clusterId);

  const prefix = `${PREFIX}${baseDomainHash(base)}.`;
  const readable = cluster === undefined ? org : `${org}.${cluster}`;
  const short = `${prefix}${readable}`;
  if (short.length <= MAX_IAM_USER_NAME_LENGTH) return short;

  const hash = sha256Hex(JSON.stringify(['zonekeeper/iam-user/v1', base, org, cluster ?? null])).slice(
    0,
    INPUT_HASH_LENGTH,
  );
  const room = MAX_IAM_USER_NAME_LENGTH - prefix.length - 1 - hash.length;
  const cut = readable.slice(0, room).replace(/[.-]+$/, '');
  return `${prefix}${cut}_${hash}`;
}

/**
 * The name of the identity's inline policy: its user name followed by `.route53` (at most 72
 * characters; IAM allows 128). One name per identity, so putting the policy again replaces it and the
 * user never carries two (their sizes would add up against IAM's 2,048-character budget).
 * @throws `INVALID_INPUT` like {@link identityUserName}.
 * @public
 */
export function identityPolicyName(input: IdentityNameInput): string {
  return `${identityUserName(input)}${IDENTITY_POLICY_SUFFIX}`;
}

/** What follows the organisation in the ACME identity's user name (`zk-<b8>.<org>+acme`). @public */
export const ACME_IDENTITY_SUFFIX = '+acme';

/**
 * The IAM user name of an organisation's ACME identity, `zk-<b8>.<org>+acme`: the TXT-only identity
 * cert-manager's Route 53 DNS-01 solver runs with. `+` never occurs in an organisation or cluster
 * identity's name (DNS labels, dots, and `_` before a hash), so it cannot collide with either; when the
 * name would exceed 64 characters, a truncated readable part plus a hash of the input (with the ACME
 * purpose) is used, as in {@link identityUserName}.
 * @throws `INVALID_INPUT` for an invalid base domain or organisation name.
 * @public
 */
export function acmeIdentityUserName(input: Omit<IdentityNameInput, 'clusterId'>): string {
  if (typeof input !== 'object' || input === null) {
    throw invalidInput('ACME identity user name: input must be an object with baseDomain and organization.');
  }
  const base = normalizeBaseDomain(input.baseDomain);
  const org = validateOrganizationName(input.organization);
  const prefix = `${PREFIX}${baseDomainHash(base)}.`;
  const short = `${prefix}${org}${ACME_IDENTITY_SUFFIX}`;
  if (short.length <= MAX_IAM_USER_NAME_LENGTH) return short;
  const hash = sha256Hex(JSON.stringify(['zonekeeper/iam-user/v1', base, org, null, 'acme'])).slice(
    0,
    INPUT_HASH_LENGTH,
  );
  const room = MAX_IAM_USER_NAME_LENGTH - prefix.length - ACME_IDENTITY_SUFFIX.length - hash.length;
  const cut = org.slice(0, room).replace(/[.-]+$/, '');
  return `${prefix}${cut}${ACME_IDENTITY_SUFFIX}${hash}`;
}

/** The name of the ACME identity's inline policy: its user name followed by `.route53`. @public */
export function acmeIdentityPolicyName(input: Omit<IdentityNameInput, 'clusterId'>): string {
  return `${acmeIdentityUserName(input)}${IDENTITY_POLICY_SUFFIX}`;
}
