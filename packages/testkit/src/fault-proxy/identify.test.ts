import * as iamSdk from '@aws-sdk/client-iam';
import * as route53Sdk from '@aws-sdk/client-route-53';
import * as stsSdk from '@aws-sdk/client-sts';
import { describe, expect, it } from 'vitest';
import { type AwsRequestLike, identifyAwsRequest, route53OperationNames } from './index.js';

/**
 * Every request in these tests is built by the real SDK (serializers, endpoint, SigV4 signing) and
 * captured by a request handler that never touches the network.
 */
class Captured extends Error {
  constructor(readonly request: AwsRequestLike) {
    super('captured');
  }
}

interface SdkHttpRequest {
  method: string;
  path: string;
  query?: Record<string, string | string[] | null>;
  headers: Record<string, string>;
  body?: unknown;
}

const capturingHandler = {
  handle: async (request: SdkHttpRequest) => {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(request.query ?? {})) {
      for (const v of Array.isArray(value) ? value : [value]) query.append(key, v ?? '');
    }
    const headers = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k.toLowerCase(), v]));
    const search = query.toString();
    throw new Captured({
      method: request.method,
      url: `${request.path}${search === '' ? '' : `?${search}`}`,
      headers,
      body: typeof request.body === 'string' || request.body instanceof Uint8Array ? request.body : undefined,
    });
  },
  updateHttpClientConfig: () => {},
  httpHandlerConfigs: () => ({}),
};

const clientConfig = {
  region: 'us-east-1',
  endpoint: 'http://127.0.0.1:9',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  maxAttempts: 1,
  requestHandler: capturingHandler,
};

/** Values for every HTTP label any Route 53 operation has, so each request serializes. */
const route53Input = {
  Id: 'Z1EXAMPLE',
  HostedZoneId: 'Z1EXAMPLE',
  Name: 'key1',
  ResourceType: 'hostedzone',
  ResourceId: 'Z1EXAMPLE',
  Type: 'MAX_ZONES_BY_OWNER',
  Version: 1,
  HealthCheckId: 'hc-1',
  CollectionId: 'c-1',
  DelegationSetId: 'N1',
  ResourceIds: ['Z1EXAMPLE'],
  DNSName: 'example.com',
};

type CommandClass = new (input: object) => unknown;

function commandsOf(sdk: Record<string, unknown>): [operation: string, command: CommandClass][] {
  return Object.entries(sdk)
    .filter(([name, value]) => /^[A-Z]\w+Command$/.test(name) && typeof value === 'function')
    .map(([name, value]) => [name.slice(0, -'Command'.length), value as CommandClass]);
}

async function capture(
  client: { send(command: unknown): Promise<unknown> },
  command: unknown,
): Promise<AwsRequestLike> {
  try {
    await client.send(command);
  } catch (error) {
    if (error instanceof Captured) return error.request;
    throw error;
  }
  throw new Error('the request handler was not called');
}

describe('identifyAwsRequest on requests serialized by the SDK', () => {
  it('knows every Route 53 operation of @aws-sdk/client-route-53', async () => {
    const client = new route53Sdk.Route53Client(clientConfig);
    const commands = commandsOf(route53Sdk);
    expect(commands.length).toBeGreaterThanOrEqual(70);
    expect([...route53OperationNames].sort()).toEqual(commands.map(([op]) => op).sort());
    const wrong: string[] = [];
    for (const [operation, Command] of commands) {
      const request = await capture(client, new Command(route53Input));
      const identity = identifyAwsRequest(request);
      if (
        identity.service !== 'route53' ||
        identity.operation !== operation ||
        identity.protocol !== 'rest-xml'
      ) {
        wrong.push(
          `${operation}: ${request.method} ${request.url} → ${identity.service}/${identity.operation}`,
        );
      }
    }
    client.destroy();
    expect(wrong).toEqual([]);
  });

  it.each([
    ['iam', iamSdk, iamSdk.IAMClient, 150, '2010-05-08'],
    ['sts', stsSdk, stsSdk.STSClient, 8, '2011-06-15'],
  ] as const)(
    'knows every %s operation (Query protocol, by Action and the credential scope)',
    async (service, sdk, Client, atLeast, version) => {
      const client = new Client(clientConfig);
      const commands = commandsOf(sdk as unknown as Record<string, unknown>);
      expect(commands.length).toBeGreaterThanOrEqual(atLeast);
      const wrong: string[] = [];
      for (const [operation, Command] of commands) {
        const request = await capture(client, new Command({}));
        const identity = identifyAwsRequest(request);
        if (
          identity.service !== service ||
          identity.operation !== operation ||
          identity.protocol !== 'query' ||
          identity.apiVersion !== version
        ) {
          wrong.push(`${operation} → ${JSON.stringify(identity)}`);
        }
      }
      client.destroy();
      expect(wrong).toEqual([]);
    },
  );
});

describe('identifyAwsRequest edge cases', () => {
  const scope = (service: string) =>
    `AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=ab`;

  it('tolerates a trailing slash (the AWS CLI posts to …/rrset/) and an endpoint path prefix', () => {
    expect(
      identifyAwsRequest({ method: 'POST', url: '/2013-04-01/hostedzone/Z1/rrset/', headers: {} }),
    ).toMatchObject({
      service: 'route53',
      operation: 'ChangeResourceRecordSets',
    });
    expect(
      identifyAwsRequest({ method: 'get', url: '/prefix/2013-04-01/hostedzone?maxitems=1', headers: {} })
        .operation,
    ).toBe('ListHostedZones');
  });

  it('distinguishes literal from label segments and methods on one path', () => {
    const op = (method: string, url: string) => identifyAwsRequest({ method, url, headers: {} }).operation;
    expect(op('GET', '/2013-04-01/trafficpolicyinstances/hostedzone')).toBe(
      'ListTrafficPolicyInstancesByHostedZone',
    );
    expect(op('GET', '/2013-04-01/trafficpolicyinstances/trafficpolicy')).toBe(
      'ListTrafficPolicyInstancesByPolicy',
    );
    expect(op('POST', '/2013-04-01/tags/hostedzone')).toBe('ListTagsForResources');
    expect(op('POST', '/2013-04-01/tags/hostedzone/Z1')).toBe('ChangeTagsForResource');
    expect(op('GET', '/2013-04-01/tags/hostedzone/Z1')).toBe('ListTagsForResource');
    expect(op('GET', '/2013-04-01/hostedzone/Z1')).toBe('GetHostedZone');
    expect(op('DELETE', '/2013-04-01/hostedzone/Z1')).toBe('DeleteHostedZone');
    expect(op('POST', '/2013-04-01/hostedzone/Z1')).toBe('UpdateHostedZoneComment');
    expect(op('PUT', '/2013-04-01/hostedzone/Z1')).toBe('Unknown');
    expect(op('GET', '/2013-04-01/nosuchthing')).toBe('Unknown');
  });

  it('takes the service from the credential scope, also of presigned URLs', () => {
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    expect(
      identifyAwsRequest({
        method: 'POST',
        url: '/',
        headers: { ...form, authorization: scope('iam') },
        body: 'Action=ListUsers',
      }),
    ).toEqual({ service: 'iam', operation: 'ListUsers', protocol: 'query', apiVersion: undefined });
    expect(
      identifyAwsRequest({
        method: 'GET',
        url: '/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Credential=AKID%2F20260101%2Fus-east-1%2Fsts%2Faws4_request',
        headers: {},
      }),
    ).toEqual({
      service: 'sts',
      operation: 'GetCallerIdentity',
      protocol: 'query',
      apiVersion: '2011-06-15',
    });
    // Without a scope the Query API version decides.
    expect(
      identifyAwsRequest({
        method: 'POST',
        url: '/',
        headers: form,
        body: new TextEncoder().encode('Action=CreateUser&Version=2010-05-08'),
      }).service,
    ).toBe('iam');
  });

  it('reads JSON-protocol targets and gives up politely on anything else', () => {
    expect(
      identifyAwsRequest({
        method: 'POST',
        url: '/',
        headers: { 'x-amz-target': 'DynamoDB_20120810.PutItem', authorization: scope('dynamodb') },
      }),
    ).toEqual({ service: 'dynamodb', operation: 'PutItem', protocol: 'json', apiVersion: undefined });
    expect(identifyAwsRequest({ method: 'POST', url: '/moto-api/reset', headers: {} })).toEqual({
      service: 'unknown',
      operation: 'Unknown',
      protocol: 'unknown',
      apiVersion: undefined,
    });
    expect(
      identifyAwsRequest({ method: 'GET', url: '/', headers: { authorization: 'garbage' } }).service,
    ).toBe('unknown');
  });
});
