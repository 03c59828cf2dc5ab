/**
 * A `DnsProvider` for another DNS service: a small JSON REST API with bearer-token auth (the shape most
 * DNS SaaS APIs have; `fake-api.ts` documents its routes). This is the whole job of a provider:
 *
 * - map each port method to the service's calls and its JSON to the port's types (names canonical,
 *   ids without prefixes, instants as `Date`s);
 * - translate every failure into a `ZonekeeperError` at this boundary, with a message that names the
 *   adapter and says what to do next — and keep the API token out of every message and `cause`;
 * - validate input before any request (ids that go into a URL above all), so bad input is
 *   `INVALID_INPUT` and never reaches the service;
 * - forward `signal` to every request and re-throw `signal.reason` on abort.
 *
 * What a provider does **not** do: decide ownership, retry, or implement dry-run. `ensureOrganizationZone`
 * and `deleteOrganizationZone` (from `@zonekeeper/zone-manager`) do those once for every provider.
 */

import {
  type CallOptions,
  type ErrorCode,
  hasErrorCode,
  invalidInput,
  normalizeDomainName,
  throwIfAborted,
  ZonekeeperError,
} from '@zonekeeper/core';
import {
  type ChangeInfo,
  canonicalRecordName,
  type DnsProvider,
  type HostedZone,
  type HostedZoneDetails,
  normalizeZoneId,
  type RecordPage,
  type RecordSet,
  type Tags,
} from '@zonekeeper/zone-manager';
import type { WireChange, WireError, WireRecord, WireRecordCursor, WireZone } from './wire.js';

/** Options of {@link createRestDnsProvider}. */
export interface RestDnsProviderOptions {
  /** The API's base URL, e.g. `https://dns.example.net` (no trailing `/v1`). */
  readonly baseUrl: string;
  /** The API token. A secret: it goes into the `Authorization` header and nowhere else. */
  readonly token: string;
  /** Timeout of each request in milliseconds (default 30 000). */
  readonly timeoutMs?: number;
  /** The fetch implementation (default: the global `fetch`). */
  readonly fetch?: typeof fetch;
}

const CHANGE_ID = /^[A-Z0-9]{1,64}$/;
const ACTIONS = new Set(['CREATE', 'UPSERT', 'DELETE']);
const RECORD_LABEL = /^(?:\*|[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)$/;
const RECORD_TYPE = /^[A-Z][A-Z0-9]{0,9}$/;

/**
 * Checks a record set before it is sent: a name of `a-z 0-9 - _` labels (a `*` only as the whole
 * left-most label), an uppercase type, and either an alias or a TTL with values. The service checks
 * the rest (rdata, conflicts) and answers 400/409.
 */
function checkRecordSet(r: RecordSet): void {
  const name = typeof r?.name === 'string' ? canonicalRecordName(r.name) : '';
  const labels = name.split('.');
  if (
    name.length === 0 ||
    name.length > 253 ||
    labels.some((l, i) => !RECORD_LABEL.test(l) || (l === '*' && i > 0))
  )
    throw invalidInput(`DNS API: record name ${JSON.stringify(r?.name)} is not a valid DNS name.`);
  if (typeof r.type !== 'string' || !RECORD_TYPE.test(r.type))
    throw invalidInput(
      `DNS API: record type ${JSON.stringify(r.type)} must be an uppercase type such as "A".`,
    );
  const values = Array.isArray(r.values) && r.values.every((v) => typeof v === 'string' && v.length > 0);
  const plain =
    r.aliasTarget === undefined && Number.isInteger(r.ttl) && (r.ttl as number) >= 0 && r.values.length > 0;
  const alias = r.aliasTarget !== undefined && r.ttl === undefined && r.values.length === 0;
  if (!values || !(plain || alias))
    throw invalidInput(
      `DNS API: ${name} ${r.type} needs either an alias target, or a TTL with at least one value.`,
    );
}

function zoneOf(w: WireZone): HostedZone {
  return {
    id: w.id,
    name: canonicalRecordName(w.name),
    callerReference: w.reference,
    ...(w.comment === undefined ? {} : { comment: w.comment }),
    ...(w.record_count === undefined ? {} : { recordSetCount: w.record_count }),
    privateZone: w.private,
  };
}

function changeOf(w: WireChange): ChangeInfo {
  return {
    id: w.id,
    status: w.status === 'done' ? 'INSYNC' : 'PENDING',
    submittedAt: new Date(w.submitted_at),
  };
}

function recordOf(w: WireRecord): RecordSet {
  return {
    name: canonicalRecordName(w.name),
    type: w.type,
    ...(w.ttl === undefined ? {} : { ttl: w.ttl }),
    values: [...w.values],
    ...(w.alias === undefined
      ? {}
      : {
          aliasTarget: {
            hostedZoneId: w.alias.zone_id,
            dnsName: w.alias.dns_name,
            evaluateTargetHealth: w.alias.evaluate_health,
          },
        }),
    ...(w.set_id === undefined ? {} : { setIdentifier: w.set_id }),
    ...(w.extra === undefined ? {} : { providerFields: w.extra }),
  };
}

function wireRecordOf(r: RecordSet): WireRecord {
  return {
    name: r.name,
    type: r.type,
    ...(r.ttl === undefined ? {} : { ttl: r.ttl }),
    values: r.values,
    ...(r.aliasTarget === undefined
      ? {}
      : {
          alias: {
            zone_id: r.aliasTarget.hostedZoneId,
            dns_name: r.aliasTarget.dnsName,
            evaluate_health: r.aliasTarget.evaluateTargetHealth,
          },
        }),
    ...(r.setIdentifier === undefined ? {} : { set_id: r.setIdentifier }),
    ...(r.providerFields === undefined ? {} : { extra: r.providerFields }),
  };
}

function changeIdOf(input: unknown): string {
  if (typeof input !== 'string' || !CHANGE_ID.test(input))
    throw invalidInput(
      `DNS API: change id ${JSON.stringify(input)} is not a change id such as "C0000000000001".`,
    );
  return input;
}

/** What the status code means, and what to do next. */
function codeOf(status: number, apiCode: string | undefined): { code: ErrorCode; next: string } {
  if (status === 400 || status === 422) return { code: 'INVALID_INPUT', next: 'fix the request' };
  if (status === 401 || status === 403)
    return { code: 'PERMISSION_DENIED', next: 'check the API token and what it is allowed to do' };
  if (status === 404) return { code: 'NOT_FOUND', next: 'check the id; it may have been deleted' };
  if (status === 409 && apiCode === 'reference_in_use')
    return { code: 'ALREADY_EXISTS', next: 'find the zone by name instead of creating it again' };
  if (status === 409) return { code: 'CONFLICT', next: 'read the current state and try again' };
  if (status === 429) return { code: 'THROTTLED', next: 'slow down and retry later' };
  if (status >= 500) return { code: 'UNAVAILABLE', next: 'retry later' };
  return { code: 'INTERNAL', next: 'this answer is unexpected; report it' };
}

/**
 * Creates the REST DNS provider.
 * @throws `INVALID_INPUT` for a base URL that is not http(s) or a missing token.
 */
export function createRestDnsProvider(options: RestDnsProviderOptions): DnsProvider {
  let base: URL;
  try {
    base = new URL(options.baseUrl);
  } catch {
    throw invalidInput(`DNS API: baseUrl ${JSON.stringify(options.baseUrl)} is not a URL.`);
  }
  if (base.protocol !== 'https:' && base.protocol !== 'http:')
    throw invalidInput('DNS API: baseUrl must be an http(s) URL.');
  if (typeof options.token !== 'string' || options.token.length === 0)
    throw invalidInput('DNS API: a token is required.');
  const token = options.token;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const doFetch = options.fetch ?? globalThis.fetch;

  async function call<T>(
    op: string,
    method: string,
    path: string,
    callOptions: CallOptions,
    request: { readonly query?: Record<string, string | undefined>; readonly body?: unknown } = {},
  ): Promise<T> {
    throwIfAborted(callOptions.signal);
    const url = new URL(`/v1/${path}`, base);
    for (const [k, v] of Object.entries(request.query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = callOptions.signal ? AbortSignal.any([callOptions.signal, timeout]) : timeout;
    let response: Response;
    let text: string;
    try {
      response = await doFetch(url, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json',
          ...(request.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
        signal,
      });
      text = await response.text();
    } catch (error) {
      if (callOptions.signal?.aborted) throw callOptions.signal.reason;
      // The fetch error is not kept as `cause`: a vendor error object may hold the request (and so the
      // token). Keep only what helps: the network error code.
      const reason = timeout.aborted
        ? `no answer within ${timeoutMs} ms`
        : String((error as { cause?: { code?: unknown } })?.cause?.code ?? 'network error');
      throw new ZonekeeperError(
        'UNAVAILABLE',
        `DNS API: ${op} failed: the service is unreachable (${reason}); check the URL and the network, then retry.`,
        { cause: new Error(`request failed (${reason})`), details: { operation: op } },
      );
    }
    let body: unknown;
    try {
      body = text.length === 0 ? undefined : JSON.parse(text);
    } catch {
      throw new ZonekeeperError(
        'INTERNAL',
        `DNS API: ${op} answered HTTP ${response.status} with a body that is not JSON.`,
        {
          details: { operation: op, status: response.status },
        },
      );
    }
    if (response.ok) return body as T;
    const apiError = (body as Partial<WireError> | undefined)?.error;
    const { code, next } = codeOf(response.status, apiError?.code);
    const said = typeof apiError?.message === 'string' ? `: ${apiError.message.slice(0, 300)}` : '';
    const retryAfter = Number(response.headers.get('retry-after'));
    throw new ZonekeeperError(code, `DNS API: ${op} failed with HTTP ${response.status}${said}; ${next}.`, {
      cause: new Error(`HTTP ${response.status}${apiError?.code ? ` ${apiError.code}` : ''}`),
      details: { operation: op, status: response.status },
      ...(response.headers.has('retry-after') && Number.isFinite(retryAfter) && retryAfter >= 0
        ? { retryAfterMs: retryAfter * 1000 }
        : {}),
    });
  }

  async function zonePages(
    op: string,
    name: string | undefined,
    options: CallOptions,
  ): Promise<HostedZone[]> {
    const zones: HostedZone[] = [];
    let pageToken: string | undefined;
    do {
      const page = await call<{ zones: WireZone[]; next_page_token?: string }>(op, 'GET', 'zones', options, {
        query: { name, page_token: pageToken },
      });
      zones.push(...page.zones.map(zoneOf));
      pageToken = page.next_page_token;
    } while (pageToken);
    return zones;
  }

  const provider: DnsProvider = {
    kind: 'rest-dns',

    listZones: (options = {}) => zonePages('listZones', undefined, options),

    findZonesByName: (name, options = {}) =>
      zonePages(`findZonesByName ${name}`, canonicalRecordName(String(name)), options),

    async getZone(zoneId, options = {}) {
      const id = normalizeZoneId(zoneId);
      try {
        const got = await call<{ zone: WireZone; name_servers: string[] }>(
          `getZone ${id}`,
          'GET',
          `zones/${id}`,
          options,
        );
        return { zone: zoneOf(got.zone), nameServers: got.name_servers.map(canonicalRecordName) };
      } catch (error) {
        if (hasErrorCode(error, 'NOT_FOUND')) return undefined;
        throw error;
      }
    },

    async createZone(spec, options = {}) {
      const name = normalizeDomainName(spec?.name, 'DNS API: zone name');
      if (!name.includes('.'))
        throw invalidInput(`DNS API: ${name} is a top-level domain; it cannot have a zone.`);
      if (
        typeof spec.callerReference !== 'string' ||
        spec.callerReference.length < 1 ||
        spec.callerReference.length > 128
      )
        throw invalidInput('DNS API: the zone reference (callerReference) must be 1–128 characters.');
      const created = await call<{ zone: WireZone; name_servers: string[]; change: WireChange }>(
        `createZone ${spec.name}`,
        'POST',
        'zones',
        options,
        {
          body: {
            name,
            reference: spec.callerReference,
            ...(spec.comment === undefined ? {} : { comment: spec.comment }),
          },
        },
      );
      return {
        zone: zoneOf(created.zone),
        nameServers: created.name_servers.map(canonicalRecordName),
        change: changeOf(created.change),
      } satisfies HostedZoneDetails & { change: ChangeInfo };
    },

    async deleteZone(zoneId, options = {}) {
      const id = normalizeZoneId(zoneId);
      const { change } = await call<{ change: WireChange }>(
        `deleteZone ${id}`,
        'DELETE',
        `zones/${id}`,
        options,
      );
      return changeOf(change);
    },

    async getTags(zoneIds, options = {}) {
      if (!Array.isArray(zoneIds) || zoneIds.length < 1 || zoneIds.length > 10)
        throw invalidInput('DNS API: labels are read for 1 to 10 zones per call.');
      const ids = zoneIds.map((id) => normalizeZoneId(id));
      const { zones } = await call<{ zones: { id: string; labels: Record<string, string> }[] }>(
        'getTags',
        'GET',
        'zone-labels',
        options,
        { query: { ids: ids.join(',') } },
      );
      return new Map<string, Tags>(zones.map((z) => [z.id, z.labels]));
    },

    async changeTags(zoneId, change, options = {}) {
      const id = normalizeZoneId(zoneId);
      await call<void>(`changeTags ${id}`, 'PATCH', `zones/${id}/labels`, options, {
        body: { set: change.add ?? {}, remove: change.remove ?? [] },
      });
    },

    async listRecords(zoneId, page = {}, options = {}) {
      const id = normalizeZoneId(zoneId);
      const max = page.maxItems;
      if (max !== undefined && !(Number.isInteger(max) && max >= 1 && max <= 300))
        throw invalidInput('DNS API: maxItems must be an integer from 1 to 300.');
      const got = await call<{ records: WireRecord[]; next?: WireRecordCursor }>(
        `listRecords ${id}`,
        'GET',
        `zones/${id}/records`,
        options,
        {
          query: {
            start_name: page.from?.name,
            start_type: page.from?.type,
            start_set: page.from?.setIdentifier,
            limit: page.maxItems === undefined ? undefined : String(page.maxItems),
          },
        },
      );
      return {
        recordSets: got.records.map(recordOf),
        ...(got.next
          ? {
              next: {
                name: canonicalRecordName(got.next.name),
                type: got.next.type,
                ...(got.next.set_id === undefined ? {} : { setIdentifier: got.next.set_id }),
              },
            }
          : {}),
      } satisfies RecordPage;
    },

    async changeRecords(zoneId, changes, options = {}) {
      const id = normalizeZoneId(zoneId);
      if (!Array.isArray(changes) || changes.length === 0)
        throw invalidInput('DNS API: a change batch needs at least one change.');
      for (const c of changes) {
        if (!ACTIONS.has(c?.action))
          throw invalidInput(
            `DNS API: change action must be CREATE, UPSERT or DELETE, got ${JSON.stringify(c?.action)}.`,
          );
        checkRecordSet(c.recordSet);
      }
      const { change } = await call<{ change: WireChange }>(
        `changeRecords ${id}`,
        'POST',
        `zones/${id}/changes`,
        options,
        {
          body: {
            ...(options.comment === undefined ? {} : { comment: options.comment }),
            changes: changes.map((c) => ({
              action: c.action.toLowerCase(),
              record: wireRecordOf(c.recordSet),
            })),
          },
        },
      );
      return changeOf(change);
    },

    async getChange(changeId, options = {}) {
      const id = changeIdOf(changeId);
      const { change } = await call<{ change: WireChange }>(
        `getChange ${id}`,
        'GET',
        `changes/${id}`,
        options,
      );
      return changeOf(change);
    },
  };
  return provider;
}
