/**
 * The least-privilege IAM policy for one organisation's Route 53 hosted zone. Pure: no I/O, no clock,
 * no randomness; the same input always gives the same document, statement order and `Sid`s.
 *
 * ```
 *  Sid                  Actions                                                Resource
 *  ChangeRecordsInZone  route53:ChangeResourceRecordSets                       arn:aws:route53:::hostedzone/<id>
 *                       only if every record name matches `recordNames` (ForAllValues:StringLike)
 *                       and every record type is in `recordTypes` (ForAllValues:StringEquals),
 *                       and both keys are present (Null: false)
 *  ReadZone             route53:ListResourceRecordSets, route53:GetHostedZone,  arn:aws:route53:::hostedzone/<id>
 *                       route53:ListTagsForResource, route53:ListTagsForResources
 *  ListZones            route53:ListHostedZones, route53:ListHostedZonesByName  *   (cannot be scoped)
 *  GetChanges           route53:GetChange                                      arn:aws:route53:::change/*
 * ```
 *
 * Anything else is implicitly denied: other zones (writes and reads), NS and SOA records, zone creation
 * and deletion, tag changes, Route 53 Domains, IAM. The proof is `policy.simulate.test.ts`, which runs
 * the documents through an IAM policy simulator.
 *
 * Record names are matched the way Route 53 presents them to IAM: lowercase, without the trailing dot,
 * and with characters other than `a-z 0-9 - _ .` escaped as `\ooo` octal (a DNS wildcard record
 * `*.example.com` arrives as `\052.example.com`). The IAM `*` in a `StringLike` pattern matches any
 * characters, dots and backslashes included, so `*.<zone>` matches every name below the zone at any
 * depth, including wildcard records — but never the zone itself, which is why the apex is listed too.
 *
 * @packageDocumentation
 */

import {
  describeValue,
  invalidInput,
  MAX_DOMAIN_LENGTH,
  normalizeDomainName,
  ROUTE53_RECORD_TYPES,
  type Route53RecordType,
  validateClusterId,
} from '@zonekeeper/core';

/** The policy language version every zonekeeper policy uses. @public */
export const IAM_POLICY_VERSION = '2012-10-17';

/**
 * IAM's budget for the inline policies of one IAM user: the sum of all of a user's inline policy
 * documents may not exceed 2,048 characters, and IAM does not count whitespace (IAM and AWS STS
 * quotas, "User policy size cannot exceed 2,048 characters"). Roles (10,240) and groups (5,120) have
 * larger budgets; zonekeeper's identities are users and carry exactly one inline policy.
 * @public
 */
export const IAM_USER_INLINE_POLICY_MAX_CHARS = 2048;

/** The condition key that lists the (normalised) record names of a `ChangeResourceRecordSets` call. @public */
export const RECORD_NAMES_CONDITION_KEY = 'route53:ChangeResourceRecordSetsNormalizedRecordNames';
/** The condition key that lists the record types of a `ChangeResourceRecordSets` call. @public */
export const RECORD_TYPES_CONDITION_KEY = 'route53:ChangeResourceRecordSetsRecordTypes';

/**
 * The record types Route 53 supports, except NS and SOA: those control the zone's delegation and
 * authority and are never delegated to an organisation's credentials.
 * @public
 */
export const WRITABLE_RECORD_TYPES: readonly WritableRecordType[] = ROUTE53_RECORD_TYPES.filter(
  (t): t is WritableRecordType => t !== 'NS' && t !== 'SOA',
);

/** A record type an organisation's credentials may be allowed to change. @public */
export type WritableRecordType = Exclude<Route53RecordType, 'NS' | 'SOA'>;

/** The record types allowed by default: what ExternalDNS writes (TXT carries its ownership registry). @public */
export const DEFAULT_RECORD_TYPES: readonly WritableRecordType[] = ['A', 'AAAA', 'CNAME', 'TXT'];

/** The record types that can never be allowed. @public */
export const FORBIDDEN_RECORD_TYPES = ['NS', 'SOA'] as const;

/** The `Sid` of each statement of a zone policy; stable across releases, so adapters can diff documents. @public */
export const ZONE_POLICY_SIDS = {
  change: 'ChangeRecordsInZone',
  read: 'ReadZone',
  list: 'ListZones',
  getChange: 'GetChanges',
} as const;

/** The longest hosted zone id accepted (Route 53's `HostedZone.Id` is at most 32 characters). @public */
export const MAX_HOSTED_ZONE_ID_LENGTH = 32;

/** The values of one condition operator: condition key → value(s). @public */
export type IamConditionValues = Readonly<Record<string, string | readonly string[]>>;

/** One statement of an IAM identity policy, in the shape zonekeeper emits (arrays of actions, one resource). @public */
export interface IamPolicyStatement {
  /** A stable identifier, `[A-Za-z0-9]+`. */
  readonly Sid: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action: readonly string[];
  readonly Resource: string;
  /** Condition operator → condition key → value(s). Absent when the statement is unconditional. */
  readonly Condition?: Readonly<Record<string, IamConditionValues>>;
}

/** An IAM identity policy document. @public */
export interface IamPolicyDocument {
  readonly Version: typeof IAM_POLICY_VERSION;
  readonly Statement: readonly IamPolicyStatement[];
}

/** Input of {@link buildZonePolicy}. @public */
export interface ZonePolicyInput {
  /** The hosted zone id, `Z…` or `/hostedzone/Z…` (uppercase letters and digits, at most 32). */
  readonly zoneId: string;
  /** The zone's domain name, with or without the trailing dot; lowercased. */
  readonly zoneName: string;
  /**
   * The record names that may be changed, as IAM `StringLike` patterns: a name in the zone
   * (`app.org.example.com`), or `*.` followed by one (`*.app.org.example.com`, every name below it at
   * any depth, DNS wildcard records included). Lowercased, trailing dot removed, duplicates dropped.
   * Labels may contain `a-z`, `0-9`, `-` and `_`. Default: the zone apex and `*.<zone>`, i.e. the
   * whole zone. See {@link clusterRecordNames} for a per-cluster scope.
   */
  readonly recordNames?: readonly string[] | undefined;
  /**
   * The record types that may be changed; uppercased, duplicates dropped. NS and SOA are rejected.
   * Default {@link DEFAULT_RECORD_TYPES} (`A`, `AAAA`, `CNAME`, `TXT`).
   */
  readonly recordTypes?: readonly WritableRecordType[] | undefined;
}

const ZONE_ID = /^[A-Z0-9]+$/;
const RECORD_LABEL = /^[a-z0-9_-]{1,63}$/;
const writable: ReadonlySet<string> = new Set(WRITABLE_RECORD_TYPES);
const forbidden: ReadonlySet<string> = new Set(FORBIDDEN_RECORD_TYPES);

/**
 * Normalises a hosted zone id: strips a leading `/hostedzone/` (as Route 53 returns ids) and checks
 * that what is left is 1–32 uppercase letters and digits. Returns the bare id (`Z0123456789ABC`).
 * Throws `INVALID_INPUT` otherwise.
 * @public
 */
export function normalizeHostedZoneId(zoneId: unknown): string {
  if (typeof zoneId !== 'string') {
    throw invalidInput(`Zone policy: hosted zone id must be a string, got ${describeValue(zoneId)}.`);
  }
  const id = zoneId.replace(/^\/?hostedzone\//, '');
  if (id.length === 0) {
    throw invalidInput(
      `Zone policy: hosted zone id ${describeValue(zoneId)} is empty; pass the id Route 53 returned (e.g. "Z0123456789ABC").`,
      { zoneId },
    );
  }
  if (id.length > MAX_HOSTED_ZONE_ID_LENGTH) {
    throw invalidInput(
      `Zone policy: hosted zone id ${describeValue(zoneId)} is ${id.length} characters long; Route 53 ids have at most ${MAX_HOSTED_ZONE_ID_LENGTH}.`,
      { zoneId },
    );
  }
  if (!ZONE_ID.test(id)) {
    throw invalidInput(
      `Zone policy: hosted zone id ${describeValue(zoneId)} may contain only uppercase letters and digits (e.g. "Z0123456789ABC" or "/hostedzone/Z0123456789ABC").`,
      { zoneId },
    );
  }
  return id;
}

/**
 * The ARN of a hosted zone, `arn:aws:route53:::hostedzone/<id>` (Route 53 ARNs carry no region or
 * account). Accepts the same forms as {@link normalizeHostedZoneId}.
 * @public
 */
export function hostedZoneArn(zoneId: string): string {
  return `arn:aws:route53:::hostedzone/${normalizeHostedZoneId(zoneId)}`;
}

/** The resource `route53:GetChange` is granted on. @public */
export const CHANGE_ARN_PATTERN = 'arn:aws:route53:::change/*';

/**
 * Normalises one caller-supplied record-name pattern the way Route 53 normalises record names for
 * IAM (lowercase, no trailing dot) and checks that it lies within `zone`.
 */
function normalizeRecordNamePattern(entry: unknown, zone: string, index: number): string {
  const where = `recordNames[${index}]`;
  if (typeof entry !== 'string') {
    throw invalidInput(`Zone policy: ${where} must be a string, got ${describeValue(entry)}.`);
  }
  const name = (entry.endsWith('.') ? entry.slice(0, -1) : entry).toLowerCase();
  const wildcard = name.startsWith('*.');
  const rest = wildcard ? name.slice(2) : name;
  if (rest.includes('*')) {
    throw invalidInput(
      `Zone policy: ${where} ${describeValue(entry)} has a "*" that is not the whole left-most label; use "*.<name>" (it matches every name below <name>, at any depth).`,
      { value: entry },
    );
  }
  if (rest.length === 0) {
    throw invalidInput(`Zone policy: ${where} ${describeValue(entry)} is empty.`, { value: entry });
  }
  if (rest.length > MAX_DOMAIN_LENGTH) {
    throw invalidInput(
      `Zone policy: ${where} ${describeValue(entry)} is longer than ${MAX_DOMAIN_LENGTH} characters.`,
      { value: entry },
    );
  }
  for (const label of rest.split('.')) {
    if (!RECORD_LABEL.test(label)) {
      throw invalidInput(
        `Zone policy: ${where} ${describeValue(entry)} has an invalid label ${describeValue(label)}; labels are 1–63 characters of a-z, 0-9, "-" and "_" (Route 53 escapes anything else as \\ooo octal before IAM sees it).`,
        { value: entry },
      );
    }
  }
  if (rest !== zone && !rest.endsWith(`.${zone}`)) {
    throw invalidInput(
      `Zone policy: ${where} ${describeValue(entry)} lies outside the zone ${JSON.stringify(zone)}; only names in the zone can be allowed.`,
      { value: entry, zoneName: zone },
    );
  }
  return wildcard ? `*.${rest}` : rest;
}

function normalizeRecordNames(value: unknown, zone: string): readonly string[] {
  if (value === undefined) return [zone, `*.${zone}`];
  if (!Array.isArray(value)) {
    throw invalidInput(`Zone policy: recordNames must be an array of strings, got ${describeValue(value)}.`);
  }
  if (value.length === 0) {
    throw invalidInput(
      'Zone policy: recordNames is empty, which would allow no change at all; omit it to allow the whole zone.',
    );
  }
  return [...new Set(value.map((entry, i) => normalizeRecordNamePattern(entry, zone, i)))];
}

function normalizeRecordTypes(value: unknown): readonly WritableRecordType[] {
  if (value === undefined) return DEFAULT_RECORD_TYPES;
  if (!Array.isArray(value)) {
    throw invalidInput(`Zone policy: recordTypes must be an array of strings, got ${describeValue(value)}.`);
  }
  if (value.length === 0) {
    throw invalidInput(
      'Zone policy: recordTypes is empty, which would allow no change at all; omit it for the defaults (A, AAAA, CNAME, TXT).',
    );
  }
  const types = value.map((entry, i) => {
    if (typeof entry !== 'string') {
      throw invalidInput(`Zone policy: recordTypes[${i}] must be a string, got ${describeValue(entry)}.`);
    }
    const type = entry.toUpperCase();
    if (forbidden.has(type)) {
      throw invalidInput(
        `Zone policy: record type ${type} can never be allowed: NS and SOA records control the zone's delegation and authority, which stay with zonekeeper.`,
        { recordType: entry },
      );
    }
    if (!writable.has(type)) {
      throw invalidInput(
        `Zone policy: recordTypes[${i}] ${describeValue(entry)} is not a Route 53 record type; use one of ${WRITABLE_RECORD_TYPES.join(', ')}.`,
        { recordType: entry },
      );
    }
    return type as WritableRecordType;
  });
  return [...new Set(types)];
}

/**
 * The policy as IAM stores it for the size quota: JSON without any whitespace between tokens. zonekeeper
 * documents contain no whitespace inside strings either, so its length is the size IAM counts.
 * @public
 */
export function minifyPolicy(doc: IamPolicyDocument): string {
  return JSON.stringify(doc);
}

/**
 * The size IAM counts against {@link IAM_USER_INLINE_POLICY_MAX_CHARS}: the characters of the JSON
 * document that are not whitespace.
 * @public
 */
export function policyCharacterCount(doc: IamPolicyDocument): number {
  return minifyPolicy(doc).replace(/\s/g, '').length;
}

/**
 * Builds the least-privilege policy for one hosted zone (see the module notes for the exact
 * statements). Pure and deterministic.
 *
 * @example
 * ```ts
 * const policy = buildZonePolicy({ zoneId: '/hostedzone/Z0123456789ABC', zoneName: 'acme.example.com.' });
 * console.log(minifyPolicy(policy)); // PutUserPolicy's PolicyDocument
 * ```
 * @throws `INVALID_INPUT` if the id, the zone name, a record name or a record type is invalid, if a
 *   record name lies outside the zone, if NS or SOA is requested, or if the minified document would
 *   exceed {@link IAM_USER_INLINE_POLICY_MAX_CHARS} (only possible with many long `recordNames`).
 * @public
 */
export function buildZonePolicy(input: ZonePolicyInput): IamPolicyDocument {
  if (typeof input !== 'object' || input === null) {
    throw invalidInput(
      `Zone policy: input must be an object with zoneId and zoneName, got ${describeValue(input)}.`,
    );
  }
  const zoneArn = hostedZoneArn(input.zoneId);
  const zone = normalizeDomainName(input.zoneName, 'Zone policy: zone name');
  const recordNames = normalizeRecordNames(input.recordNames, zone);
  const recordTypes = normalizeRecordTypes(input.recordTypes);

  const doc: IamPolicyDocument = {
    Version: IAM_POLICY_VERSION,
    Statement: [
      {
        Sid: ZONE_POLICY_SIDS.change,
        Effect: 'Allow',
        Action: ['route53:ChangeResourceRecordSets'],
        Resource: zoneArn,
        Condition: {
          'ForAllValues:StringLike': { [RECORD_NAMES_CONDITION_KEY]: recordNames },
          'ForAllValues:StringEquals': { [RECORD_TYPES_CONDITION_KEY]: recordTypes },
          // ForAllValues is true when the key is absent; these make an absent key deny instead.
          Null: { [RECORD_NAMES_CONDITION_KEY]: 'false', [RECORD_TYPES_CONDITION_KEY]: 'false' },
        },
      },
      {
        Sid: ZONE_POLICY_SIDS.read,
        Effect: 'Allow',
        Action: [
          'route53:ListResourceRecordSets',
          'route53:GetHostedZone',
          'route53:ListTagsForResource',
          'route53:ListTagsForResources',
        ],
        Resource: zoneArn,
      },
      {
        Sid: ZONE_POLICY_SIDS.list,
        Effect: 'Allow',
        Action: ['route53:ListHostedZones', 'route53:ListHostedZonesByName'],
        Resource: '*',
      },
      {
        Sid: ZONE_POLICY_SIDS.getChange,
        Effect: 'Allow',
        Action: ['route53:GetChange'],
        Resource: CHANGE_ARN_PATTERN,
      },
    ],
  };

  const size = policyCharacterCount(doc);
  if (size > IAM_USER_INLINE_POLICY_MAX_CHARS) {
    throw invalidInput(
      `Zone policy: the policy for ${JSON.stringify(zone)} would be ${size} characters, over IAM's budget of ${IAM_USER_INLINE_POLICY_MAX_CHARS} for a user's inline policies; pass fewer or shorter recordNames (one "*.<name>" pattern covers every name below <name>).`,
      { zoneName: zone, size, budget: IAM_USER_INLINE_POLICY_MAX_CHARS, recordNames: recordNames.length },
    );
  }
  return doc;
}

/**
 * The record names of a per-cluster scope, `[<cluster>.<zone>, *.<cluster>.<zone>]`, for
 * {@link ZonePolicyInput.recordNames}: an identity built with them can write only the cluster's own
 * name and the names below it, e.g. `*.c1.acme.example.com`.
 *
 * ExternalDNS must be told the same scope: `--domain-filter=<cluster>.<zone>` (with
 * `--aws-zone-match-parent`), and a `--txt-prefix` that contains `%{record_type}` and ends in a dot, such
 * as zonekeeper's default `_extdns-%{record_type}.`: its TXT registry then owns `c1.acme.example.com` with
 * `_extdns-a.c1.acme.example.com`, inside this scope. Without a prefix (`a-c1.acme.example.com`) or with
 * a plain one ending in a dot (`extdns.a-c1.acme.example.com`, ExternalDNS v0.22 puts the type into the
 * first label) the TXT falls outside it and every change batch is denied. The facade renders both for
 * `identityScope: 'cluster'`; the end-to-end scenario `e2e/src/scenarios/cluster-identity.test.ts` runs the
 * real ExternalDNS against this policy, enforced on the wire.
 * @throws `INVALID_INPUT` for an invalid zone name or cluster id, or if `<cluster>.<zone>` would be
 *   longer than 253 characters.
 * @public
 */
export function clusterRecordNames(zoneName: string, clusterId: string): readonly [string, string] {
  const zone = normalizeDomainName(zoneName, 'Zone name');
  const cluster = validateClusterId(clusterId);
  const name = `${cluster}.${zone}`;
  if (name.length > MAX_DOMAIN_LENGTH) {
    throw invalidInput(
      `Cluster scope ${JSON.stringify(name)} would be ${name.length} characters long; a domain name allows at most ${MAX_DOMAIN_LENGTH}. Use a shorter cluster id.`,
      { zoneName: zone, clusterId: cluster },
    );
  }
  return [name, `*.${name}`];
}
