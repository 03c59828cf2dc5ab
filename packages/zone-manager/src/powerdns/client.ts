/**
 * The PowerDNS Authoritative HTTP API (v1) calls zonekeeper makes, behind a narrow hand-written
 * interface ({@link PowerDnsApi}) with one implementation on `fetch`
 * ({@link createPowerDnsHttpApi}). Adapters take the interface, so tests can stub it and the API's
 * types stay out of the port.
 *
 * Errors of the HTTP implementation are {@link PowerDnsApiError}s (an HTTP status and PowerDNS's
 * `error` text) or the platform's network errors; the adapters translate both into
 * `ZonekeeperError`s ({@link translatePowerDnsError}).
 *
 * @packageDocumentation
 */

import { type CallOptions, invalidInput } from '@zonekeeper/core';

/** A zone as `GET /servers/{id}/zones` lists it. @public */
export interface PowerDnsZoneSummary {
  /** PowerDNS's zone id: the name with a trailing dot, some characters escaped. */
  readonly id: string;
  /** Absolute name, e.g. `acme.example.com.`. */
  readonly name: string;
  /** `Native`, `Master`, `Slave`, … */
  readonly kind: string;
  readonly account?: string;
  readonly serial?: number;
}

/** One record of an RRset. @public */
export interface PowerDnsRecord {
  readonly content: string;
  readonly disabled: boolean;
}

/** A comment on an RRset. @public */
export interface PowerDnsComment {
  readonly content: string;
  readonly account: string;
  /** Seconds since the epoch, set by the server. */
  readonly modified_at?: number;
}

/** An RRset as read. @public */
export interface PowerDnsRRSet {
  readonly name: string;
  readonly type: string;
  readonly ttl: number;
  readonly records: readonly PowerDnsRecord[];
  readonly comments?: readonly PowerDnsComment[];
}

/** A zone with (some of) its RRsets. @public */
export interface PowerDnsZone extends PowerDnsZoneSummary {
  readonly rrsets?: readonly PowerDnsRRSet[];
  /** The TSIG keys allowed to transfer the zone from this server (`TSIG-ALLOW-AXFR`), as key ids. */
  readonly master_tsig_key_ids?: readonly string[];
}

/** The zone fields `PUT /servers/{id}/zones/{zone}` changes that zonekeeper uses. @public */
export interface PowerDnsZoneUpdate {
  /** `TSIG-ALLOW-AXFR`: key ids (names with a trailing dot). The metadata API refuses this kind. */
  readonly master_tsig_key_ids?: readonly string[];
}

/** One RRset change of a `PATCH` (all of a PATCH is applied in one transaction). @public */
export interface PowerDnsRRSetChange {
  readonly name: string;
  readonly type: string;
  readonly changetype: 'REPLACE' | 'DELETE';
  readonly ttl?: number;
  readonly records?: readonly PowerDnsRecord[];
  readonly comments?: readonly PowerDnsComment[];
}

/** The body of `POST /servers/{id}/zones`. @public */
export interface PowerDnsZoneCreate {
  readonly name: string;
  readonly kind: string;
  readonly nameservers: readonly string[];
  readonly soa_edit_api?: string;
  readonly account?: string;
  readonly rrsets?: readonly (Omit<PowerDnsRRSetChange, 'changetype'> & { readonly changetype?: never })[];
}

/** One result of `GET /servers/{id}/search-data`. @public */
export interface PowerDnsSearchResult {
  readonly object_type: 'zone' | 'record' | 'comment';
  readonly name: string;
  readonly zone?: string;
  readonly zone_id?: string;
  readonly type?: string;
  readonly content?: string;
}

/** A TSIG key as the API returns it; `key` (base64) is empty in listings. @public */
export interface PowerDnsTsigKey {
  readonly id: string;
  readonly name: string;
  readonly algorithm: string;
  readonly key: string;
}

/**
 * The PowerDNS API calls zonekeeper uses. Every method takes `{ signal }` last; a missing zone is a
 * {@link PowerDnsApiError} with status 404 unless the method says otherwise.
 * @public
 */
export interface PowerDnsApi {
  /** `GET /zones?dnssec=false`, or `?zone=<name>` for one name (empty when absent). */
  listZones(
    filter: { readonly name?: string },
    options?: CallOptions,
  ): Promise<readonly PowerDnsZoneSummary[]>;
  /** `GET /zones/{id}`, with only the RRsets named `rrsetName` when given. */
  getZone(
    zoneId: string,
    query: { readonly rrsetName?: string },
    options?: CallOptions,
  ): Promise<PowerDnsZone>;
  /** `POST /zones` (409 when the name is taken). */
  createZone(zone: PowerDnsZoneCreate, options?: CallOptions): Promise<PowerDnsZone>;
  /** `DELETE /zones/{id}`: the zone, its records and metadata. */
  deleteZone(zoneId: string, options?: CallOptions): Promise<void>;
  /** `PUT /zones/{id}`: changes the given zone fields (not its records). */
  updateZone(zoneId: string, fields: PowerDnsZoneUpdate, options?: CallOptions): Promise<void>;
  /** `PATCH /zones/{id}` with RRset changes, applied atomically. */
  patchRRsets(zoneId: string, rrsets: readonly PowerDnsRRSetChange[], options?: CallOptions): Promise<void>;
  /** `GET /zones/{id}/metadata/{kind}`: the values (empty when the kind is not set). */
  getMetadata(zoneId: string, kind: string, options?: CallOptions): Promise<readonly string[]>;
  /** `PUT /zones/{id}/metadata/{kind}`: replaces every value of the kind. */
  putMetadata(zoneId: string, kind: string, values: readonly string[], options?: CallOptions): Promise<void>;
  /** `DELETE /zones/{id}/metadata/{kind}`. */
  deleteMetadata(zoneId: string, kind: string, options?: CallOptions): Promise<void>;
  /** `GET /search-data?q=…&object_type=…&max=…` (`*` is a wildcard). */
  search(
    query: { readonly q: string; readonly objectType: 'zone' | 'record' | 'comment'; readonly max: number },
    options?: CallOptions,
  ): Promise<readonly PowerDnsSearchResult[]>;
  /** `GET /tsigkeys` (secrets not included). */
  listTsigKeys(options?: CallOptions): Promise<readonly PowerDnsTsigKey[]>;
  /** `GET /tsigkeys/{id}` (with the secret). */
  getTsigKey(keyId: string, options?: CallOptions): Promise<PowerDnsTsigKey>;
  /** `POST /tsigkeys` (409 when the name is taken); the server generates the secret unless `key` gives it (base64). */
  createTsigKey(
    key: { readonly name: string; readonly algorithm: string; readonly key?: string },
    options?: CallOptions,
  ): Promise<PowerDnsTsigKey>;
  /** `DELETE /tsigkeys/{id}`. */
  deleteTsigKey(keyId: string, options?: CallOptions): Promise<void>;
}

/**
 * An HTTP error answer of the PowerDNS API: the status and PowerDNS's own `error` text (bounded; never
 * the API key).
 * @public
 */
export class PowerDnsApiError extends Error {
  override readonly name = 'PowerDnsApiError' as const;
  readonly status: number;
  readonly operation: string;
  constructor(status: number, operation: string, message: string) {
    super(message);
    this.status = status;
    this.operation = operation;
  }
}

/** Options of {@link createPowerDnsHttpApi}. @public */
export interface PowerDnsHttpApiOptions {
  /**
   * The API's base URL: `http://host:port`, with or without `/api/v1` (e.g. `http://127.0.0.1:8081`).
   */
  readonly apiUrl: string;
  /** The `api-key` of the server. A secret: never logged, never in an error. */
  readonly apiKey: string;
  /** The server id in API paths (default `localhost`, the only one PowerDNS has). */
  readonly serverId?: string;
  /** Per-request time limit; an unanswered request fails (default 30 000 ms). */
  readonly requestTimeoutMs?: number;
  /** The `fetch` to use (default the global one). */
  readonly fetch?: typeof fetch;
}

/** Encodes a PowerDNS zone or key id (`acme.example.com.`) for a URL path. @internal */
export function pathId(id: string): string {
  return encodeURIComponent(id);
}

/**
 * Creates the `fetch`-based {@link PowerDnsApi}.
 *
 * @example
 * ```ts
 * const api = createPowerDnsHttpApi({ apiUrl: 'http://127.0.0.1:8081', apiKey: process.env.PDNS_API_KEY! });
 * const zones = await api.listZones({});
 * ```
 * @throws ZonekeeperError `INVALID_INPUT` for a bad URL, key, server id or timeout.
 * @public
 */
export function createPowerDnsHttpApi(options: PowerDnsHttpApiOptions): PowerDnsApi {
  let base: URL;
  try {
    base = new URL(options.apiUrl);
  } catch {
    throw invalidInput(`PowerDNS: apiUrl ${JSON.stringify(options.apiUrl)} is not a URL.`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw invalidInput('PowerDNS: apiUrl must be an http:// or https:// URL.');
  }
  if (typeof options.apiKey !== 'string' || options.apiKey.length === 0 || /[\r\n]/.test(options.apiKey)) {
    throw invalidInput('PowerDNS: apiKey must be a non-empty one-line string.');
  }
  const serverId = options.serverId ?? 'localhost';
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(serverId))
    throw invalidInput('PowerDNS: serverId must be like "localhost".');
  const timeoutMs = options.requestTimeoutMs ?? 30_000;
  if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) {
    throw invalidInput('PowerDNS: requestTimeoutMs must be a positive number of milliseconds.');
  }
  const doFetch = options.fetch ?? fetch;
  const root = `${base.origin}${base.pathname.replace(/\/+$/, '').replace(/\/api\/v1$/, '')}/api/v1/servers/${serverId}`;
  const apiKey = options.apiKey;

  async function call<T>(
    operation: string,
    method: string,
    path: string,
    body: unknown,
    callOptions: CallOptions | undefined,
  ): Promise<T> {
    const signal = callOptions?.signal;
    signal?.throwIfAborted();
    const timeout = AbortSignal.timeout(timeoutMs);
    const combined = signal === undefined ? timeout : AbortSignal.any([signal, timeout]);
    let res: Response;
    try {
      res = await doFetch(`${root}${path}`, {
        method,
        headers: {
          'X-API-Key': apiKey,
          Accept: 'application/json',
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: combined,
      });
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw error;
    }
    let text: string;
    try {
      text = await res.text();
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw error;
    }
    if (!res.ok) {
      let message = text.trim();
      try {
        const parsed = JSON.parse(text) as { error?: unknown };
        if (typeof parsed.error === 'string') message = parsed.error;
      } catch {
        // Plain-text bodies such as "Not Found".
      }
      throw new PowerDnsApiError(
        res.status,
        operation,
        message.split(apiKey).join('<api-key>').slice(0, 500),
      );
    }
    if (text.trim() === '') return undefined as T;
    return JSON.parse(text) as T;
  }

  const zone = (id: string) => `/zones/${pathId(id)}`;
  return {
    listZones: (filter, o) =>
      call(
        'ListZones',
        'GET',
        filter.name === undefined
          ? '/zones?dnssec=false'
          : `/zones?dnssec=false&zone=${encodeURIComponent(filter.name)}`,
        undefined,
        o,
      ),
    getZone: (id, query, o) =>
      call(
        'GetZone',
        'GET',
        query.rrsetName === undefined
          ? zone(id)
          : `${zone(id)}?rrset_name=${encodeURIComponent(query.rrsetName)}`,
        undefined,
        o,
      ),
    createZone: (body, o) => call('CreateZone', 'POST', '/zones', body, o),
    deleteZone: async (id, o) => {
      await call('DeleteZone', 'DELETE', zone(id), undefined, o);
    },
    updateZone: async (id, fields, o) => {
      await call('UpdateZone', 'PUT', zone(id), fields, o);
    },
    patchRRsets: async (id, rrsets, o) => {
      await call('PatchZone', 'PATCH', zone(id), { rrsets }, o);
    },
    getMetadata: async (id, kind, o) =>
      ((
        await call<{ metadata?: string[] }>(
          'GetMetadata',
          'GET',
          `${zone(id)}/metadata/${kind}`,
          undefined,
          o,
        )
      )?.metadata ?? []) as readonly string[],
    putMetadata: async (id, kind, values, o) => {
      await call('PutMetadata', 'PUT', `${zone(id)}/metadata/${kind}`, { metadata: values }, o);
    },
    deleteMetadata: async (id, kind, o) => {
      await call('DeleteMetadata', 'DELETE', `${zone(id)}/metadata/${kind}`, undefined, o);
    },
    search: (q, o) =>
      call(
        'SearchData',
        'GET',
        `/search-data?q=${encodeURIComponent(q.q)}&object_type=${q.objectType}&max=${q.max}`,
        undefined,
        o,
      ),
    listTsigKeys: (o) => call('ListTsigKeys', 'GET', '/tsigkeys', undefined, o),
    getTsigKey: (id, o) => call('GetTsigKey', 'GET', `/tsigkeys/${pathId(id)}`, undefined, o),
    createTsigKey: (key, o) => call('CreateTsigKey', 'POST', '/tsigkeys', key, o),
    deleteTsigKey: async (id, o) => {
      await call('DeleteTsigKey', 'DELETE', `/tsigkeys/${pathId(id)}`, undefined, o);
    },
  };
}
