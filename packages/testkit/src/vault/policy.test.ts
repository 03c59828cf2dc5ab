/**
 * ACL decisions and policy parsing of the Vault fake, and the Go-compatible formats it prints.
 */

import { describe, expect, it } from 'vitest';
import { Acl, PolicyParseError, parsePolicyDocument } from './policy.js';
import { formatGoDuration, formatStamp, multiError, parseDurationSeconds, sortKeysDeep } from './wire.js';

describe('Acl', () => {
  it('prefers an exact rule over any glob', () => {
    const acl = new Acl([{ 'secret/data/*': ['read', 'update'], 'secret/data/app': ['deny'] }]);
    expect(acl.allows('secret/data/app', 'read')).toBe(false);
    expect(acl.allows('secret/data/app2', 'read')).toBe(true);
    expect(acl.allows('secret/data/other', 'update')).toBe(true);
    expect(acl.allows('secret/metadata/other', 'read')).toBe(false);
  });

  it('uses the longest glob, not the union of all matching globs', () => {
    const acl = new Acl([{ 'secret/*': ['read', 'list'], 'secret/data/team/*': ['create'] }]);
    expect(acl.allows('secret/data/team/x', 'create')).toBe(true);
    expect(acl.allows('secret/data/team/x', 'read')).toBe(false);
    expect(acl.allows('secret/data/other', 'read')).toBe(true);
  });

  it('matches + against exactly one segment and ranks it by Vault’s priority rules', () => {
    const acl = new Acl([
      {
        'secret/data/+/key': ['read'],
        'secret/data/+/*': ['list'],
        'secret/data/acme/*': ['update'],
      },
    ]);
    expect(acl.allows('secret/data/beta/key', 'read')).toBe(true);
    expect(acl.allows('secret/data/beta/sub/key', 'read')).toBe(false);
    expect(acl.allows('secret/data/beta/sub/key', 'list')).toBe(true);
    // the glob whose first wildcard comes later wins over the `+` rules
    expect(acl.allows('secret/data/acme/key', 'update')).toBe(true);
    expect(acl.allows('secret/data/acme/key', 'read')).toBe(false);
  });

  it('lets a LIST use the exact rule of the path without its trailing slash', () => {
    const acl = new Acl([{ 'secret/metadata/zonekeeper': ['list'] }]);
    expect(acl.allows('secret/metadata/zonekeeper/', 'list', false, true)).toBe(true);
    expect(acl.allows('secret/metadata/zonekeeper/', 'list', false, false)).toBe(false);
  });

  it('merges policies: union of capabilities, deny wins', () => {
    const acl = new Acl([
      { 'secret/data/x': ['read'] },
      { 'secret/data/x': ['update'] },
      { 'secret/data/y': ['read'] },
      { 'secret/data/y': ['deny'] },
    ]);
    expect(acl.allows('secret/data/x', 'read')).toBe(true);
    expect(acl.allows('secret/data/x', 'update')).toBe(true);
    expect(acl.allows('secret/data/y', 'read')).toBe(false);
    expect([...acl.capabilities('secret/data/y')]).toEqual(['deny']);
  });

  it('needs sudo where the path needs it, and root has everything', () => {
    const acl = new Acl([{ 'sys/seal': ['update'] }]);
    expect(acl.allows('sys/seal', 'update', true)).toBe(false);
    expect(new Acl([{ 'sys/seal': ['update', 'sudo'] }]).allows('sys/seal', 'update', true)).toBe(true);
    expect(new Acl([], true).allows('anything/at/all', 'delete', true)).toBe(true);
    expect(new Acl([]).allows('secret/data/x', 'read')).toBe(false);
  });
});

describe('parsePolicyDocument', () => {
  it('parses HCL with comments, trailing commas and the legacy policy field', () => {
    const rules = parsePolicyDocument(`
      # comment
      path "secret/data/zonekeeper/*" {
        capabilities = ["create", "read", "update",] // trailing comma
      }
      /* block */
      path "secret/metadata/*" { policy = "read" }
    `);
    expect(rules).toEqual({
      'secret/data/zonekeeper/*': ['create', 'read', 'update'],
      'secret/metadata/*': ['read', 'list'],
    });
  });

  it('parses Vault’s JSON policy syntax', () => {
    expect(parsePolicyDocument('{"path":{"secret/*":{"capabilities":["read","LIST"]}}}')).toEqual({
      'secret/*': ['read', 'list'],
    });
  });

  it('rejects unknown capabilities and unsupported rule fields instead of ignoring them', () => {
    expect(() => parsePolicyDocument('path "x" { capabilities = ["fly"] }')).toThrow(PolicyParseError);
    expect(() => parsePolicyDocument('path "x" { capabilities = ["read"] allowed_parameters = {} }')).toThrow(
      /allowed_parameters.*not supported/,
    );
    expect(() => parsePolicyDocument('path "x" { capabilities = ["read"]')).toThrow(PolicyParseError);
    expect(() => parsePolicyDocument('name = "x"')).toThrow(/only "path" blocks/);
  });
});

describe('Go-compatible formats', () => {
  it('formats durations like time.Duration.String()', () => {
    expect([0, 45, 90, 3600, 12_319, -1].map(formatGoDuration)).toEqual([
      '0s',
      '45s',
      '1m30s',
      '1h0m0s',
      '3h25m19s',
      '-1s',
    ]);
  });

  it('parses durations like Vault’s TypeDurationSecond', () => {
    expect(['30', '1h', '1h30m', '1.5h', '90s', '2d', '-1s', ''].map((d) => parseDurationSeconds(d))).toEqual(
      [30, 3600, 5400, 5400, 90, 172_800, -1, 0],
    );
    expect(parseDurationSeconds(120)).toBe(120);
    expect(parseDurationSeconds('soon')).toBeUndefined();
    expect(parseDurationSeconds('1x')).toBeUndefined();
  });

  it('formats times as RFC 3339 with up to nine fraction digits, trailing zeros trimmed', () => {
    const ms = Date.parse('2026-01-02T03:04:05.678Z');
    expect(formatStamp({ ms, subMs: 123_456 })).toBe('2026-01-02T03:04:05.678123456Z');
    expect(formatStamp({ ms, subMs: 0 })).toBe('2026-01-02T03:04:05.678Z');
    expect(formatStamp({ ms: Date.parse('2026-01-02T03:04:05Z'), subMs: 0 })).toBe('2026-01-02T03:04:05Z');
    expect(formatStamp({ ms: Date.parse('2026-01-02T03:04:05Z'), subMs: 1000 })).toBe(
      '2026-01-02T03:04:05.000001Z',
    );
  });

  it('formats multi-errors like hashicorp/go-multierror', () => {
    expect(multiError(['permission denied'])).toBe('1 error occurred:\n\t* permission denied\n\n');
    expect(multiError(['a', 'b'])).toBe('2 errors occurred:\n\t* a\n\t* b\n\n');
  });

  it('sorts object keys deeply like encoding/json does for maps', () => {
    expect(JSON.stringify(sortKeysDeep({ b: 1, a: { d: [{ z: 1, y: 2 }], c: null } }))).toBe(
      '{"a":{"c":null,"d":[{"y":2,"z":1}]},"b":1}',
    );
  });
});
