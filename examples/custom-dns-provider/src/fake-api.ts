/**
 * An in-process fake of the small JSON REST DNS service the example provider talks to. It listens on
 * 127.0.0.1 and keeps its zones in zonekeeper's in-memory DNS provider, which already has the semantics
 * the `DnsProvider` contract asks for (atomic change batches, duplicate zone names, name servers, apex
 * SOA/NS, change status) — so this file is only the HTTP front: routing, bearer-token auth, JSON in
 * snake_case, paging, and errors as HTTP status codes with a JSON body. It also injects failures for tests.
 *
 * The API (all bodies JSON, `Authorization: Bearer <token>` on every request):
 *
 * ```
 *  GET    /v1/zones?name=&page_token=&limit=          { zones: Zone[], next_page_token? }   (≤ 100 a page)
 *  POST   /v1/zones            { name, reference, comment? }        201 { zone, name_servers, change }
 *  GET    /v1/zones/{id}                                            { zone, name_servers }
 *  DELETE /v1/zones/{id}                                            { change }
 *  GET    /v1/zone-labels?ids=A,B,…                                 { zones: [{ id, labels }] } (≤ 10 ids)
 *  PATCH  /v1/zones/{id}/labels    { set?, remove? }                204
 *  GET    /v1/zones/{id}/records?start_name=&start_type=&start_set=&limit=   { records, next? }
 *  POST   /v1/zones/{id}/changes   { comment?, changes: [{ action, record }] }   { change } (atomic)
 *  GET    /v1/changes/{id}                                          { change }
 *
 *  errors: 400 invalid_request · 401 unauthorized · 404 not_found · 409 reference_in_use | conflict
 *          429 rate_limited (Retry-After) · 5xx internal / unavailable   → { error: { code, message } }
 * ```
 */

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Clock, invalidInput, isZonekeeperError } from '@zonekeeper/core';
import {
  type ChangeInfo,
  createMemoryDnsProvider,
  type HostedZone,
  type RecordChange,
  type RecordSet,
} from '@zonekeeper/zone-manager';
import type { WireChange, WireRecord, WireZone } from './wire.js';

/** Options of {@link startFakeDnsApi}. */
export interface FakeDnsApiOptions {
  /** The bearer token the API accepts. */
  readonly token: string;
  /** The clock of the underlying store (default: the system clock). */
  readonly clock?: Clock;
  /** How long a change stays `pending` on that clock (default 0: `done` at once). */
  readonly changeSyncDelayMs?: number;
}

/** A running fake API. */
export interface FakeDnsApi extends AsyncDisposable {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** HTTP requests received so far (authorised or not). */
  readonly requests: number;
  /** Answers the next `count` requests (default 1) with `status` instead of serving them. */
  failNext(status: number, options?: { readonly count?: number; readonly retryAfterSeconds?: number }): void;
  close(): Promise<void>;
}

const PAGE = 100;

function wireZone(z: HostedZone): WireZone {
  return {
    id: z.id,
    name: z.name,
    reference: z.callerReference,
    ...(z.comment === undefined ? {} : { comment: z.comment }),
    ...(z.recordSetCount === undefined ? {} : { record_count: z.recordSetCount }),
    private: z.privateZone,
  };
}

function wireChange(c: ChangeInfo): WireChange {
  return {
    id: c.id,
    status: c.status === 'INSYNC' ? 'done' : 'pending',
    submitted_at: c.submittedAt.toISOString(),
  };
}

function wireRecord(r: RecordSet): WireRecord {
  return {
    name: r.name,
    type: r.type,
    ...(r.ttl === undefined ? {} : { ttl: r.ttl }),
    values: [...r.values],
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

function recordFromWire(w: WireRecord): RecordSet {
  return {
    name: w.name,
    type: w.type,
    ...(w.ttl === undefined ? {} : { ttl: w.ttl }),
    values: w.values,
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

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Maps the store's errors to the API's status codes (the store's messages, minus its prefix). */
function httpErrorOf(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  const message = (error instanceof Error ? error.message : String(error)).replace(/^memory DNS: /, '');
  if (!isZonekeeperError(error)) return new HttpError(500, 'internal', 'internal error');
  switch (error.code) {
    case 'INVALID_INPUT':
      return new HttpError(400, 'invalid_request', message);
    case 'NOT_FOUND':
      return new HttpError(404, 'not_found', message);
    case 'ALREADY_EXISTS':
      return new HttpError(409, 'reference_in_use', message);
    case 'CONFLICT':
      return new HttpError(409, 'conflict', message);
    default:
      return new HttpError(500, 'internal', message);
  }
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.length === 0) return {};
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new Error('not an object');
    return parsed as Record<string, unknown>;
  } catch {
    throw new HttpError(400, 'invalid_request', 'the request body is not a JSON object');
  }
}

function pageOf<T>(items: readonly T[], url: URL): { page: readonly T[]; next?: string } {
  const limit = Number(url.searchParams.get('limit') ?? PAGE);
  if (!Number.isInteger(limit) || limit < 1 || limit > PAGE)
    throw new HttpError(400, 'invalid_request', `limit must be an integer from 1 to ${PAGE}`);
  const token = url.searchParams.get('page_token');
  const start = token === null ? 0 : Number(Buffer.from(token, 'base64url').toString('utf8'));
  if (!Number.isInteger(start) || start < 0) throw new HttpError(400, 'invalid_request', 'bad page_token');
  const page = items.slice(start, start + limit);
  return start + limit < items.length
    ? { page, next: Buffer.from(String(start + limit)).toString('base64url') }
    : { page };
}

/**
 * Starts the fake API on 127.0.0.1 (a free port).
 */
export async function startFakeDnsApi(options: FakeDnsApiOptions): Promise<FakeDnsApi> {
  const store = createMemoryDnsProvider({
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.changeSyncDelayMs === undefined ? {} : { changeSyncDelayMs: options.changeSyncDelayMs }),
  });
  let requests = 0;
  const failures: { status: number; retryAfterSeconds?: number }[] = [];

  async function route(req: IncomingMessage, url: URL): Promise<{ status: number; body?: unknown }> {
    const method = req.method ?? 'GET';
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    if (parts[0] !== 'v1') throw new HttpError(404, 'not_found', `no route ${method} ${url.pathname}`);
    const [, collection, id, sub] = parts;

    if (collection === 'zones' && id === undefined) {
      if (method === 'GET') {
        const name = url.searchParams.get('name');
        const zones = name === null ? await store.listZones() : await store.findZonesByName(name);
        const { page, next } = pageOf(zones, url);
        return {
          status: 200,
          body: { zones: page.map(wireZone), ...(next ? { next_page_token: next } : {}) },
        };
      }
      if (method === 'POST') {
        const b = await readJson(req);
        const created = await store.createZone({
          name: b.name as string,
          callerReference: b.reference as string,
          ...(b.comment === undefined ? {} : { comment: b.comment as string }),
        });
        return {
          status: 201,
          body: {
            zone: wireZone(created.zone),
            name_servers: created.nameServers,
            change: wireChange(created.change),
          },
        };
      }
    }
    if (collection === 'zones' && id !== undefined && sub === undefined) {
      if (method === 'GET') {
        const got = await store.getZone(id);
        if (!got) throw new HttpError(404, 'not_found', `no zone ${id}`);
        return { status: 200, body: { zone: wireZone(got.zone), name_servers: got.nameServers } };
      }
      if (method === 'DELETE')
        return { status: 200, body: { change: wireChange(await store.deleteZone(id)) } };
    }
    if (collection === 'zones' && id !== undefined && sub === 'labels' && method === 'PATCH') {
      const b = await readJson(req);
      await store.changeTags(id, {
        ...(b.set === undefined ? {} : { add: b.set as Record<string, string> }),
        ...(b.remove === undefined ? {} : { remove: b.remove as string[] }),
      });
      return { status: 204 };
    }
    if (collection === 'zones' && id !== undefined && sub === 'records' && method === 'GET') {
      const startName = url.searchParams.get('start_name');
      const startType = url.searchParams.get('start_type');
      const startSet = url.searchParams.get('start_set');
      const limit = url.searchParams.get('limit');
      const page = await store.listRecords(id, {
        ...(startName !== null && startType !== null
          ? {
              from: {
                name: startName,
                type: startType,
                ...(startSet === null ? {} : { setIdentifier: startSet }),
              },
            }
          : {}),
        ...(limit === null ? {} : { maxItems: Number(limit) }),
      });
      return {
        status: 200,
        body: {
          records: page.recordSets.map(wireRecord),
          ...(page.next
            ? {
                next: {
                  name: page.next.name,
                  type: page.next.type,
                  ...(page.next.setIdentifier === undefined ? {} : { set_id: page.next.setIdentifier }),
                },
              }
            : {}),
        },
      };
    }
    if (collection === 'zones' && id !== undefined && sub === 'changes' && method === 'POST') {
      const b = await readJson(req);
      if (!Array.isArray(b.changes)) throw invalidInput('changes must be an array');
      const changes = (b.changes as { action?: unknown; record?: WireRecord }[]).map(
        (c): RecordChange => ({
          action: String(c.action).toUpperCase() as RecordChange['action'],
          recordSet: recordFromWire(c.record ?? ({} as WireRecord)),
        }),
      );
      const change = await store.changeRecords(
        id,
        changes,
        typeof b.comment === 'string' ? { comment: b.comment } : {},
      );
      return { status: 200, body: { change: wireChange(change) } };
    }
    if (collection === 'zone-labels' && id === undefined && method === 'GET') {
      const ids = (url.searchParams.get('ids') ?? '').split(',').filter(Boolean);
      const tags = await store.getTags(ids);
      return { status: 200, body: { zones: [...tags].map(([zoneId, labels]) => ({ id: zoneId, labels })) } };
    }
    if (collection === 'changes' && id !== undefined && sub === undefined && method === 'GET') {
      return { status: 200, body: { change: wireChange(await store.getChange(id)) } };
    }
    throw new HttpError(404, 'not_found', `no route ${method} ${url.pathname}`);
  }

  function send(res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}) {
    const text = body === undefined ? '' : JSON.stringify(body);
    res.writeHead(status, {
      ...headers,
      ...(text
        ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) }
        : {}),
    });
    res.end(text);
  }

  const server = createServer((req, res) => {
    requests++;
    const failure = failures.shift();
    if (failure) {
      const headers: Record<string, string> =
        failure.retryAfterSeconds === undefined ? {} : { 'retry-after': String(failure.retryAfterSeconds) };
      send(
        res,
        failure.status,
        { error: { code: 'injected', message: `injected HTTP ${failure.status}` } },
        headers,
      );
      req.resume();
      return;
    }
    if (req.headers.authorization !== `Bearer ${options.token}`) {
      send(res, 401, { error: { code: 'unauthorized', message: 'missing or invalid API token' } });
      req.resume();
      return;
    }
    const url = new URL(req.url ?? '/', 'http://fake');
    route(req, url).then(
      ({ status, body }) => send(res, status, body),
      (error: unknown) => {
        const e = httpErrorOf(error);
        send(res, e.status, { error: { code: e.code, message: e.message } });
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const close = () =>
    new Promise<void>((resolve, reject) => {
      server.closeAllConnections();
      server.close((error) => (error ? reject(error) : resolve()));
    });
  return {
    url: `http://127.0.0.1:${port}`,
    get requests() {
      return requests;
    },
    failNext(status, opts = {}) {
      for (let i = 0; i < (opts.count ?? 1); i++)
        failures.push({
          status,
          ...(opts.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: opts.retryAfterSeconds }),
        });
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
