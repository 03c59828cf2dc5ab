import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hasErrorCode } from './errors.js';
import {
  isWithinDomain,
  normalizeBaseDomain,
  normalizeDomainName,
  normalizeHostname,
  organizationZoneName,
  toFqdn,
  toOrganizationLabel,
  validateClusterId,
  validateOrganizationName,
} from './names.js';

/** An oracle written independently of names.ts: is `name` a canonical, valid DNS name? */
function isCanonicalDnsName(name: string, { wildcard = false } = {}): boolean {
  if (name.length === 0 || name.length > 253 || name !== name.toLowerCase() || name.endsWith('.'))
    return false;
  const labels = name.split('.');
  return labels.every((label, i) => {
    if (wildcard && i === 0 && label === '*') return labels.length >= 3;
    return label.length >= 1 && label.length <= 63 && /^[a-z0-9]+(-+[a-z0-9]+)*$/.test(label);
  });
}

function invalid(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(hasErrorCode(e, 'INVALID_INPUT')).toBe(true);
    return (e as Error).message;
  }
  throw new Error('expected INVALID_INPUT');
}

const long = (n: number, c = 'a') => c.repeat(n);

describe('organisation names', () => {
  const accepted: Record<string, string> = {
    'a single letter is a label': 'a',
    'letters, digits and inner hyphens are fine': 'acme-01',
    'a leading digit is allowed (RFC 1123)': '1password',
    'valid punycode (bücher)': 'xn--bcher-kva',
    'other double hyphens are plain LDH': 'ab--cd',
    'exactly 63 characters is the maximum': long(63),
  };
  for (const [sentence, name] of Object.entries(accepted)) {
    it(`accepts: ${sentence}`, () => expect(validateOrganizationName(name)).toBe(name));
  }

  const rejected: Record<string, [unknown, RegExp]> = {
    'an empty name': ['', /must not be empty/],
    'a name of 64 characters': [long(64), /64 characters long; a DNS label allows at most 63/],
    'uppercase letters (rejected, not folded), with the lowercase hint': [
      'Acme',
      /uppercase letters.*use "acme"/,
    ],
    'uppercase that would still be invalid points at toOrganizationLabel': [
      'Acme Corp',
      /toOrganizationLabel/,
    ],
    'an underscore, naming its position': ['acme_corp', /contains "_" at position 5/],
    'a dot (a name is one label)': ['acme.corp', /contains "\." at position 5/],
    whitespace: ['acme corp', /contains whitespace/],
    'a leading hyphen': ['-acme', /starts or ends with "-"/],
    'a trailing hyphen': ['acme-', /starts or ends with "-"/],
    'a non-ASCII letter': ['société', /contains "é"/],
    'invalid punycode (xn--acme decodes to nothing)': ['xn--acme', /not valid punycode/],
    'punycode of plain ASCII (xn--a)': ['xn--a', /not valid punycode/],
    'a number instead of a string': [42, /must be a string, got 42/],
    undefined: [undefined, /must be a string, got undefined/],
  };
  for (const [sentence, [name, message]] of Object.entries(rejected)) {
    it(`rejects ${sentence}`, () => expect(invalid(() => validateOrganizationName(name))).toMatch(message));
  }

  it('cluster ids follow the same rules and say so', () => {
    expect(validateClusterId('prod-eu-1')).toBe('prod-eu-1');
    expect(invalid(() => validateClusterId('Prod'))).toMatch(/^Cluster id "Prod"/);
  });
});

describe('toOrganizationLabel', () => {
  const table: Record<string, [string, string]> = {
    'spaces become hyphens and letters are lowercased': ['Acme Corp', 'acme-corp'],
    'accents are dropped': ['Société Générale', 'societe-generale'],
    'runs of punctuation collapse to one hyphen': ['  R&D -- Team!! ', 'r-d-team'],
    'compatibility characters are decomposed': ['ﬁnance ①', 'finance-1'],
    'the result is cut to 63 characters without a trailing hyphen': [`${long(62)} b`, long(62)],
  };
  for (const [sentence, [input, output]] of Object.entries(table)) {
    it(sentence, () => expect(toOrganizationLabel(input)).toBe(output));
  }

  it('rejects a display name with nothing usable', () => {
    expect(invalid(() => toOrganizationLabel('!!! ???'))).toMatch(/no letters or digits/);
    expect(invalid(() => toOrganizationLabel('日本'))).toMatch(/no letters or digits/);
  });

  it('property: the result is always a valid organisation name, and the function is idempotent', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 120 }), (s) => {
        let label: string;
        try {
          label = toOrganizationLabel(s);
        } catch (e) {
          expect(hasErrorCode(e, 'INVALID_INPUT')).toBe(true);
          return;
        }
        expect(validateOrganizationName(label)).toBe(label);
        expect(isCanonicalDnsName(label)).toBe(true);
        expect(toOrganizationLabel(label)).toBe(label);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('domain names', () => {
  const accepted: Record<string, [string, string]> = {
    'a trailing dot is removed': ['example.com.', 'example.com'],
    'uppercase is lowercased (DNS is case-insensitive)': ['Example.COM', 'example.com'],
    'a single label is a domain name': ['localhost', 'localhost'],
    'digits in inner labels are fine': ['1.2.3.example', '1.2.3.example'],
    '253 characters is the maximum': [
      `${long(63)}.${long(63)}.${long(63)}.${long(61)}`,
      `${long(63)}.${long(63)}.${long(63)}.${long(61)}`,
    ],
  };
  for (const [sentence, [input, output]] of Object.entries(accepted)) {
    it(`accepts: ${sentence}`, () => expect(normalizeDomainName(input)).toBe(output));
  }

  const rejected: Record<string, [unknown, RegExp]> = {
    'an empty name': ['', /must not be empty/],
    'the root alone': ['.', /must not be empty/],
    'two trailing dots (an empty label)': ['example.com..', /label 3 \(""\) is empty/],
    'an empty inner label': ['a..b', /label 2 \(""\) is empty/],
    '254 characters': [`${long(63)}.${long(63)}.${long(63)}.${long(62)}`, /254 characters long/],
    'a 64-character label': [`${long(64)}.com`, /label 1 .* 64 characters long/],
    'an underscore': ['_dmarc.example.com', /label 1 \("_dmarc"\) contains "_"/],
    'an IPv4 address': ['10.0.0.1', /all-numeric label/],
    'a non-string': [{}, /must be a string, got an object/],
  };
  for (const [sentence, [input, message]] of Object.entries(rejected)) {
    it(`rejects ${sentence}`, () => expect(invalid(() => normalizeDomainName(input))).toMatch(message));
  }

  it('base domains need two labels and room for an organisation', () => {
    expect(normalizeBaseDomain('Example.com.')).toBe('example.com');
    expect(invalid(() => normalizeBaseDomain('com'))).toMatch(/at least two labels/);
    expect(invalid(() => normalizeBaseDomain(`${long(63)}.${long(63)}.${long(63)}.${long(60)}`))).toMatch(
      /leaves room/,
    );
  });

  it('organisation zone names join and check both parts', () => {
    expect(organizationZoneName('acme', 'Example.com.')).toBe('acme.example.com');
    const base = `${long(63)}.${long(63)}.${long(63)}.${long(58)}`;
    expect(invalid(() => organizationZoneName('abc', base))).toMatch(/would be 254 characters long/);
    expect(invalid(() => organizationZoneName('Acme', 'example.com'))).toMatch(/^Organisation name/);
  });

  it('toFqdn and isWithinDomain', () => {
    expect(toFqdn('example.com')).toBe('example.com.');
    expect(toFqdn('example.com.')).toBe('example.com.');
    expect(isWithinDomain('a.acme.example.com.', 'acme.example.com')).toBe(true);
    expect(isWithinDomain('acme.example.com', 'acme.example.com.')).toBe(true);
    expect(isWithinDomain('notacme.example.com', 'acme.example.com')).toBe(false);
  });

  it('property: anything accepted is a valid DNS name, and normalisation is idempotent', () => {
    const alphabet = fc.constantFrom(...'abcxyzABZ0189-._*'.split(''));
    const candidates = fc.oneof(
      fc.domain(),
      fc.domain().map((d) => `${d}.`),
      fc.domain().map((d) => d.toUpperCase()),
      fc.string({ unit: alphabet, minLength: 0, maxLength: 70 }),
      fc
        .array(fc.string({ unit: alphabet, minLength: 0, maxLength: 66 }), { maxLength: 6 })
        .map((ls) => ls.join('.')),
    );
    fc.assert(
      fc.property(candidates, (input) => {
        let out: string;
        try {
          out = normalizeDomainName(input);
        } catch (e) {
          expect(hasErrorCode(e, 'INVALID_INPUT')).toBe(true);
          return;
        }
        expect(isCanonicalDnsName(out)).toBe(true);
        expect(normalizeDomainName(out)).toBe(out);
        expect(normalizeDomainName(toFqdn(out))).toBe(out);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('certificate hostnames', () => {
  const accepted: Record<string, [string, string]> = {
    'a plain name, lowercased': ['App.Acme.Example.com', 'app.acme.example.com'],
    'a wildcard as the whole left-most label': ['*.acme.example.com', '*.acme.example.com'],
    'a wildcard with a trailing dot': ['*.Example.com.', '*.example.com'],
  };
  for (const [sentence, [input, output]] of Object.entries(accepted)) {
    it(`accepts ${sentence}`, () => expect(normalizeHostname(input)).toBe(output));
  }

  const rejected: Record<string, [string, RegExp]> = {
    'two wildcard labels': ['*.*.example.com', /not the whole left-most label/],
    'a partial wildcard label': ['a*.example.com', /not the whole left-most label/],
    'a wildcard in an inner label': ['x.*.example.com', /not the whole left-most label/],
    'a wildcard right under a TLD': ['*.com', /directly under a top-level domain/],
    'an IPv4 address': ['192.168.0.1', /is an IP address/],
    'an IPv6 address': ['::1', /is an IP address/],
    'a bracketed IPv6 address': ['[2001:db8::1]', /is an IP address/],
    'an underscore': ['my_app.example.com', /contains "_"/],
  };
  for (const [sentence, [input, message]] of Object.entries(rejected)) {
    it(`rejects ${sentence}`, () => expect(invalid(() => normalizeHostname(input))).toMatch(message));
  }

  it('can forbid wildcards', () => {
    expect(invalid(() => normalizeHostname('*.example.com', { allowWildcard: false }))).toMatch(
      /not allowed here/,
    );
  });

  it('property: anything accepted is a valid name with at most a left-most wildcard, and idempotent', () => {
    const alphabet = fc.constantFrom(...'abcAB019-.*:'.split(''));
    const candidates = fc.oneof(
      fc.domain(),
      fc.domain().map((d) => `*.${d}`),
      fc.string({ unit: alphabet, maxLength: 40 }),
      fc.ipV4(),
      fc.ipV6(),
    );
    fc.assert(
      fc.property(candidates, (input) => {
        let out: string;
        try {
          out = normalizeHostname(input);
        } catch (e) {
          expect(hasErrorCode(e, 'INVALID_INPUT')).toBe(true);
          return;
        }
        expect(isCanonicalDnsName(out, { wildcard: true })).toBe(true);
        expect(out.indexOf('*')).toBeLessThanOrEqual(0);
        expect(normalizeHostname(out)).toBe(out);
      }),
      { numRuns: 3000 },
    );
  });
});
