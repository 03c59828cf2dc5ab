/**
 * Identifies the AWS service and operation of an HTTP request as the AWS SDKs and CLI send it:
 * Route 53 (REST-XML) by method and path, Query-protocol services (IAM, STS, …) by the form body's
 * `Action`, JSON-protocol services by `X-Amz-Target`; the service comes from the SigV4 credential scope.
 *
 * @packageDocumentation
 */

/**
 * The wire protocol of a request, which decides the shape of injected errors.
 * @public
 */
export type AwsProtocol = 'rest-xml' | 'query' | 'json' | 'unknown';

/**
 * What {@link identifyAwsRequest} found out about a request.
 * @public
 */
export interface AwsRequestIdentity {
  /** SigV4 service name (`route53`, `iam`, `sts`, …) or `'unknown'`. */
  readonly service: string;
  /** Operation name as in the API reference (`CreateHostedZone`, `CreateUser`) or `'Unknown'`. */
  readonly operation: string;
  /** Wire protocol. */
  readonly protocol: AwsProtocol;
  /** The Query protocol's `Version` parameter (`2010-05-08` for IAM), when present. */
  readonly apiVersion: string | undefined;
}

/**
 * The parts of an HTTP request {@link identifyAwsRequest} looks at.
 * @public
 */
export interface AwsRequestLike {
  /** HTTP method, any case. */
  readonly method: string;
  /** Path and query string (`/2013-04-01/hostedzone?maxitems=1`). */
  readonly url: string;
  /** Request headers; names in lower case (as Node's `IncomingMessage.headers`). */
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  /** The request body, if any. */
  readonly body?: string | Uint8Array | undefined;
}

/**
 * Route 53 operations: method and path template, as modelled in `@aws-sdk/client-route-53` 3.1169.0.
 * `{…}` is one path segment.
 */
const route53Operations: readonly (readonly [operation: string, method: string, template: string])[] = [
  ['ActivateKeySigningKey', 'POST', '/keysigningkey/{HostedZoneId}/{Name}/activate'],
  ['AssociateVPCWithHostedZone', 'POST', '/hostedzone/{HostedZoneId}/associatevpc'],
  ['ChangeCidrCollection', 'POST', '/cidrcollection/{Id}'],
  ['ChangeResourceRecordSets', 'POST', '/hostedzone/{HostedZoneId}/rrset'],
  ['ChangeTagsForResource', 'POST', '/tags/{ResourceType}/{ResourceId}'],
  ['CreateCidrCollection', 'POST', '/cidrcollection'],
  ['CreateHealthCheck', 'POST', '/healthcheck'],
  ['CreateHostedZone', 'POST', '/hostedzone'],
  ['CreateKeySigningKey', 'POST', '/keysigningkey'],
  ['CreateQueryLoggingConfig', 'POST', '/queryloggingconfig'],
  ['CreateResourceRecordSetProtections', 'POST', '/hostedzone/{HostedZoneId}/rrsetprotection'],
  ['CreateReusableDelegationSet', 'POST', '/delegationset'],
  ['CreateTrafficPolicy', 'POST', '/trafficpolicy'],
  ['CreateTrafficPolicyInstance', 'POST', '/trafficpolicyinstance'],
  ['CreateTrafficPolicyVersion', 'POST', '/trafficpolicy/{Id}'],
  ['CreateVPCAssociationAuthorization', 'POST', '/hostedzone/{HostedZoneId}/authorizevpcassociation'],
  ['DeactivateKeySigningKey', 'POST', '/keysigningkey/{HostedZoneId}/{Name}/deactivate'],
  ['DeleteCidrCollection', 'DELETE', '/cidrcollection/{Id}'],
  ['DeleteHealthCheck', 'DELETE', '/healthcheck/{HealthCheckId}'],
  ['DeleteHostedZone', 'DELETE', '/hostedzone/{Id}'],
  ['DeleteKeySigningKey', 'DELETE', '/keysigningkey/{HostedZoneId}/{Name}'],
  ['DeleteQueryLoggingConfig', 'DELETE', '/queryloggingconfig/{Id}'],
  ['DeleteResourceRecordSetProtections', 'POST', '/hostedzone/{HostedZoneId}/rrsetprotection/delete'],
  ['DeleteReusableDelegationSet', 'DELETE', '/delegationset/{Id}'],
  ['DeleteTrafficPolicy', 'DELETE', '/trafficpolicy/{Id}/{Version}'],
  ['DeleteTrafficPolicyInstance', 'DELETE', '/trafficpolicyinstance/{Id}'],
  ['DeleteVPCAssociationAuthorization', 'POST', '/hostedzone/{HostedZoneId}/deauthorizevpcassociation'],
  ['DisableHostedZoneDNSSEC', 'POST', '/hostedzone/{HostedZoneId}/disable-dnssec'],
  ['DisassociateVPCFromHostedZone', 'POST', '/hostedzone/{HostedZoneId}/disassociatevpc'],
  ['EnableHostedZoneDNSSEC', 'POST', '/hostedzone/{HostedZoneId}/enable-dnssec'],
  ['GetAccountLimit', 'GET', '/accountlimit/{Type}'],
  ['GetChange', 'GET', '/change/{Id}'],
  ['GetCheckerIpRanges', 'GET', '/checkeripranges'],
  ['GetDNSSEC', 'GET', '/hostedzone/{HostedZoneId}/dnssec'],
  ['GetGeoLocation', 'GET', '/geolocation'],
  ['GetHealthCheck', 'GET', '/healthcheck/{HealthCheckId}'],
  ['GetHealthCheckCount', 'GET', '/healthcheckcount'],
  ['GetHealthCheckLastFailureReason', 'GET', '/healthcheck/{HealthCheckId}/lastfailurereason'],
  ['GetHealthCheckStatus', 'GET', '/healthcheck/{HealthCheckId}/status'],
  ['GetHostedZone', 'GET', '/hostedzone/{Id}'],
  ['GetHostedZoneCount', 'GET', '/hostedzonecount'],
  ['GetHostedZoneLimit', 'GET', '/hostedzonelimit/{HostedZoneId}/{Type}'],
  ['GetQueryLoggingConfig', 'GET', '/queryloggingconfig/{Id}'],
  ['GetReusableDelegationSet', 'GET', '/delegationset/{Id}'],
  ['GetReusableDelegationSetLimit', 'GET', '/reusabledelegationsetlimit/{DelegationSetId}/{Type}'],
  ['GetTrafficPolicy', 'GET', '/trafficpolicy/{Id}/{Version}'],
  ['GetTrafficPolicyInstance', 'GET', '/trafficpolicyinstance/{Id}'],
  ['GetTrafficPolicyInstanceCount', 'GET', '/trafficpolicyinstancecount'],
  ['ListCidrBlocks', 'GET', '/cidrcollection/{CollectionId}/cidrblocks'],
  ['ListCidrCollections', 'GET', '/cidrcollection'],
  ['ListCidrLocations', 'GET', '/cidrcollection/{CollectionId}'],
  ['ListGeoLocations', 'GET', '/geolocations'],
  ['ListHealthChecks', 'GET', '/healthcheck'],
  ['ListHostedZones', 'GET', '/hostedzone'],
  ['ListHostedZonesByName', 'GET', '/hostedzonesbyname'],
  ['ListHostedZonesByVPC', 'GET', '/hostedzonesbyvpc'],
  ['ListQueryLoggingConfigs', 'GET', '/queryloggingconfig'],
  ['ListResourceRecordSetProtections', 'GET', '/hostedzone/{HostedZoneId}/rrsetprotection'],
  ['ListResourceRecordSets', 'GET', '/hostedzone/{HostedZoneId}/rrset'],
  ['ListReusableDelegationSets', 'GET', '/delegationset'],
  ['ListTagsForResource', 'GET', '/tags/{ResourceType}/{ResourceId}'],
  ['ListTagsForResources', 'POST', '/tags/{ResourceType}'],
  ['ListTrafficPolicies', 'GET', '/trafficpolicies'],
  ['ListTrafficPolicyInstances', 'GET', '/trafficpolicyinstances'],
  ['ListTrafficPolicyInstancesByHostedZone', 'GET', '/trafficpolicyinstances/hostedzone'],
  ['ListTrafficPolicyInstancesByPolicy', 'GET', '/trafficpolicyinstances/trafficpolicy'],
  ['ListTrafficPolicyVersions', 'GET', '/trafficpolicies/{Id}/versions'],
  ['ListVPCAssociationAuthorizations', 'GET', '/hostedzone/{HostedZoneId}/authorizevpcassociation'],
  ['TestDNSAnswer', 'GET', '/testdnsanswer'],
  ['UpdateHealthCheck', 'POST', '/healthcheck/{HealthCheckId}'],
  ['UpdateHostedZoneComment', 'POST', '/hostedzone/{Id}'],
  ['UpdateHostedZoneFeatures', 'POST', '/hostedzone/{HostedZoneId}/features'],
  ['UpdateTrafficPolicyComment', 'POST', '/trafficpolicy/{Id}/{Version}'],
  ['UpdateTrafficPolicyInstance', 'POST', '/trafficpolicyinstance/{Id}'],
];

interface CompiledRoute {
  readonly operation: string;
  readonly method: string;
  /** One entry per segment: the literal, or `undefined` for a `{label}`. */
  readonly segments: readonly (string | undefined)[];
  readonly literals: number;
}

/** Routes by segment count; within one count, more literal segments first (literal beats label). */
const route53Routes: ReadonlyMap<number, readonly CompiledRoute[]> = (() => {
  const byLength = new Map<number, CompiledRoute[]>();
  for (const [operation, method, template] of route53Operations) {
    const segments = template
      .split('/')
      .filter((s) => s !== '')
      .map((s) => (s.startsWith('{') ? undefined : s));
    const route = { operation, method, segments, literals: segments.filter((s) => s !== undefined).length };
    const list = byLength.get(segments.length) ?? [];
    list.push(route);
    byLength.set(segments.length, list);
  }
  for (const list of byLength.values()) list.sort((a, b) => b.literals - a.literals);
  return byLength;
})();

/** The Route 53 API version prefix of every REST path. */
const route53Prefix = '/2013-04-01/';

/** Known Query-protocol API versions, used when a request carries no credential scope. */
const queryServiceByVersion: Readonly<Record<string, string>> = {
  '2010-05-08': 'iam',
  '2011-06-15': 'sts',
};

function header(request: AwsRequestLike, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === 'string' ? value : value?.[0];
}

function bodyText(body: string | Uint8Array | undefined): string {
  if (body === undefined) return '';
  return typeof body === 'string' ? body : Buffer.from(body).toString('utf8');
}

/**
 * The service of a SigV4 credential scope: `Credential=<key>/<date>/<region>/<service>/aws4_request`
 * in the `Authorization` header, or `X-Amz-Credential` in a presigned URL's query.
 */
function scopeService(request: AwsRequestLike, query: URLSearchParams): string | undefined {
  const authorization = header(request, 'authorization');
  const credential =
    (authorization === undefined ? undefined : /Credential=([^,\s]+)/.exec(authorization)?.[1]) ??
    query.get('X-Amz-Credential') ??
    undefined;
  const parts = credential?.split('/');
  // <key>/<yyyymmdd>/<region>/<service>/aws4_request
  if (parts === undefined || parts.length < 5 || parts.at(-1) !== 'aws4_request') return undefined;
  return parts.at(-2)?.toLowerCase();
}

/** Matches a Route 53 path (after the `/2013-04-01/` prefix) against the route table. */
function route53Operation(method: string, pathname: string): string | undefined {
  const at = pathname.indexOf(route53Prefix);
  if (at < 0) return undefined;
  const segments = pathname
    .slice(at + route53Prefix.length)
    .split('/')
    .filter((s) => s !== '');
  for (const route of route53Routes.get(segments.length) ?? []) {
    if (route.method !== method) continue;
    if (route.segments.every((literal, i) => literal === undefined || literal === segments[i])) {
      return route.operation;
    }
  }
  return undefined;
}

/**
 * Identifies the AWS service and operation of a request. Never throws; what cannot be identified is
 * `'unknown'` / `'Unknown'`. Reads the `Authorization` header only for the credential scope's service
 * name and never returns anything from it (or from the body) besides the service, operation and
 * API version.
 *
 * @example
 * ```ts
 * identifyAwsRequest({ method: 'POST', url: '/2013-04-01/hostedzone/Z1/rrset', headers: {} })
 * // → { service: 'route53', operation: 'ChangeResourceRecordSets', protocol: 'rest-xml', apiVersion: undefined }
 * ```
 * @public
 */
export function identifyAwsRequest(request: AwsRequestLike): AwsRequestIdentity {
  const method = request.method.toUpperCase();
  const url = new URL(request.url, 'http://localhost');
  const scoped = scopeService(request, url.searchParams);

  // JSON protocols: X-Amz-Target = <ServicePrefix>.<Operation>
  const target = header(request, 'x-amz-target');
  if (target?.includes('.')) {
    return {
      service: scoped ?? 'unknown',
      operation: target.slice(target.lastIndexOf('.') + 1) || 'Unknown',
      protocol: 'json',
      apiVersion: undefined,
    };
  }

  // Query protocol: Action (and Version) in a form body, or in the query string.
  const contentType = header(request, 'content-type')?.toLowerCase() ?? '';
  const form = contentType.startsWith('application/x-www-form-urlencoded')
    ? new URLSearchParams(bodyText(request.body))
    : undefined;
  const action = form?.get('Action') ?? url.searchParams.get('Action');
  if (action !== null && action !== '') {
    const apiVersion = form?.get('Version') ?? url.searchParams.get('Version') ?? undefined;
    return {
      service:
        scoped ?? (apiVersion === undefined ? undefined : queryServiceByVersion[apiVersion]) ?? 'unknown',
      operation: action,
      protocol: 'query',
      apiVersion,
    };
  }

  // Route 53 REST-XML by method and path.
  if (scoped === undefined || scoped === 'route53') {
    const operation = route53Operation(method, url.pathname);
    if (operation !== undefined || url.pathname.includes(route53Prefix)) {
      return {
        service: 'route53',
        operation: operation ?? 'Unknown',
        protocol: 'rest-xml',
        apiVersion: undefined,
      };
    }
  }
  return {
    service: scoped ?? 'unknown',
    operation: 'Unknown',
    protocol: scoped === 'route53' ? 'rest-xml' : 'unknown',
    apiVersion: undefined,
  };
}

/** Every Route 53 operation {@link identifyAwsRequest} recognises, in alphabetical order. @public */
export const route53OperationNames: readonly string[] = route53Operations.map(([operation]) => operation);
