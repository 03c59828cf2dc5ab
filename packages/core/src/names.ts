/**
 * Validation and normalisation of the names zonekeeper handles: organisation and cluster names (DNS
 * labels), base domains and zone names, and certificate hostnames.
 *
 * Conventions:
 * - A *label* is RFC 1035/1123 LDH: 1–63 characters of `a-z`, `0-9` and `-`, neither starting nor ending
 *   with `-` (RFC 1123 allows a leading digit).
 * - A *domain name* is the canonical form: lowercase, no trailing dot, at most 253 characters. Adapters
 *   add the trailing dot where a vendor API wants it ({@link toFqdn}).
 * - Organisation and cluster names are **rejected**, not folded, when they contain uppercase letters:
 *   they become IAM user names, Vault paths and Kubernetes labels, and silently merging "Acme" and
 *   "acme" could hand one tenant another's zone. {@link toOrganizationLabel} turns a display name such
 *   as "Acme Corp" into a valid label when a caller wants that explicitly.
 * - Domain names and hostnames are case-insensitive in DNS, so they are **lowercased**.
 *
 * Every function throws a `ZonekeeperError` with code `INVALID_INPUT` whose message says what is wrong.
 *
 * @packageDocumentation
 */

import { domainToASCII, domainToUnicode } from 'node:url';
import { invalidInput } from './errors.js';
import { describeValue } from './values.js';

/** The longest DNS label, in characters. @public */
export const MAX_LABEL_LENGTH = 63;
/** The longest domain name in presentation form without the trailing dot, in characters. @public */
export const MAX_DOMAIN_LENGTH = 253;

const LDH_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

function labelProblem(label: string): string | undefined {
  if (label.length === 0) return 'is empty';
  if (label.length > MAX_LABEL_LENGTH)
    return `is ${label.length} characters long; a DNS label allows at most ${MAX_LABEL_LENGTH}`;
  const bad = /[^a-z0-9-]/.exec(label);
  if (bad) {
    const ch = bad[0];
    const shown = /\s/.test(ch) ? 'whitespace' : JSON.stringify(ch);
    return `contains ${shown} at position ${bad.index + 1}; only a-z, 0-9 and "-" are allowed`;
  }
  if (label.startsWith('-') || label.endsWith('-')) return 'starts or ends with "-"';
  if (label.startsWith('xn--') && !isValidPunycodeLabel(label))
    return 'starts with "xn--" but is not valid punycode (an internationalised label must decode to Unicode and encode back to itself)';
  return undefined;
}

/** An `xn--` label is valid when it decodes to Unicode and that encodes back to the same label. */
function isValidPunycodeLabel(label: string): boolean {
  const unicode = domainToUnicode(label);
  return unicode !== '' && unicode !== label && domainToASCII(unicode) === label;
}

/**
 * Validates a DNS label used as a name (an organisation or a cluster). Returns it unchanged.
 * @param what - How the value is called in error messages, e.g. `'Organisation name'`.
 * @public
 */
export function validateDnsLabel(value: unknown, what = 'Name'): string {
  if (typeof value !== 'string') throw invalidInput(`${what} must be a string, got ${describeValue(value)}.`);
  if (value.length === 0) throw invalidInput(`${what} must not be empty.`);
  if (/[A-Z]/.test(value)) {
    const lower = value.toLowerCase();
    const hint = LDH_LABEL.test(lower) ? `use ${JSON.stringify(lower)}` : 'see toOrganizationLabel()';
    throw invalidInput(
      `${what} ${describeValue(value)} contains uppercase letters; names are lowercase DNS labels (${hint}).`,
      { value },
    );
  }
  const problem = labelProblem(value);
  if (problem) throw invalidInput(`${what} ${describeValue(value)} ${problem}.`, { value });
  return value;
}

/**
 * Validates an organisation name: a lowercase DNS label (see the module notes). Returns it unchanged.
 * @public
 */
export function validateOrganizationName(name: unknown): string {
  return validateDnsLabel(name, 'Organisation name');
}

/**
 * Validates a cluster id: a lowercase DNS label. It is used in Kubernetes labels, ExternalDNS's TXT
 * owner id and per-cluster record names (`*.<cluster>.<org>.<baseDomain>`). Returns it unchanged.
 * @public
 */
export function validateClusterId(id: unknown): string {
  return validateDnsLabel(id, 'Cluster id');
}

/**
 * Turns a display name such as `"Acme Corp"` or `"Société Générale"` into a valid organisation label
 * (`"acme-corp"`, `"societe-generale"`): accents are dropped, letters lowercased, every run of other
 * characters becomes one `-`, leading and trailing `-` are removed, and the result is cut to 63
 * characters. Idempotent. Throws `INVALID_INPUT` if nothing usable is left (e.g. `"!!!"`).
 * @public
 */
export function toOrganizationLabel(displayName: string): string {
  if (typeof displayName !== 'string')
    throw invalidInput(`Display name must be a string, got ${describeValue(displayName)}.`);
  const label = displayName
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+/, '')
    .slice(0, MAX_LABEL_LENGTH)
    .replace(/-+$/, '');
  if (label.length === 0) {
    throw invalidInput(
      `Display name ${describeValue(displayName)} has no letters or digits to build an organisation name from.`,
    );
  }
  return label;
}

/**
 * Normalises a domain name: lowercases it, removes one trailing dot, and checks every label (LDH,
 * 1–63 characters) and the total length (at most 253). The top-level label must not be all digits.
 * @param what - How the value is called in error messages, e.g. `'Base domain'`.
 * @public
 */
export function normalizeDomainName(input: unknown, what = 'Domain name'): string {
  if (typeof input !== 'string') throw invalidInput(`${what} must be a string, got ${describeValue(input)}.`);
  const name = (input.endsWith('.') ? input.slice(0, -1) : input).toLowerCase();
  if (name.length === 0) throw invalidInput(`${what} must not be empty (the root "." is not allowed).`);
  if (name.length > MAX_DOMAIN_LENGTH) {
    throw invalidInput(
      `${what} is ${name.length} characters long; a domain name allows at most ${MAX_DOMAIN_LENGTH}.`,
      { value: input },
    );
  }
  const labels = name.split('.');
  for (const [i, label] of labels.entries()) {
    const problem = labelProblem(label);
    if (problem) {
      throw invalidInput(
        `${what} ${describeValue(input)}: label ${i + 1} (${describeValue(label)}) ${problem}.`,
        {
          value: input,
        },
      );
    }
  }
  if (/^[0-9]+$/.test(labels[labels.length - 1] as string)) {
    throw invalidInput(
      `${what} ${describeValue(input)} ends in an all-numeric label; that is an address, not a domain name.`,
      { value: input },
    );
  }
  return name;
}

/**
 * Normalises a base domain (the parent of every organisation zone, e.g. `example.com`): a domain name
 * with at least two labels and room left for an organisation label in front of it.
 * @public
 */
export function normalizeBaseDomain(input: unknown): string {
  const name = normalizeDomainName(input, 'Base domain');
  if (!name.includes('.')) {
    throw invalidInput(
      `Base domain ${describeValue(input)} must have at least two labels (e.g. "example.com"); a top-level domain cannot be used.`,
      { value: input },
    );
  }
  if (name.length > MAX_DOMAIN_LENGTH - 2) {
    throw invalidInput(
      `Base domain ${describeValue(input)} is ${name.length} characters long; at most ${MAX_DOMAIN_LENGTH - 2} leaves room for an organisation label.`,
      { value: input },
    );
  }
  return name;
}

/**
 * The zone name of an organisation, `<org>.<baseDomain>` (canonical form, no trailing dot). Validates
 * both parts and the total length.
 * @public
 */
export function organizationZoneName(organization: unknown, baseDomain: unknown): string {
  const org = validateOrganizationName(organization);
  const base = normalizeBaseDomain(baseDomain);
  const zone = `${org}.${base}`;
  if (zone.length > MAX_DOMAIN_LENGTH) {
    throw invalidInput(
      `Zone name for organisation ${describeValue(org)} under ${describeValue(base)} would be ${zone.length} characters long; at most ${MAX_DOMAIN_LENGTH} are allowed.`,
      {
        organization: org,
        baseDomain: base,
      },
    );
  }
  return zone;
}

/**
 * The fully-qualified form of a domain name, with exactly one trailing dot (`example.com.`), as
 * Route 53 returns zone and record names.
 * @public
 */
export function toFqdn(domain: string): string {
  return domain.endsWith('.') ? domain : `${domain}.`;
}

/**
 * True if `name` equals `zone` or lies under it (both in canonical form; a trailing dot is ignored).
 * @public
 */
export function isWithinDomain(name: string, zone: string): boolean {
  const n = (name.endsWith('.') ? name.slice(0, -1) : name).toLowerCase();
  const z = (zone.endsWith('.') ? zone.slice(0, -1) : zone).toLowerCase();
  return n === z || n.endsWith(`.${z}`);
}

/**
 * Every record type Route 53 supports, including the zone's own NS and SOA. One list for every package
 * that validates record types (zone-manager's record sets, iam-scoper's policy conditions).
 * @public
 */
export const ROUTE53_RECORD_TYPES = [
  'A',
  'AAAA',
  'CAA',
  'CNAME',
  'DS',
  'HTTPS',
  'MX',
  'NAPTR',
  'NS',
  'PTR',
  'SOA',
  'SPF',
  'SRV',
  'SSHFP',
  'SVCB',
  'TLSA',
  'TXT',
] as const;

/** One of {@link ROUTE53_RECORD_TYPES}. @public */
export type Route53RecordType = (typeof ROUTE53_RECORD_TYPES)[number];

/** The longest hosted zone id zonekeeper accepts. @public */
export const MAX_HOSTED_ZONE_ID_LENGTH = 32;

const HOSTED_ZONE_ID = /^[A-Z0-9]{1,32}$/;

/**
 * Normalises a Route 53 hosted zone id: strips a `/hostedzone/` prefix and checks 1–32 uppercase
 * letters and digits (real ids start with `Z`; moto's do not, so the letter is not required).
 * @param what - How the value is called in error messages, e.g. `'zoneId'`.
 * @public
 */
export function normalizeHostedZoneId(input: unknown, what = 'Zone id'): string {
  if (typeof input !== 'string') throw invalidInput(`${what} must be a string, got ${describeValue(input)}.`);
  const id = input.startsWith('/hostedzone/') ? input.slice('/hostedzone/'.length) : input;
  if (!HOSTED_ZONE_ID.test(id)) {
    throw invalidInput(
      `${what} ${describeValue(input)} is not a hosted zone id; expected 1–${MAX_HOSTED_ZONE_ID_LENGTH} uppercase letters and digits such as "Z0123456789ABCDEFGHIJ" (or "/hostedzone/Z…").`,
      {
        value: input,
      },
    );
  }
  return id;
}

const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;

/** Options of {@link normalizeHostname}. @public */
export interface HostnameOptions {
  /** Allow a wildcard as the whole left-most label (`*.example.com`). Default true. */
  readonly allowWildcard?: boolean;
}

/**
 * Normalises a certificate hostname (a SAN dNSName): lowercases it, removes a trailing dot and checks
 * it. A wildcard is allowed only as the whole left-most label and needs at least two labels after it
 * (`*.example.com`, not `*.com`, `a*.example.com`, `*.*.example.com` or `x.*.example.com`). IP
 * addresses are rejected: they belong in an iPAddress SAN, which zonekeeper does not issue.
 * @public
 */
export function normalizeHostname(input: unknown, options: HostnameOptions = {}): string {
  if (typeof input !== 'string')
    throw invalidInput(`Hostname must be a string, got ${describeValue(input)}.`);
  const raw = input.endsWith('.') ? input.slice(0, -1) : input;
  if (raw.includes(':') || raw.startsWith('[') || IPV4.test(raw)) {
    throw invalidInput(
      `Hostname ${describeValue(input)} is an IP address; only DNS names can be certified.`,
      {
        value: input,
      },
    );
  }
  const allowWildcard = options.allowWildcard ?? true;
  if (raw.includes('*')) {
    if (!allowWildcard)
      throw invalidInput(`Hostname ${describeValue(input)} contains a wildcard, which is not allowed here.`, {
        value: input,
      });
    if (!raw.startsWith('*.') || raw.indexOf('*', 1) !== -1) {
      throw invalidInput(
        `Hostname ${describeValue(input)} has a wildcard that is not the whole left-most label; only "*.<domain>" is allowed.`,
        { value: input },
      );
    }
    const rest = normalizeDomainName(raw.slice(2), 'Hostname');
    if (!rest.includes('.')) {
      throw invalidInput(
        `Hostname ${describeValue(input)} puts a wildcard directly under a top-level domain; use at least "*.example.com".`,
        { value: input },
      );
    }
    if (rest.length + 2 > MAX_DOMAIN_LENGTH) {
      throw invalidInput(`Hostname ${describeValue(input)} is longer than ${MAX_DOMAIN_LENGTH} characters.`, {
        value: input,
      });
    }
    return `*.${rest}`;
  }
  return normalizeDomainName(raw, 'Hostname');
}
