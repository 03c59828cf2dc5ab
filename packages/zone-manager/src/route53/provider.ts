/**
 * The Route 53 adapter of the {@link DnsProvider} port, on `@aws-sdk/client-route-53`.
 *
 * - Every HTTP attempt (the SDK's retries included) first takes its tokens from one account-wide
 *   {@link Route53RateLimiter} (default: the process-wide {@link sharedRoute53RateLimiter}, Route 53's
 *   2026 token buckets): the account bucket, the action's bucket and, for record changes, one
 *   change-throughput token per change. The limiter runs as per-command SDK middleware placed right
 *   after the SDK's retry middleware.
 * - Retries are the SDK's: {@link createRoute53RetryStrategy} (5 attempts, exponential backoff with
 *   jitter) for `Throttling`, `PriorRequestNotComplete`, 5xx and network errors, unless a `retryStrategy`
 *   or a ready `client` is given.
 * - `signal` is forwarded to every call (`client.send(command, { abortSignal })`); an abort re-throws
 *   `signal.reason`.
 * - Vendor errors are translated to `ZonekeeperError`s ({@link translateRoute53Error}); ids lose their
 *   `/hostedzone/` and `/change/` prefixes; names are canonical (lowercase, no trailing dot, `\052`
 *   decoded to `*`) and encoded as Route 53 expects when written.
 *
 * @packageDocumentation
 */

import {
  type Change,
  ChangeResourceRecordSetsCommand,
  ChangeTagsForResourceCommand,
  CreateHostedZoneCommand,
  DeleteHostedZoneCommand,
  GetChangeCommand,
  GetHostedZoneCommand,
  ListHostedZonesByNameCommand,
  ListHostedZonesCommand,
  ListResourceRecordSetsCommand,
  ListTagsForResourceCommand,
  ListTagsForResourcesCommand,
  type ResourceRecordSet,
  Route53Client,
  type RRType,
  type AliasTarget as SdkAliasTarget,
  type ChangeInfo as SdkChangeInfo,
  type HostedZone as SdkHostedZone,
  type Tag,
} from '@aws-sdk/client-route-53';
import {
  type CallOptions,
  hasErrorCode,
  invalidInput,
  normalizeDomainName,
  throwIfAborted,
  ZonekeeperError,
} from '@zonekeeper/core';
import {
  canonicalRecordName,
  encodeRecordName,
  normalizeChangeId,
  normalizeZoneId,
  stripPrefix,
  validateRecordName,
} from '../names.js';
import type {
  ChangeInfo,
  DnsProvider,
  HostedZone,
  HostedZoneDetails,
  RecordChange,
  RecordPage,
  RecordSet,
  Tags,
} from '../ports.js';
import { validateChangeInput, validateTagChange, validateTagIds } from '../validation.js';
import { translateRoute53Error } from './errors.js';
import {
  createRoute53RateLimiter,
  type Route53RateLimiter,
  sharedRoute53RateLimiter,
} from './rate-limiter.js';
import { createRoute53RetryStrategy } from './retry.js';

/** Static credentials (or a provider of them); never logged. @public */
export type Route53Credentials = NonNullable<ConstructorParameters<typeof Route53Client>[0]>['credentials'];
/** An SDK retry strategy (`retryStrategy` of the Route 53 client). @public */
export type Route53RetryStrategy = NonNullable<
  ConstructorParameters<typeof Route53Client>[0]
>['retryStrategy'];

/** Options of {@link createRoute53Provider}. @public */
export interface Route53ProviderOptions {
  /**
   * A ready SDK client. When given, `region`, `endpoint`, `credentials`, `maxAttempts` and
   * `retryStrategy` are ignored (configure them on the client); the rate limiter still applies.
   */
  readonly client?: Route53Client;
  /** AWS region for signing (default `us-east-1`; Route 53 is global). */
  readonly region?: string;
  /** Custom endpoint, e.g. moto's `http://127.0.0.1:5000` (default: AWS). */
  readonly endpoint?: string;
  /** Credentials (default: the SDK's default provider chain). */
  readonly credentials?: Route53Credentials;
  /** Attempts per call in all (default 5), used to build the default retry strategy. */
  readonly maxAttempts?: number;
  /** An SDK retry strategy (default {@link createRoute53RetryStrategy} with `maxAttempts`). */
  readonly retryStrategy?: Route53RetryStrategy;
  /**
   * The account-wide limiter to share with other providers (default: {@link sharedRoute53RateLimiter},
   * the process-wide limiter with Route 53's 2026 buckets, unless `requestsPerSecond` is given).
   */
  readonly rateLimiter?: Route53RateLimiter;
  /**
   * When `rateLimiter` is absent: give this provider its own limiter, with the default table scaled to
   * this account rate (see `Route53RateLimiterOptions.requestsPerSecond`). Default: the shared limiter.
   */
  readonly requestsPerSecond?: number;
}

/** A Route 53 provider: the port plus the limiter it uses. @public */
export interface Route53Provider extends DnsProvider {
  readonly kind: 'route53';
  /** The limiter every request of this provider goes through. */
  readonly rateLimiter: Route53RateLimiter;
}

/** What a command's middleware stack offers (enough to add one middleware). */
interface StackLike {
  addRelativeTo(middleware: unknown, options: Record<string, unknown>): void;
}

const LIMITER_MIDDLEWARE = 'zonekeeperRoute53RateLimit';
const ZONES_PAGE = 100;

function toZone(z: SdkHostedZone): HostedZone {
  const comment = z.Config?.Comment;
  return {
    id: stripPrefix(z.Id ?? '', '/hostedzone/'),
    name: canonicalRecordName(z.Name ?? ''),
    callerReference: z.CallerReference ?? '',
    ...(comment === undefined || comment === '' ? {} : { comment }),
    ...(z.ResourceRecordSetCount === undefined ? {} : { recordSetCount: z.ResourceRecordSetCount }),
    privateZone: z.Config?.PrivateZone === true,
  };
}

function toChange(c: SdkChangeInfo | undefined, operation: string): ChangeInfo {
  if (!c?.Id || !c.SubmittedAt) {
    throw new ZonekeeperError(
      'INTERNAL',
      `Route 53: ${operation} answered without ChangeInfo; please report this.`,
    );
  }
  return {
    id: stripPrefix(c.Id, '/change/'),
    status: c.Status === 'INSYNC' ? 'INSYNC' : 'PENDING',
    submittedAt: new Date(c.SubmittedAt),
  };
}

const KNOWN_FIELDS = new Set(['Name', 'Type', 'TTL', 'ResourceRecords', 'AliasTarget', 'SetIdentifier']);

/** A record set as Route 53 returns it → the port's canonical form. @internal */
export function fromWireRecord(r: ResourceRecordSet): RecordSet {
  const wireName = r.Name ?? '';
  const name = canonicalRecordName(wireName);
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r)) if (!KNOWN_FIELDS.has(k) && v !== undefined) extra[k] = v;
  // A server that keeps names as written (moto) matches DELETEs on that spelling: keep it.
  if (wireName !== encodeRecordName(name)) extra.Name = wireName;
  const alias = r.AliasTarget;
  return {
    name,
    type: r.Type ?? '',
    ...(r.TTL === undefined ? {} : { ttl: r.TTL }),
    values: (r.ResourceRecords ?? []).map((v) => v.Value ?? ''),
    ...(alias
      ? {
          aliasTarget: {
            hostedZoneId: stripPrefix(alias.HostedZoneId ?? '', '/hostedzone/'),
            dnsName: canonicalRecordName(alias.DNSName ?? ''),
            evaluateTargetHealth: alias.EvaluateTargetHealth === true,
          },
        }
      : {}),
    ...(r.SetIdentifier === undefined ? {} : { setIdentifier: r.SetIdentifier }),
    ...(Object.keys(extra).length === 0 ? {} : { providerFields: extra }),
  };
}

/** The port's record set → what Route 53 expects. @internal */
export function toWireRecord(r: RecordSet): ResourceRecordSet {
  const { Name: rawName, ...fields } = (r.providerFields ?? {}) as Record<string, unknown>;
  const name =
    typeof rawName === 'string' && canonicalRecordName(rawName) === r.name
      ? rawName
      : encodeRecordName(r.name);
  const alias: SdkAliasTarget | undefined = r.aliasTarget
    ? {
        HostedZoneId: r.aliasTarget.hostedZoneId,
        DNSName: encodeRecordName(r.aliasTarget.dnsName),
        EvaluateTargetHealth: r.aliasTarget.evaluateTargetHealth,
      }
    : undefined;
  return {
    ...(fields as Partial<ResourceRecordSet>),
    Name: name,
    Type: r.type as RRType,
    ...(r.ttl === undefined ? {} : { TTL: r.ttl }),
    ...(r.values.length === 0 ? {} : { ResourceRecords: r.values.map((Value) => ({ Value })) }),
    ...(alias ? { AliasTarget: alias } : {}),
    ...(r.setIdentifier === undefined ? {} : { SetIdentifier: r.setIdentifier }),
  };
}

/**
 * Creates the Route 53 provider.
 *
 * @example
 * ```ts
 * import { createRoute53Provider, createRoute53RateLimiter } from '@zonekeeper/zone-manager/route53';
 * const rateLimiter = createRoute53RateLimiter({ requestsPerSecond: 6 }); // 60 % of the account
 * const dns = createRoute53Provider({ rateLimiter }); // credentials from the default chain
 * ```
 * @throws ZonekeeperError `INVALID_INPUT` for bad options.
 * @public
 */
export function createRoute53Provider(options: Route53ProviderOptions = {}): Route53Provider {
  const rateLimiter =
    options.rateLimiter ??
    (options.requestsPerSecond === undefined
      ? sharedRoute53RateLimiter()
      : createRoute53RateLimiter({ requestsPerSecond: options.requestsPerSecond }));
  if (options.endpoint !== undefined) {
    try {
      new URL(options.endpoint);
    } catch {
      throw invalidInput(`Route 53: endpoint ${JSON.stringify(options.endpoint)} is not a URL.`);
    }
  }
  const client =
    options.client ??
    new Route53Client({
      region: options.region ?? 'us-east-1',
      ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
      ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
      retryStrategy:
        options.retryStrategy ??
        createRoute53RetryStrategy(
          options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts },
        ),
    });

  /** Sends one command through the limiter; translates errors; re-throws aborts untouched. */
  async function send<T>(
    command: { readonly middlewareStack: unknown },
    operation: string,
    subject: string | undefined,
    callOptions: CallOptions | undefined,
    changes = 0,
  ): Promise<T> {
    const signal = callOptions?.signal;
    throwIfAborted(signal);
    const acquire = {
      action: operation,
      ...(changes === 0 ? {} : { changes }),
      ...(signal === undefined ? {} : { signal }),
    };
    (command.middlewareStack as StackLike).addRelativeTo(
      (next: (args: unknown) => Promise<unknown>) => async (args: unknown) => {
        await rateLimiter.acquire(acquire);
        return next(args);
      },
      { relation: 'after', toMiddleware: 'retryMiddleware', name: LIMITER_MIDDLEWARE, override: true },
    );
    try {
      return (await client.send(command as never, signal === undefined ? {} : { abortSignal: signal })) as T;
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw translateRoute53Error(error, subject === undefined ? { operation } : { operation, subject });
    }
  }

  async function listTagsOne(
    zoneId: string,
    callOptions: CallOptions | undefined,
  ): Promise<Tags | undefined> {
    try {
      const out = await send<{ ResourceTagSet?: { Tags?: Tag[] } }>(
        new ListTagsForResourceCommand({ ResourceType: 'hostedzone', ResourceId: zoneId }),
        'ListTagsForResource',
        `zone ${zoneId}`,
        callOptions,
      );
      return tagsOf(out.ResourceTagSet?.Tags);
    } catch (error) {
      if (hasErrorCode(error, 'NOT_FOUND')) return undefined;
      throw error;
    }
  }

  const provider: Route53Provider = {
    kind: 'route53',
    rateLimiter,

    async listZones(callOptions) {
      const zones: HostedZone[] = [];
      let marker: string | undefined;
      do {
        const out = await send<{ HostedZones?: SdkHostedZone[]; IsTruncated?: boolean; NextMarker?: string }>(
          new ListHostedZonesCommand({
            MaxItems: ZONES_PAGE,
            ...(marker === undefined ? {} : { Marker: marker }),
          }),
          'ListHostedZones',
          undefined,
          callOptions,
        );
        const page = (out.HostedZones ?? []).map(toZone);
        zones.push(...page);
        callOptions?.onPage?.(page);
        marker = out.IsTruncated ? out.NextMarker : undefined;
      } while (marker !== undefined);
      return zones;
    },

    async findZonesByName(nameInput, callOptions) {
      const name = normalizeDomainName(nameInput, 'Zone name');
      const found: HostedZone[] = [];
      let from: { dnsName: string; zoneId?: string } = { dnsName: `${name}.` };
      for (;;) {
        const out = await send<{
          HostedZones?: SdkHostedZone[];
          IsTruncated?: boolean;
          NextDNSName?: string;
          NextHostedZoneId?: string;
        }>(
          new ListHostedZonesByNameCommand({
            DNSName: from.dnsName,
            ...(from.zoneId === undefined ? {} : { HostedZoneId: from.zoneId }),
            MaxItems: ZONES_PAGE,
          }),
          'ListHostedZonesByName',
          `zone ${name}`,
          callOptions,
        );
        const zones = (out.HostedZones ?? []).map(toZone);
        found.push(...zones.filter((z) => z.name === name));
        // Results are sorted by name: stop once the listing has moved past `name`.
        const more =
          out.IsTruncated === true &&
          out.NextDNSName !== undefined &&
          canonicalRecordName(out.NextDNSName) === name &&
          zones.every((z) => z.name === name);
        if (!more) break;
        from = {
          dnsName: out.NextDNSName as string,
          ...(out.NextHostedZoneId === undefined
            ? {}
            : { zoneId: stripPrefix(out.NextHostedZoneId, '/hostedzone/') }),
        };
      }
      return found;
    },

    async getZone(zoneIdInput, callOptions) {
      const zoneId = normalizeZoneId(zoneIdInput);
      try {
        const out = await send<{ HostedZone?: SdkHostedZone; DelegationSet?: { NameServers?: string[] } }>(
          new GetHostedZoneCommand({ Id: zoneId }),
          'GetHostedZone',
          `zone ${zoneId}`,
          callOptions,
        );
        if (!out.HostedZone) return undefined;
        const details: HostedZoneDetails = {
          zone: toZone(out.HostedZone),
          nameServers: (out.DelegationSet?.NameServers ?? []).map(canonicalRecordName),
        };
        return details;
      } catch (error) {
        if (hasErrorCode(error, 'NOT_FOUND')) return undefined;
        throw error;
      }
    },

    async createZone(spec, callOptions) {
      const name = normalizeDomainName(spec.name, 'Zone name');
      if (
        typeof spec.callerReference !== 'string' ||
        spec.callerReference.length < 1 ||
        spec.callerReference.length > 128
      ) {
        throw invalidInput('Route 53: callerReference must be a string of 1–128 characters.');
      }
      if (spec.comment !== undefined && (typeof spec.comment !== 'string' || spec.comment.length > 256)) {
        throw invalidInput('Route 53: comment must be a string of at most 256 characters.');
      }
      const out = await send<{
        HostedZone?: SdkHostedZone;
        ChangeInfo?: SdkChangeInfo;
        DelegationSet?: { NameServers?: string[] };
      }>(
        new CreateHostedZoneCommand({
          Name: `${name}.`,
          CallerReference: spec.callerReference,
          HostedZoneConfig: {
            PrivateZone: false,
            ...(spec.comment === undefined ? {} : { Comment: spec.comment }),
          },
        }),
        'CreateHostedZone',
        `zone ${name}`,
        callOptions,
      );
      if (!out.HostedZone)
        throw new ZonekeeperError('INTERNAL', 'Route 53: CreateHostedZone answered without a HostedZone.');
      return {
        zone: toZone(out.HostedZone),
        nameServers: (out.DelegationSet?.NameServers ?? []).map(canonicalRecordName),
        change: toChange(out.ChangeInfo, 'CreateHostedZone'),
      };
    },

    async deleteZone(zoneIdInput, callOptions) {
      const zoneId = normalizeZoneId(zoneIdInput);
      const out = await send<{ ChangeInfo?: SdkChangeInfo }>(
        new DeleteHostedZoneCommand({ Id: zoneId }),
        'DeleteHostedZone',
        `zone ${zoneId}`,
        callOptions,
      );
      return toChange(out.ChangeInfo, 'DeleteHostedZone');
    },

    async getTags(zoneIds, callOptions) {
      const ids = validateTagIds(zoneIds, 'Route 53');
      const result = new Map<string, Tags>();
      try {
        const out = await send<{ ResourceTagSets?: { ResourceId?: string; Tags?: Tag[] }[] }>(
          new ListTagsForResourcesCommand({ ResourceType: 'hostedzone', ResourceIds: [...ids] }),
          'ListTagsForResources',
          `zones ${ids.join(', ')}`,
          callOptions,
        );
        for (const set of out.ResourceTagSets ?? []) {
          if (set.ResourceId !== undefined)
            result.set(stripPrefix(set.ResourceId, '/hostedzone/'), tagsOf(set.Tags));
        }
      } catch (error) {
        // One missing zone fails the whole batch: read the others one by one (rare: a zone deleted
        // between listing and tag reading).
        if (!hasErrorCode(error, 'NOT_FOUND') || ids.length === 1) {
          if (hasErrorCode(error, 'NOT_FOUND')) return result;
          throw error;
        }
        for (const id of ids) {
          const tags = await listTagsOne(id, callOptions);
          if (tags) result.set(id, tags);
        }
      }
      return result;
    },

    async changeTags(zoneIdInput, change, callOptions) {
      const zoneId = normalizeZoneId(zoneIdInput);
      const { add, remove } = validateTagChange(change, 'Route 53');
      const addTags = Object.entries(add).map(([Key, Value]) => ({ Key, Value }));
      if (addTags.length === 0 && remove.length === 0) return;
      await send(
        new ChangeTagsForResourceCommand({
          ResourceType: 'hostedzone',
          ResourceId: zoneId,
          ...(addTags.length === 0 ? {} : { AddTags: addTags }),
          ...(remove.length === 0 ? {} : { RemoveTagKeys: [...remove] }),
        }),
        'ChangeTagsForResource',
        `zone ${zoneId}`,
        callOptions,
      );
    },

    async listRecords(zoneIdInput, page = {}, callOptions) {
      const zoneId = normalizeZoneId(zoneIdInput);
      const maxItems = page.maxItems ?? 300;
      if (!Number.isInteger(maxItems) || maxItems < 1 || maxItems > 300) {
        throw invalidInput('Route 53: maxItems must be an integer from 1 to 300.');
      }
      const from = page.from;
      const out = await send<{
        ResourceRecordSets?: ResourceRecordSet[];
        IsTruncated?: boolean;
        NextRecordName?: string;
        NextRecordType?: string;
        NextRecordIdentifier?: string;
      }>(
        new ListResourceRecordSetsCommand({
          HostedZoneId: zoneId,
          MaxItems: maxItems,
          ...(from
            ? {
                StartRecordName: encodeRecordName(validateRecordName(from.name)),
                StartRecordType: from.type as RRType,
                ...(from.setIdentifier === undefined ? {} : { StartRecordIdentifier: from.setIdentifier }),
              }
            : {}),
        }),
        'ListResourceRecordSets',
        `zone ${zoneId}`,
        callOptions,
      );
      const result: RecordPage = {
        recordSets: (out.ResourceRecordSets ?? []).map(fromWireRecord),
        ...(out.IsTruncated && out.NextRecordName !== undefined && out.NextRecordType !== undefined
          ? {
              next: {
                name: canonicalRecordName(out.NextRecordName),
                type: out.NextRecordType,
                ...(out.NextRecordIdentifier === undefined
                  ? {}
                  : { setIdentifier: out.NextRecordIdentifier }),
              },
            }
          : {}),
      };
      return result;
    },

    async changeRecords(zoneIdInput, batch, callOptions) {
      const zoneId = normalizeZoneId(zoneIdInput);
      const changes: Change[] = validateChangeInput(batch, 'Route 53').map((c: RecordChange) => ({
        Action: c.action,
        ResourceRecordSet: toWireRecord(c.recordSet),
      }));
      const comment = callOptions?.comment;
      const out = await send<{ ChangeInfo?: SdkChangeInfo }>(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: zoneId,
          ChangeBatch: {
            Changes: changes,
            ...(comment === undefined ? {} : { Comment: comment.slice(0, 256) }),
          },
        }),
        'ChangeResourceRecordSets',
        `zone ${zoneId}, ${changes.length} changes`,
        callOptions,
        changes.length,
      );
      return toChange(out.ChangeInfo, 'ChangeResourceRecordSets');
    },

    async getChange(changeIdInput, callOptions) {
      const changeId = normalizeChangeId(changeIdInput);
      const out = await send<{ ChangeInfo?: SdkChangeInfo }>(
        new GetChangeCommand({ Id: changeId }),
        'GetChange',
        `change ${changeId}`,
        callOptions,
      );
      return toChange(out.ChangeInfo, 'GetChange');
    },
  };
  return provider satisfies DnsProvider;
}

function tagsOf(tags: readonly Tag[] | undefined): Tags {
  const out: Record<string, string> = {};
  for (const t of tags ?? []) if (t.Key !== undefined) out[t.Key] = t.Value ?? '';
  return out;
}
