import { createHash } from 'node:crypto';
import { hasErrorCode } from '@zonekeeper/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  IDENTITY_PATH,
  type IdentityNameInput,
  identityPolicyName,
  identityUserName,
  identityUserNamePrefix,
} from './index.js';

/** IAM's user-name charset and length (IAM quotas: `[\w+=,.@-]+`, at most 64). */
const IAM_USER_NAME = /^[\w+=,.@-]{1,64}$/;

function invalid(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(hasErrorCode(e, 'INVALID_INPUT')).toBe(true);
    return (e as Error).message;
  }
  throw new Error('expected INVALID_INPUT');
}

// sha256('example.com') begins with a379a6f6, sha256('example.org') with bfabc374 (checked below).
const EX = 'zk-a379a6f6.';
const o63 = 'o'.repeat(63);
const c63 = 'c'.repeat(63);

describe('identityUserName', () => {
  it('the platform hash is the first 8 hex digits of sha256(base domain)', () => {
    expect(createHash('sha256').update('example.com').digest('hex').slice(0, 8)).toBe('a379a6f6');
    expect(createHash('sha256').update('example.org').digest('hex').slice(0, 8)).toBe('bfabc374');
  });

  const table: Record<string, [IdentityNameInput, string]> = {
    'an organisation identity is zk-<b8>.<org>': [
      { baseDomain: 'example.com', organization: 'acme' },
      `${EX}acme`,
    ],
    'a cluster identity is zk-<b8>.<org>.<cluster>': [
      { baseDomain: 'example.com', organization: 'acme', clusterId: 'c1' },
      `${EX}acme.c1`,
    ],
    'an explicit undefined cluster id is the organisation identity': [
      { baseDomain: 'example.com', organization: 'acme', clusterId: undefined },
      `${EX}acme`,
    ],
    'the base domain’s case and trailing dot do not matter': [
      { baseDomain: 'Example.COM.', organization: 'acme' },
      `${EX}acme`,
    ],
    'another base domain gives another prefix': [
      { baseDomain: 'example.org', organization: 'acme' },
      'zk-bfabc374.acme',
    ],
    'a readable part of exactly 52 characters still fits (64 in total)': [
      { baseDomain: 'example.com', organization: 'a'.repeat(52) },
      `${EX}${'a'.repeat(52)}`,
    ],
    'a 63-character organisation falls back to a truncated name and a hash': [
      { baseDomain: 'example.com', organization: o63 },
      `${EX}${'o'.repeat(35)}_4a1825a092bfdd00`,
    ],
    'a long cluster id is truncated, the hash keeps it distinct': [
      { baseDomain: 'example.com', organization: 'acme', clusterId: c63 },
      `${EX}acme.${'c'.repeat(30)}_568d05ee014239da`,
    ],
    'a cut that ends in "." is trimmed': [
      { baseDomain: 'example.com', organization: 'a'.repeat(34), clusterId: 'c'.repeat(18) },
      `${EX}${'a'.repeat(34)}_72d2761b177e654b`,
    ],
    'a cut that ends in "-" is trimmed': [
      { baseDomain: 'example.com', organization: `${'a'.repeat(34)}-b`, clusterId: 'c'.repeat(18) },
      `${EX}${'a'.repeat(34)}_dc8bc0ea5f6fbb8e`,
    ],
  };
  for (const [sentence, [input, name]] of Object.entries(table)) {
    it(sentence, () => {
      expect(identityUserName(input)).toBe(name);
      expect(name).toMatch(IAM_USER_NAME);
    });
  }

  it('a readable part of 53 characters switches to the long form', () => {
    const name = identityUserName({ baseDomain: 'example.com', organization: 'a'.repeat(53) });
    expect(name).toHaveLength(64);
    expect(name).toMatch(/^zk-a379a6f6\.a{35}_[0-9a-f]{16}$/);
  });

  it('organisation/cluster splits that read alike stay distinct ("a-b"+"c" vs "a"+"b-c")', () => {
    const one = identityUserName({ baseDomain: 'example.com', organization: 'a-b', clusterId: 'c' });
    const two = identityUserName({ baseDomain: 'example.com', organization: 'a', clusterId: 'b-c' });
    const three = identityUserName({ baseDomain: 'example.com', organization: 'a-b-c' });
    expect(new Set([one, two, three]).size).toBe(3);
  });

  it('long names that share their first 35 readable characters stay distinct', () => {
    const names = ['x', 'y', 'z'].map((c) =>
      identityUserName({ baseDomain: 'example.com', organization: `${'p'.repeat(50)}${c}` }),
    );
    expect(names.map((n) => n.slice(0, 47))).toEqual(Array(3).fill(`${EX}${'p'.repeat(35)}`));
    expect(new Set(names).size).toBe(3);
  });

  const rejected: Record<string, [unknown, RegExp]> = {
    'a missing input': [undefined, /input must be an object/],
    'an uppercase organisation': [
      { baseDomain: 'example.com', organization: 'Acme' },
      /Organisation name "Acme" contains uppercase/,
    ],
    'an empty organisation': [
      { baseDomain: 'example.com', organization: '' },
      /Organisation name must not be empty/,
    ],
    'an organisation with an underscore': [
      { baseDomain: 'example.com', organization: 'ac_me' },
      /contains "_"/,
    ],
    'an organisation with a dot': [{ baseDomain: 'example.com', organization: 'ac.me' }, /contains "."/],
    'an organisation of 64 characters': [
      { baseDomain: 'example.com', organization: 'a'.repeat(64) },
      /64 characters long/,
    ],
    'a missing organisation': [{ baseDomain: 'example.com' }, /Organisation name must be a string/],
    'an uppercase cluster id': [
      { baseDomain: 'example.com', organization: 'acme', clusterId: 'C1' },
      /Cluster id "C1" contains uppercase/,
    ],
    'an empty cluster id': [
      { baseDomain: 'example.com', organization: 'acme', clusterId: '' },
      /Cluster id must not be empty/,
    ],
    'a cluster id that is a number': [
      { baseDomain: 'example.com', organization: 'acme', clusterId: 7 },
      /Cluster id must be a string/,
    ],
    'a top-level domain as base domain': [{ baseDomain: 'com', organization: 'acme' }, /at least two labels/],
    'an invalid base domain': [{ baseDomain: 'exa mple.com', organization: 'acme' }, /whitespace/],
    'a missing base domain': [{ organization: 'acme' }, /Base domain must be a string/],
  };
  for (const [sentence, [input, message]] of Object.entries(rejected)) {
    it(`rejects ${sentence}`, () => {
      expect(invalid(() => identityUserName(input as IdentityNameInput))).toMatch(message);
      expect(invalid(() => identityPolicyName(input as IdentityNameInput))).toMatch(message);
    });
  }
});

describe('identityUserNamePrefix, identityPolicyName and IDENTITY_PATH', () => {
  it('the prefix is zk-<b8>. and normalises the base domain', () => {
    expect(identityUserNamePrefix('example.com')).toBe(EX);
    expect(identityUserNamePrefix('EXAMPLE.com.')).toBe(EX);
    expect(invalid(() => identityUserNamePrefix('com'))).toMatch(/at least two labels/);
  });

  it('the inline policy name is the user name followed by ".route53"', () => {
    expect(identityPolicyName({ baseDomain: 'example.com', organization: 'acme' })).toBe(`${EX}acme.route53`);
    expect(identityPolicyName({ baseDomain: 'example.com', organization: 'acme', clusterId: 'c1' })).toBe(
      `${EX}acme.c1.route53`,
    );
  });

  it('IDENTITY_PATH is a valid IAM path', () => {
    expect(IDENTITY_PATH).toBe('/zonekeeper/');
    expect(IDENTITY_PATH).toMatch(/^\/(?:[\u0021-\u007E]+\/)?$/);
  });
});

const labelArb = fc
  .stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/)
  // An `xn--` label must be valid punycode; random ones are not (core rejects them).
  .filter((l) => !l.startsWith('xn--'));
/** Labels from a tiny alphabet, so that near-collisions ("a-b"+"c" vs "a"+"b-c") are common. */
const tinyLabel = fc.stringMatching(/^[ab](?:-?[ab]){0,2}$/);
/** Long labels sharing a long prefix, so that truncated readable parts collide. */
const longLabel = fc.stringMatching(/^[ab-]{0,14}[ab]$/).map((tail) => `${'q'.repeat(48)}${tail}`);
const orgArb = fc.oneof(labelArb, tinyLabel, longLabel);
const clusterArb = fc.option(fc.oneof(labelArb, tinyLabel, longLabel), { nil: undefined });
const baseArb = fc.constantFrom('example.com', 'example.org', 'platform.example.net', 'a.b.c.d.example.io');
const identity = fc.record({ baseDomain: baseArb, organization: orgArb, clusterId: clusterArb });

describe('identityUserName properties', () => {
  it('is always at most 64 characters of IAM’s charset, under the platform prefix', () => {
    fc.assert(
      fc.property(identity, (input) => {
        const name = identityUserName(input);
        expect(name).toMatch(IAM_USER_NAME);
        expect(name.startsWith(identityUserNamePrefix(input.baseDomain))).toBe(true);
        expect(identityPolicyName(input).length).toBeLessThanOrEqual(128);
      }),
      { numRuns: 2000 },
    );
  });

  it('is deterministic, and ignores the base domain’s case and trailing dot', () => {
    fc.assert(
      fc.property(identity, (input) => {
        const name = identityUserName(input);
        expect(identityUserName({ ...input })).toBe(name);
        expect(identityUserName({ ...input, baseDomain: `${input.baseDomain.toUpperCase()}.` })).toBe(name);
      }),
    );
  });

  it('gives distinct names to distinct (base domain, organisation, cluster) triples', () => {
    const key = (i: IdentityNameInput) => JSON.stringify([i.baseDomain, i.organization, i.clusterId ?? null]);
    fc.assert(
      fc.property(fc.uniqueArray(identity, { selector: key, minLength: 2, maxLength: 200 }), (inputs) => {
        const names = new Set(inputs.map(identityUserName));
        // Case-insensitive, as IAM compares user names.
        const folded = new Set([...names].map((n) => n.toLowerCase()));
        expect(names.size).toBe(inputs.length);
        expect(folded.size).toBe(inputs.length);
      }),
      { numRuns: 300 },
    );
  });

  it('gives distinct names on a small, collision-prone space (tiny labels, one platform)', () => {
    const tiny = fc.record({
      baseDomain: fc.constantFrom('example.com', 'EXAMPLE.com.'),
      organization: tinyLabel,
      clusterId: fc.option(tinyLabel, { nil: undefined }),
    });
    const key = (i: IdentityNameInput) => JSON.stringify([i.organization, i.clusterId ?? null]);
    fc.assert(
      fc.property(fc.uniqueArray(tiny, { selector: key, minLength: 2, maxLength: 300 }), (inputs) => {
        expect(new Set(inputs.map(identityUserName)).size).toBe(inputs.length);
      }),
      { numRuns: 200 },
    );
  });
});
