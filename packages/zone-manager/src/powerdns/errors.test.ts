import { describe, expect, it } from 'vitest';
import { PowerDnsApiError } from './client.js';
import { translatePowerDnsError } from './errors.js';

describe('translatePowerDnsError', () => {
  const cases: [string, unknown, { unprocessableIsConflict?: boolean }, string, string][] = [
    [
      '401 wrong key',
      new PowerDnsApiError(401, 'ListZones', 'Unauthorized'),
      {},
      'PERMISSION_DENIED',
      'permanent',
    ],
    ['403', new PowerDnsApiError(403, 'ListZones', 'Forbidden'), {}, 'PERMISSION_DENIED', 'permanent'],
    ['404', new PowerDnsApiError(404, 'GetZone', 'Not Found'), {}, 'NOT_FOUND', 'permanent'],
    ['409 name taken', new PowerDnsApiError(409, 'CreateZone', 'Conflict'), {}, 'CONFLICT', 'permanent'],
    [
      '422 on PATCH',
      new PowerDnsApiError(422, 'PatchZone', 'Not in expected format'),
      { unprocessableIsConflict: true },
      'CONFLICT',
      'permanent',
    ],
    [
      '422 elsewhere',
      new PowerDnsApiError(422, 'PutMetadata', "Unsupported metadata kind 'FOO'"),
      {},
      'INVALID_INPUT',
      'permanent',
    ],
    ['400', new PowerDnsApiError(400, 'PatchZone', 'bad JSON'), {}, 'INVALID_INPUT', 'permanent'],
    ['429', new PowerDnsApiError(429, 'ListZones', 'slow down'), {}, 'THROTTLED', 'transient'],
    [
      '500 backend error',
      new PowerDnsApiError(500, 'PatchZone', 'Backend error'),
      {},
      'UNAVAILABLE',
      'transient',
    ],
    ['503', new PowerDnsApiError(503, 'ListZones', ''), {}, 'UNAVAILABLE', 'transient'],
    [
      'connection refused',
      Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } }),
      {},
      'UNAVAILABLE',
      'transient',
    ],
    [
      'request time limit',
      new DOMException('The operation was aborted due to timeout', 'TimeoutError'),
      {},
      'UNAVAILABLE',
      'transient',
    ],
    ['something else', new RangeError('odd'), {}, 'INTERNAL', 'bug'],
  ];
  it.for(cases)('%s', ([, error, ctx, code, retry]) => {
    const translated = translatePowerDnsError(error, { operation: 'Op', subject: 'zone a.test', ...ctx });
    expect(translated).toMatchObject({ name: 'ZonekeeperError', code, retry });
    expect(translated.cause).toBe(error);
    expect(translated.message).toMatch(/^PowerDNS: Op \(zone a\.test\) failed: /);
  });

  it('passes zonekeeper errors through', () => {
    const inner = translatePowerDnsError(new PowerDnsApiError(404, 'GetZone', 'Not Found'), {
      operation: 'GetZone',
    });
    expect(translatePowerDnsError(inner, { operation: 'Other' })).toBe(inner);
  });
});
