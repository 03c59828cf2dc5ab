/**
 * The TXT-only IAM policy of an organisation's ACME identity: what cert-manager's Route 53 DNS-01 solver
 * needs to answer a challenge in the organisation's hosted zone, and nothing else. Pure: no I/O, no
 * clock; the same input always gives the same document.
 *
 * ```
 *  Sid                         Actions                            Resource
 *  ChangeAcmeChallengeRecords  route53:ChangeResourceRecordSets   arn:aws:route53:::hostedzone/<id>
 *                              only if every record name is `_acme-challenge.<zone>` or
 *                              `_acme-challenge.*.<zone>` (ForAllValues:StringLike), every record type
 *                              is TXT (ForAllValues:StringEquals), and both keys are present (Null: false)
 *  GetChanges                  route53:GetChange                  arn:aws:route53:::change/*
 * ```
 *
 * That is exactly what cert-manager's solver calls when its `hostedZoneID` is set (as zonekeeper's
 * rendered `Issuer` always does; cert-manager v1.21, `pkg/issuer/acme/dns/route53`): an `UPSERT` and
 * later a `DELETE` of one TXT record set through `ChangeResourceRecordSets`, then `GetChange` until the
 * change is `INSYNC`. Without a zone id it would first call `ListHostedZonesByName`, which cannot be
 * scoped to one zone and would show the solver every organisation's zone name; it is therefore not
 * granted, and neither are reads of the zone's records (the solver never lists them).
 *
 * The IAM `*` matches any characters, dots included, so `_acme-challenge.*.<zone>` covers the challenge
 * name of every name below the zone (`_acme-challenge.www.<zone>`, `_acme-challenge.a.b.<zone>`; a
 * wildcard certificate `*.apps.<zone>` is validated at `_acme-challenge.apps.<zone>`). The first label
 * is fixed, so the identity can never write an address, an ExternalDNS ownership record or any other
 * TXT record of the zone. The proof is `acme-policy.simulate.test.ts`.
 *
 * @packageDocumentation
 */

import { describeValue, invalidInput, MAX_DOMAIN_LENGTH, normalizeDomainName } from '@zonekeeper/core';
import {
  CHANGE_ARN_PATTERN,
  hostedZoneArn,
  IAM_POLICY_VERSION,
  type IamPolicyDocument,
  RECORD_NAMES_CONDITION_KEY,
  RECORD_TYPES_CONDITION_KEY,
} from './policy.js';

/** The first label of every ACME DNS-01 challenge record (RFC 8555 §8.4). @public */
export const ACME_CHALLENGE_LABEL = '_acme-challenge';

/** The `Sid` of each statement of an ACME challenge policy; stable across releases. @public */
export const ACME_CHALLENGE_POLICY_SIDS = {
  change: 'ChangeAcmeChallengeRecords',
  getChange: 'GetChanges',
} as const;

/** Input of {@link buildAcmeChallengePolicy}. @public */
export interface AcmeChallengePolicyInput {
  /** The organisation's hosted zone id, `Z…` or `/hostedzone/Z…`. */
  readonly zoneId: string;
  /** The organisation's zone name (`acme.example.com`, trailing dot and case ignored). */
  readonly zoneName: string;
}

/**
 * The record-name patterns of the ACME identity, `[_acme-challenge.<zone>, _acme-challenge.*.<zone>]`
 * (IAM `StringLike` patterns, in the form Route 53 presents names to IAM: lowercase, no trailing dot).
 * @throws `INVALID_INPUT` for an invalid zone name, or one so long that `_acme-challenge.<zone>` would
 *   exceed 253 characters.
 * @public
 */
export function acmeChallengeRecordNames(zoneName: string): readonly [string, string] {
  const zone = normalizeDomainName(zoneName, 'ACME challenge policy: zone name');
  const apex = `${ACME_CHALLENGE_LABEL}.${zone}`;
  if (apex.length > MAX_DOMAIN_LENGTH) {
    throw invalidInput(
      `ACME challenge policy: ${JSON.stringify(apex)} would be ${apex.length} characters long; a domain name allows at most ${MAX_DOMAIN_LENGTH}, so no challenge could be answered in ${JSON.stringify(zone)}.`,
      { zoneName: zone },
    );
  }
  return [apex, `${ACME_CHALLENGE_LABEL}.*.${zone}`];
}

/**
 * Builds the TXT-only policy of an organisation's ACME identity (see the module notes for the exact
 * statements). Pure and deterministic.
 *
 * @example
 * ```ts
 * const policy = buildAcmeChallengePolicy({ zoneId: 'Z0123456789ABC', zoneName: 'acme.example.com' });
 * console.log(minifyPolicy(policy)); // PutUserPolicy's PolicyDocument for the ACME identity
 * ```
 * @throws `INVALID_INPUT` if the input is not an object, or the zone id or name is invalid.
 * @public
 */
export function buildAcmeChallengePolicy(input: AcmeChallengePolicyInput): IamPolicyDocument {
  if (typeof input !== 'object' || input === null) {
    throw invalidInput(
      `ACME challenge policy: input must be an object with zoneId and zoneName, got ${describeValue(input)}.`,
    );
  }
  const zoneArn = hostedZoneArn(input.zoneId);
  const recordNames = acmeChallengeRecordNames(input.zoneName);
  return {
    Version: IAM_POLICY_VERSION,
    Statement: [
      {
        Sid: ACME_CHALLENGE_POLICY_SIDS.change,
        Effect: 'Allow',
        Action: ['route53:ChangeResourceRecordSets'],
        Resource: zoneArn,
        Condition: {
          'ForAllValues:StringLike': { [RECORD_NAMES_CONDITION_KEY]: recordNames },
          'ForAllValues:StringEquals': { [RECORD_TYPES_CONDITION_KEY]: ['TXT'] },
          // ForAllValues is true when the key is absent; these make an absent key deny instead.
          Null: { [RECORD_NAMES_CONDITION_KEY]: 'false', [RECORD_TYPES_CONDITION_KEY]: 'false' },
        },
      },
      {
        Sid: ACME_CHALLENGE_POLICY_SIDS.getChange,
        Effect: 'Allow',
        Action: ['route53:GetChange'],
        Resource: CHANGE_ARN_PATTERN,
      },
    ],
  };
}
