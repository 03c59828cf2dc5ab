import type { Route53Client } from '@aws-sdk/client-route-53';
import { type ErrorCode, hasErrorCode } from '@zonekeeper/core';
import { describe, expect, it } from 'vitest';
import { translateRoute53Error } from './errors.js';
import { createRoute53Provider, fromWireRecord, toWireRecord } from './provider.js';

/** An SDK-shaped service error. */
function awsError(name: string, status?: number, message = `${name} happened`, attempts = 1) {
  return Object.assign(new Error(message), {
    name,
    $metadata: status === undefined ? { attempts } : { httpStatusCode: status, attempts },
  });
}

type Handler = (operation: string, input: Record<string, unknown>) => unknown;

/** A client stub at the SDK level: answers by command name, records calls. */
function stubClient(handler: Handler) {
  const calls: { operation: string; input: Record<string, unknown> }[] = [];
  const client = {
    async send(command: { constructor: { name: string }; input: Record<string, unknown> }) {
      const operation = command.constructor.name.replace(/Command$/, '');
      calls.push({ operation, input: command.input });
      const out = handler(operation, command.input);
      if (out instanceof Error) throw out;
      return { $metadata: {}, ...(out as object) };
    },
  } as unknown as Route53Client;
  return { client, calls, dns: createRoute53Provider({ client, requestsPerSecond: 10_000 }) };
}

describe('translateRoute53Error', () => {
  const table: Record<string, [ReturnType<typeof awsError> | Error, ErrorCode]> = {
    'Throttling is THROTTLED': [awsError('Throttling', 400), 'THROTTLED'],
    'PriorRequestNotComplete is THROTTLED': [awsError('PriorRequestNotComplete', 400), 'THROTTLED'],
    'an HTTP 429 is THROTTLED': [awsError('SomethingNew', 429), 'THROTTLED'],
    'NoSuchHostedZone is NOT_FOUND': [awsError('NoSuchHostedZone', 404), 'NOT_FOUND'],
    'NoSuchChange is NOT_FOUND': [awsError('NoSuchChange', 404), 'NOT_FOUND'],
    'HostedZoneAlreadyExists is ALREADY_EXISTS': [awsError('HostedZoneAlreadyExists', 409), 'ALREADY_EXISTS'],
    'HostedZoneNotEmpty is CONFLICT': [awsError('HostedZoneNotEmpty', 400), 'CONFLICT'],
    'InvalidChangeBatch is CONFLICT': [awsError('InvalidChangeBatch', 400), 'CONFLICT'],
    'TooManyHostedZones is CONFLICT': [awsError('TooManyHostedZones', 400), 'CONFLICT'],
    'LimitsExceeded is CONFLICT': [awsError('LimitsExceeded', 400), 'CONFLICT'],
    'ConflictingDomainExists is CONFLICT': [awsError('ConflictingDomainExists', 400), 'CONFLICT'],
    'InvalidInput is INVALID_INPUT': [awsError('InvalidInput', 400), 'INVALID_INPUT'],
    'InvalidDomainName is INVALID_INPUT': [awsError('InvalidDomainName', 400), 'INVALID_INPUT'],
    'AccessDenied is PERMISSION_DENIED': [awsError('AccessDenied', 403), 'PERMISSION_DENIED'],
    'InvalidClientTokenId is PERMISSION_DENIED': [awsError('InvalidClientTokenId', 403), 'PERMISSION_DENIED'],
    'SignatureDoesNotMatch is PERMISSION_DENIED': [
      awsError('SignatureDoesNotMatch', 403),
      'PERMISSION_DENIED',
    ],
    'an HTTP 503 is UNAVAILABLE': [awsError('ServiceUnavailable', 503), 'UNAVAILABLE'],
    'an HTTP 500 with an unknown code is UNAVAILABLE': [awsError('Weird', 500), 'UNAVAILABLE'],
    'a reset connection is UNAVAILABLE': [
      Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
      'UNAVAILABLE',
    ],
    'a refused connection is UNAVAILABLE': [
      Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      'UNAVAILABLE',
    ],
    'an SDK timeout is UNAVAILABLE': [awsError('TimeoutError'), 'UNAVAILABLE'],
    'an unknown 400 is INTERNAL': [awsError('Unknown', 400), 'INTERNAL'],
  };
  for (const [sentence, [error, code]] of Object.entries(table)) {
    it(sentence, () => {
      const translated = translateRoute53Error(error, { operation: 'GetHostedZone', subject: 'zone Z1' });
      expect(translated.code).toBe(code);
      expect(translated.cause).toBe(error);
      expect(translated.message).toMatch(/^Route 53: GetHostedZone \(zone Z1\) failed/);
      expect(translated.message.length).toBeGreaterThan(60);
    });
  }

  it('says what to do next', () => {
    const m = (e: Error, op = 'ChangeResourceRecordSets') =>
      translateRoute53Error(e, { operation: op }).message;
    expect(m(awsError('Throttling', 400))).toMatch(/share one rate limiter/);
    expect(m(awsError('PriorRequestNotComplete', 400))).toMatch(/retry in a few seconds/);
    expect(m(awsError('HostedZoneNotEmpty', 400), 'DeleteHostedZone')).toMatch(
      /Delete every record except the apex/,
    );
    expect(m(awsError('AccessDenied', 403))).toMatch(/Grant route53:ChangeResourceRecordSets/);
    expect(m(awsError('InvalidChangeBatch', 400, 'Tried to create … but it already exists'))).toMatch(
      /already exists.*Nothing was changed/,
    );
  });

  it('passes zonekeeper errors through unchanged', () => {
    const original = translateRoute53Error(awsError('Throttling', 400), { operation: 'X' });
    expect(translateRoute53Error(original, { operation: 'Y' })).toBe(original);
  });
});

describe('Route 53 adapter against an SDK stub', () => {
  it('strips id prefixes, canonicalises names and decodes \\052', async () => {
    const { dns } = stubClient((op) => {
      if (op === 'GetHostedZone') {
        return {
          HostedZone: {
            Id: '/hostedzone/ZABC',
            Name: 'Acme.Example.COM.',
            CallerReference: 'r',
            Config: { PrivateZone: false },
            ResourceRecordSetCount: 3,
          },
          DelegationSet: { NameServers: ['ns-1.awsdns-01.org.', 'NS-2.awsdns-02.com'] },
        };
      }
      if (op === 'ListResourceRecordSets') {
        return {
          ResourceRecordSets: [
            {
              Name: '\\052.apps.acme.example.com.',
              Type: 'A',
              TTL: 60,
              ResourceRecords: [{ Value: '192.0.2.1' }],
            },
          ],
          IsTruncated: true,
          NextRecordName: '\\052.b.acme.example.com.',
          NextRecordType: 'A',
        };
      }
      if (op === 'GetChange')
        return { ChangeInfo: { Id: '/change/C1', Status: 'PENDING', SubmittedAt: new Date(0) } };
      return new Error(`unexpected ${op}`);
    });
    expect(await dns.getZone('/hostedzone/ZABC')).toEqual({
      zone: {
        id: 'ZABC',
        name: 'acme.example.com',
        callerReference: 'r',
        recordSetCount: 3,
        privateZone: false,
      },
      nameServers: ['ns-1.awsdns-01.org', 'ns-2.awsdns-02.com'],
    });
    const page = await dns.listRecords('ZABC');
    expect(page.recordSets[0]).toMatchObject({ name: '*.apps.acme.example.com', type: 'A' });
    expect(page.next).toEqual({ name: '*.b.acme.example.com', type: 'A' });
    expect(await dns.getChange('/change/C1')).toEqual({
      id: 'C1',
      status: 'PENDING',
      submittedAt: new Date(0),
    });
  });

  it('encodes names for writing and round-trips routing fields opaquely', () => {
    const wire = toWireRecord({
      name: '*.apps.acme.example.com',
      type: 'A',
      ttl: 60,
      values: ['192.0.2.1'],
      setIdentifier: 'blue',
      providerFields: { Weight: 10 },
    });
    expect(wire).toEqual({
      Name: '*.apps.acme.example.com.',
      Type: 'A',
      TTL: 60,
      ResourceRecords: [{ Value: '192.0.2.1' }],
      SetIdentifier: 'blue',
      Weight: 10,
    });
    expect(toWireRecord({ name: 'a b.example.com', type: 'TXT', ttl: 1, values: ['"x"'] }).Name).toBe(
      'a\\040b.example.com.',
    );
    const read = fromWireRecord({
      Name: '\\052.x.example.com.',
      Type: 'A',
      TTL: 5,
      ResourceRecords: [{ Value: '1.2.3.4' }],
      Weight: 3,
    });
    expect(read).toEqual({
      name: '*.x.example.com',
      type: 'A',
      ttl: 5,
      values: ['1.2.3.4'],
      providerFields: { Weight: 3, Name: '\\052.x.example.com.' },
    });
    expect(toWireRecord(read)).toMatchObject({ Name: '\\052.x.example.com.', Weight: 3 });
    const alias = fromWireRecord({
      Name: 'www.example.com.',
      Type: 'A',
      AliasTarget: {
        HostedZoneId: '/hostedzone/Z2',
        DNSName: 'LB.example.net.',
        EvaluateTargetHealth: false,
      },
    });
    expect(alias).toEqual({
      name: 'www.example.com',
      type: 'A',
      values: [],
      aliasTarget: { hostedZoneId: 'Z2', dnsName: 'lb.example.net', evaluateTargetHealth: false },
    });
  });

  it('pages ListHostedZonesByName while the next page still has the name, and no further', async () => {
    const zone = (id: string, name: string) => ({
      Id: `/hostedzone/${id}`,
      Name: name,
      CallerReference: id,
      Config: {},
    });
    const { dns, calls } = stubClient((_op, input) => {
      if (input.HostedZoneId === undefined) {
        return {
          HostedZones: [zone('Z1', 'acme.example.com.'), zone('Z2', 'acme.example.com.')],
          IsTruncated: true,
          NextDNSName: 'acme.example.com.',
          NextHostedZoneId: 'Z3',
        };
      }
      if (input.HostedZoneId === 'Z3') {
        return {
          HostedZones: [zone('Z3', 'acme.example.com.'), zone('Z4', 'b.acme.example.com.')],
          IsTruncated: true,
          NextDNSName: 'c.acme.example.com.',
          NextHostedZoneId: 'Z5',
        };
      }
      return new Error('read too far');
    });
    const found = await dns.findZonesByName('acme.example.com');
    expect(found.map((z) => z.id)).toEqual(['Z1', 'Z2', 'Z3']);
    expect(calls.map((c) => [c.input.DNSName, c.input.HostedZoneId, c.input.MaxItems])).toEqual([
      ['acme.example.com.', undefined, 100],
      ['acme.example.com.', 'Z3', 100],
    ]);
  });

  it('pages ListHostedZones with NextMarker, 100 per call', async () => {
    const { dns, calls } = stubClient((_op, input) => {
      const page = input.Marker === undefined ? 0 : Number(input.Marker);
      const size = page < 2 ? 100 : 50;
      return {
        HostedZones: Array.from({ length: size }, (_, i) => ({
          Id: `/hostedzone/Z${page}X${i}`,
          Name: `z${page}-${i}.example.com.`,
          CallerReference: 'r',
        })),
        IsTruncated: page < 2,
        ...(page < 2 ? { NextMarker: String(page + 1) } : {}),
      };
    });
    expect(await dns.listZones()).toHaveLength(250);
    expect(calls.map((c) => [c.input.Marker, c.input.MaxItems])).toEqual([
      [undefined, 100],
      ['1', 100],
      ['2', 100],
    ]);
  });

  it('reads tags 10 zones per call, falling back to single reads when a zone of the batch is gone', async () => {
    const { dns, calls } = stubClient((op, input) => {
      if (op === 'ListTagsForResources') return awsError('NoSuchHostedZone', 404);
      if (input.ResourceId === 'ZGONE') return awsError('NoSuchHostedZone', 404);
      return {
        ResourceTagSet: {
          ResourceId: input.ResourceId,
          Tags: [{ Key: 'k', Value: String(input.ResourceId) }],
        },
      };
    });
    const tags = await dns.getTags(['ZA', 'ZGONE', 'ZB']);
    expect([...tags.entries()]).toEqual([
      ['ZA', { k: 'ZA' }],
      ['ZB', { k: 'ZB' }],
    ]);
    expect(calls.map((c) => c.operation)).toEqual([
      'ListTagsForResources',
      'ListTagsForResource',
      'ListTagsForResource',
      'ListTagsForResource',
    ]);
  });

  it('rejects bad input before calling the SDK', async () => {
    const { dns, calls } = stubClient(() => new Error('must not be called'));
    const attempts = [
      dns.getZone('zabc'),
      dns.createZone({ name: 'com', callerReference: '' }),
      dns.changeRecords('Z1', []),
      dns.getTags([]),
      dns.changeTags('Z1', { add: { ['k'.repeat(129)]: 'v' } }),
      dns.listRecords('Z1', { maxItems: 301 }),
      dns.getChange('bad change'),
    ];
    for (const attempt of attempts)
      expect(hasErrorCode(await attempt.catch((e) => e), 'INVALID_INPUT')).toBe(true);
    expect(calls).toEqual([]);
  });

  it('re-throws an abort as signal.reason, not as a translated error', async () => {
    const controller = new AbortController();
    const { dns } = stubClient(() => {
      controller.abort(new Error('stop'));
      return Object.assign(new Error('Request aborted'), { name: 'AbortError' });
    });
    expect(await dns.listZones({ signal: controller.signal }).catch((e) => e)).toBe(controller.signal.reason);
  });

  it('rejects bad options with INVALID_INPUT', () => {
    expect(() => createRoute53Provider({ requestsPerSecond: 0 })).toThrow(/requestsPerSecond/);
    expect(() => createRoute53Provider({ maxAttempts: 0 })).toThrow(/maxAttempts/);
    expect(() => createRoute53Provider({ endpoint: 'not a url' })).toThrow(/endpoint/);
  });
});
