/**
 * IAM's input rules for roles, trust policies and OIDC providers, checked on the client so that bad
 * input fails with `INVALID_INPUT` before any request is sent. Shared by the memory provider and the
 * IAM adapters. Internal.
 *
 * Sources: the IAM API reference of `CreateRole` (RoleName `[\w+=,.@-]{1,64}`, Description ≤ 1,000),
 * `UpdateAssumeRolePolicy`, `CreateOpenIDConnectProvider` (URL ≤ 255, up to 100 client ids of 1–255
 * characters, up to 5 thumbprints of 40 characters), the IAM quotas page (trust policy 2,048 by
 * default, at most 4,096; role inline policies 10,240), and IAM's errors for trust policies
 * ("Trust Policy statement actions can only be …", "Has prohibited field Resource", "Federated
 * principals must be valid domain names or SAML metadata ARNs").
 *
 * @packageDocumentation
 */

import { describeValue, invalidInput } from '@zonekeeper/core';
import { nonWhitespaceLength } from './identity-validation.js';
import { parseOidcIssuerUrl, ROLE_TRUST_POLICY_MAX_CHARS } from './trust-policy.js';

const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
/** Characters IAM accepts in a role description. */
const DESCRIPTION = /^[\t\n\r -~\u00A1-\u00FF]*$/;
const THUMBPRINT = /^[0-9A-Fa-f]{40}$/;
const CLIENT_ID = /^[\u0021-\u007E]{1,255}$/;
const OIDC_PROVIDER_ARN = /^arn:aws(?:-cn|-us-gov)?:iam::\d{12}:oidc-provider\/(.+)$/;
const SAML_PROVIDER_ARN = /^arn:aws(?:-cn|-us-gov)?:iam::\d{12}:saml-provider\/[\w+=,.@-]{1,128}$/;
const DOMAIN =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;
const SERVICE = /^[a-z0-9.-]+\.amazonaws\.com(?:\.cn)?$/;
const AWS_PRINCIPAL = /^(?:\d{12}|\*|arn:aws(?:-cn|-us-gov)?:(?:iam|sts)::\d{12}:[\w+=,.@/:-]+)$/;

/** Actions IAM allows in a trust policy (IAM's `MalformedPolicyDocument` for any other). @internal */
export const TRUST_POLICY_ACTIONS: ReadonlySet<string> = new Set([
  'sts:AssumeRole',
  'sts:AssumeRoleWithSAML',
  'sts:AssumeRoleWithWebIdentity',
  'sts:TagSession',
  'sts:SetSourceIdentity',
  'sts:SetContext',
  'sts:*',
]);

/** Inline policies of one role: 10,240 non-whitespace characters in total. @internal */
export const ROLE_INLINE_POLICY_MAX_CHARS = 10_240;
/** OIDC providers: at most 100 client ids and 5 thumbprints. @internal */
export const MAX_OIDC_CLIENT_IDS = 100;
export const MAX_OIDC_THUMBPRINTS = 5;

/** Checks an IAM role name; returns it unchanged. @internal */
export function validateRoleName(value: unknown): string {
  if (typeof value !== 'string' || !ROLE_NAME.test(value)) {
    throw invalidInput(
      `IAM role name ${describeValue(value, { maxLength: 80 })} is invalid: IAM role names are 1–64 characters of letters, digits and + = , . @ _ -.`,
      { roleName: typeof value === 'string' ? value : String(value) },
    );
  }
  return value;
}

/** Checks a role description (≤ 1,000 characters of IAM's alphabet); returns it (default ''). @internal */
export function validateRoleDescription(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value !== 'string' || value.length > 1000 || !DESCRIPTION.test(value)) {
    throw invalidInput(
      `IAM role description ${describeValue(value, { maxLength: 80 })} is invalid: at most 1,000 printable Latin-1 characters.`,
    );
  }
  return value;
}

function malformed(why: string): never {
  throw invalidInput(
    `IAM trust policy is malformed: ${why}. Build it with buildWebIdentityTrustPolicy or buildPodIdentityTrustPolicy and pass minifyTrustPolicy(…).`,
  );
}

function checkPrincipal(principal: unknown, index: number): void {
  const where = `Statement[${index}].Principal`;
  if (principal === '*') return;
  if (typeof principal !== 'object' || principal === null || Array.isArray(principal)) {
    malformed(`${where} must be "*" or an object of AWS, Federated, Service or CanonicalUser`);
  }
  const entries = Object.entries(principal as Record<string, unknown>);
  if (entries.length === 0) malformed(`${where} is empty`);
  for (const [type, raw] of entries) {
    const values = Array.isArray(raw) ? raw : [raw];
    if (values.length === 0 || values.some((v) => typeof v !== 'string' || v.length === 0)) {
      malformed(`${where}.${type} must be a non-empty string or array of strings`);
    }
    for (const v of values as string[]) {
      if (type === 'Federated') {
        const oidc = OIDC_PROVIDER_ARN.exec(v);
        if (oidc) {
          try {
            parseOidcIssuerUrl(`https://${oidc[1]}`);
          } catch {
            malformed(
              `${where}.Federated ${describeValue(v, { maxLength: 80 })} does not name a valid OIDC issuer`,
            );
          }
        } else if (!SAML_PROVIDER_ARN.test(v) && !DOMAIN.test(v)) {
          malformed(
            `${where}.Federated ${describeValue(v, { maxLength: 80 })}: Federated principals must be valid domain names or SAML/OIDC provider ARNs`,
          );
        }
      } else if (type === 'Service') {
        if (!SERVICE.test(v))
          malformed(`${where}.Service ${describeValue(v, { maxLength: 80 })} is not a service principal`);
      } else if (type === 'AWS') {
        if (!AWS_PRINCIPAL.test(v))
          malformed(`${where}.AWS ${describeValue(v, { maxLength: 80 })} is not an account id or IAM ARN`);
      } else if (type !== 'CanonicalUser') {
        malformed(`${where} has an unknown principal type ${describeValue(type, { maxLength: 80 })}`);
      }
    }
  }
}

/**
 * Checks that a trust policy is what IAM accepts: JSON text of at most 4,096 non-whitespace
 * characters (the highest quota), `Version` 2012-10-17 or 2008-10-17, at least one statement, each
 * with `Effect`, a `Principal`, only STS trust actions, no `Resource`, and a well-formed `Condition`.
 * Returns the parsed document. (Whether it fits the account's own limit, 2,048 by default, only IAM
 * knows: `LimitExceeded`, a `CONFLICT`.)
 * @internal
 */
export function validateTrustPolicyDocument(value: unknown): Record<string, unknown> {
  if (typeof value !== 'string' || value.length === 0) {
    malformed(`it must be non-empty JSON text, got ${describeValue(value, { maxLength: 80 })}`);
  }
  const text = value as string;
  const size = nonWhitespaceLength(text);
  if (size > ROLE_TRUST_POLICY_MAX_CHARS) {
    throw invalidInput(
      `IAM trust policy has ${size} characters; no account may have more than ${ROLE_TRUST_POLICY_MAX_CHARS} (IAM's highest role trust policy quota). Use one role per cluster.`,
      { size },
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    malformed('it is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    malformed('it must be a JSON object with Version and Statement');
  }
  const doc = parsed as Record<string, unknown>;
  if (doc.Version !== '2012-10-17' && doc.Version !== '2008-10-17') {
    malformed(`Version must be "2012-10-17", got ${describeValue(doc.Version, { maxLength: 80 })}`);
  }
  const statements = Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
  if (statements.length === 0) malformed('it has no statement');
  statements.forEach((raw, i) => {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      malformed(`Statement[${i}] must be an object`);
    }
    const st = raw as Record<string, unknown>;
    if (st.Effect !== 'Allow' && st.Effect !== 'Deny')
      malformed(`Statement[${i}].Effect must be Allow or Deny`);
    if ('Resource' in st || 'NotResource' in st)
      malformed(`Statement[${i}] has the prohibited field Resource`);
    if ('NotPrincipal' in st) malformed(`Statement[${i}] uses NotPrincipal, which zonekeeper never writes`);
    checkPrincipal(st.Principal, i);
    const actions = st.Action ?? st.NotAction;
    const list = Array.isArray(actions) ? actions : [actions];
    if (list.length === 0 || list.some((a) => typeof a !== 'string' || !TRUST_POLICY_ACTIONS.has(a))) {
      malformed(
        `Statement[${i}] actions can only be sts:AssumeRole, sts:AssumeRoleWithSAML, sts:AssumeRoleWithWebIdentity, sts:TagSession, sts:SetSourceIdentity or sts:SetContext`,
      );
    }
    if (st.Condition !== undefined) {
      const cond = st.Condition;
      if (typeof cond !== 'object' || cond === null || Array.isArray(cond)) {
        malformed(`Statement[${i}].Condition must be an object`);
      }
      for (const [op, block] of Object.entries(cond as Record<string, unknown>)) {
        if (!/^(?:ForAllValues:|ForAnyValue:)?[A-Za-z]+(?:IfExists)?$/.test(op)) {
          malformed(
            `Statement[${i}].Condition has an invalid operator ${describeValue(op, { maxLength: 80 })}`,
          );
        }
        if (typeof block !== 'object' || block === null || Array.isArray(block)) {
          malformed(`Statement[${i}].Condition.${op} must be an object of key → value(s)`);
        }
      }
    }
  });
  return doc;
}

/** Checks an OIDC provider ARN; returns it and the issuer URL it names. @internal */
export function validateOidcProviderArn(value: unknown): { arn: string; url: string } {
  const m = typeof value === 'string' ? OIDC_PROVIDER_ARN.exec(value) : null;
  if (!m) {
    throw invalidInput(
      `OIDC provider ARN ${describeValue(value, { maxLength: 80 })} is invalid: expected "arn:aws:iam::<12-digit account>:oidc-provider/<host/path>".`,
    );
  }
  const url = parseOidcIssuerUrl(`https://${m[1]}`).url;
  return { arn: value as string, url };
}

/** Checks client ids (0–100 of 1–255 printable characters); returns a copy. @internal */
export function validateClientIds(value: unknown): string[] {
  if (!Array.isArray(value) || value.length > MAX_OIDC_CLIENT_IDS) {
    throw invalidInput(
      `OIDC client ids must be an array of at most ${MAX_OIDC_CLIENT_IDS} strings, got ${describeValue(value, { maxLength: 80 })}.`,
    );
  }
  for (const id of value) {
    if (typeof id !== 'string' || !CLIENT_ID.test(id)) {
      throw invalidInput(
        `OIDC client id ${describeValue(id, { maxLength: 80 })} is invalid: 1–255 printable characters without spaces.`,
      );
    }
  }
  return [...new Set(value as string[])];
}

/** Checks thumbprints (0–5 of 40 hex digits); returns them lowercased. @internal */
export function validateThumbprints(value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length > MAX_OIDC_THUMBPRINTS) {
    throw invalidInput(
      `OIDC thumbprints must be an array of at most ${MAX_OIDC_THUMBPRINTS} strings, got ${describeValue(value, { maxLength: 80 })}.`,
    );
  }
  for (const t of value) {
    if (typeof t !== 'string' || !THUMBPRINT.test(t)) {
      throw invalidInput(
        `OIDC thumbprint ${describeValue(t, { maxLength: 80 })} is invalid: the SHA-1 fingerprint of the issuer's CA certificate, 40 hex digits.`,
      );
    }
  }
  return [...new Set((value as string[]).map((t) => t.toLowerCase()))];
}
