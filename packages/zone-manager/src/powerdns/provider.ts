/**
 * The PowerDNS adapter of the {@link DnsProvider} port, over the Authoritative Server's HTTP API
 * ({@link PowerDnsApi}).
 *
 * ```
 *  port                    PowerDNS
 *  zone                    a Native zone (names are unique on a server: a taken name is CONFLICT)
 *  zone id                 "P" + 25 base32 characters of sha256(name, CallerReference): a zone
 *                          re-created under the same name gets a new id, like on Route 53
 *  CallerReference,        a comment on the apex SOA RRset (account "zonekeeper"), written by the same
 *  Comment                 POST that creates the zone, so atomically with it
 *  name servers            the configured ones: apex NS records, and the SOA's primary
 *  tags                    zone metadata of kind X-ZONEKEEPER-TAGS, one "key=value" per value
 *  record sets             RRsets, read whole, sorted and paged as Route 53 pages them
 *  change batch            validated as a whole against the records just read (Route 53's rules),
 *                          then one PATCH (REPLACE / DELETE), which PowerDNS applies atomically
 *  change id, getChange    PowerDNS applies a PATCH before it answers: INSYNC at once; ids carry
 *                          their submit time and a checksum (ids it never issued are NOT_FOUND)
 * ```
 *
 * The adapter never retries (no request is retried blindly); `signal` aborts the HTTP request and
 * re-throws `signal.reason`; each request has a time limit (`requestTimeoutMs`).
 *
 * @packageDocumentation
 */

import { createHash, randomBytes } from 'node:crypto';
import { isIPv6 } from 'node:net';
import {
  type CallOptions,
  type Clock,
  hasErrorCode,
  invalidInput,
  normalizeDomainName,
  systemClock,
  throwIfAborted,
  ZonekeeperError,
  type ZonePricingModel,
} from '@zonekeeper/core';
import PQueue from 'p-queue';
import { applyChangeBatch, compareRecords, recordKey } from '../batch-rules.js';
import { canonicalRecordName, normalizeChangeId, normalizeZoneId, validateRecordName } from '../names.js';
import type {
  ChangeInfo,
  DnsProvider,
  HostedZone,
  HostedZoneDetails,
  RecordPage,
  RecordSet,
  Tags,
} from '../ports.js';
import { validateChangeInput, validateTagChange, validateTagIds } from '../validation.js';
import {
  createPowerDnsHttpApi,
  type PowerDnsApi,
  type PowerDnsRRSet,
  type PowerDnsRRSetChange,
  type PowerDnsZone,
} from './client.js';
import { type PowerDnsErrorContext, translatePowerDnsError } from './errors.js';

/** Options of {@link createPowerDnsProvider}. @public */
export interface PowerDnsProviderOptions {
  /** The API's base URL, e.g. `http://127.0.0.1:8081` (with or without `/api/v1`). Ignored with `api`. */
  readonly apiUrl?: string;
  /** The server's `api-key`. A secret: never logged. Ignored with `api`. */
  readonly apiKey?: string;
  /** The server id in API paths (default `localhost`). Ignored with `api`. */
  readonly serverId?: string;
  /** Per-request time limit (default 30 000 ms). Ignored with `api`. */
  readonly requestTimeoutMs?: number;
  /** A ready API client (tests, decorators); replaces `apiUrl`, `apiKey`, `serverId`, `requestTimeoutMs`. */
  readonly api?: PowerDnsApi;
  /**
   * The name servers every new zone publishes (apex NS records; the first is the SOA's primary), e.g.
   * `['ns1.dns.example.net', 'ns2.dns.example.net']`. Required: 1 to 13 host names.
   */
  readonly nameServers: readonly string[];
  /** The SOA's responsible mailbox (default `hostmaster.<zone>`). */
  readonly hostmaster?: string;
  /** TTL of the apex NS records of a new zone (default 3600 s). */
  readonly nameServerTtl?: number;
  /** TTL of the SOA of a new zone (default 3600 s). */
  readonly soaTtl?: number;
  /** Zone kind of new zones: `Native` (default; replicate by database) or `Master` (AXFR to secondaries). */
  readonly zoneKind?: 'Native' | 'Master';
  /** Stamps change infos when the server gives no time (default: the system clock). */
  readonly clock?: Clock;
  /** Parallel requests per port call that reads several zones (default 8). */
  readonly concurrency?: number;
  /**
   * How zones on this server are billed, for the garbage collector. Default `{ kind: 'free' }`: a zone
   * on your own server costs nothing to keep or re-create. A hosted PowerDNS service that bills per zone
   * describes its rules here.
   */
  readonly pricing?: ZonePricingModel;
}

/** A PowerDNS provider: the port plus the API client it uses. @public */
export interface PowerDnsProvider extends DnsProvider {
  readonly kind: 'powerdns';
  readonly pricing: ZonePricingModel;
  /** The API client (shared with {@link createPowerDnsAdmin}, for instance). */
  readonly api: PowerDnsApi;
}

/** The account of the apex SOA comment that carries a zone's CallerReference and Comment. @public */
export const POWERDNS_MARKER_ACCOUNT = 'zonekeeper';
/** The first word of that comment's content. @public */
export const POWERDNS_MARKER_PREFIX = 'zonekeeper:zone:v1';
/** The metadata kind that holds a zone's tags. @public */
export const POWERDNS_TAGS_METADATA_KIND = 'X-ZONEKEEPER-TAGS';

const ID_PREFIX = 'P';
const CHANGE_PREFIX = 'PC';
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const NAME_TYPES = new Set(['CNAME', 'NS', 'PTR', 'DNAME']);

function base32(bytes: Uint8Array, length: number): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < length) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= 0xff;
  }
  return out;
}

/**
 * The port's id of a PowerDNS zone: `P` + 25 base32 characters of sha256 over the canonical name and
 * the CallerReference (empty for zones zonekeeper did not create). Pure.
 * @public
 */
export function powerDnsZoneId(zoneName: string, callerReference: string): string {
  const digest = createHash('sha256').update(`${zoneName}\n${callerReference}`).digest();
  return ID_PREFIX + base32(digest, 25);
}

interface Marker {
  readonly callerReference: string;
  readonly comment?: string;
  readonly createdAt?: Date;
}

function markerContent(callerReference: string, comment: string | undefined): string {
  return `${POWERDNS_MARKER_PREFIX} ${JSON.stringify({ callerReference, ...(comment === undefined ? {} : { comment }) })}`;
}

/** Reads our marker from the apex SOA comments of a zone; undefined when absent or malformed. */
function readMarker(rrsets: readonly PowerDnsRRSet[] | undefined, zoneName: string): Marker | undefined {
  const soa = rrsets?.find((r) => r.type === 'SOA' && canonicalRecordName(r.name) === zoneName);
  for (const c of soa?.comments ?? []) {
    if (c.account !== POWERDNS_MARKER_ACCOUNT || !c.content.startsWith(`${POWERDNS_MARKER_PREFIX} `))
      continue;
    try {
      const parsed = JSON.parse(c.content.slice(POWERDNS_MARKER_PREFIX.length + 1)) as {
        callerReference?: unknown;
        comment?: unknown;
      };
      if (typeof parsed.callerReference !== 'string') continue;
      return {
        callerReference: parsed.callerReference,
        ...(typeof parsed.comment === 'string' ? { comment: parsed.comment } : {}),
        ...(typeof c.modified_at === 'number' ? { createdAt: new Date(c.modified_at * 1000) } : {}),
      };
    } catch {
      // Not ours after all.
    }
  }
  return undefined;
}

/** `key=value` with `%` and `=` of the key escaped. */
function encodeTag(key: string, value: string): string {
  return `${key.replace(/%/g, '%25').replace(/=/g, '%3D')}=${value}`;
}

function decodeTags(values: readonly string[]): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq < 0) continue;
    tags[v.slice(0, eq).replace(/%3D/gi, '=').replace(/%25/g, '%')] = v.slice(eq + 1);
  }
  return tags;
}

function absolute(name: string): string {
  return name.endsWith('.') ? name : `${name}.`;
}

/**
 * A value as PowerDNS expects it: names in name-valued rdata (CNAME, NS, PTR, DNAME targets, MX
 * exchanges, SRV targets) absolute. Other values pass unchanged (PowerDNS rejects what it cannot parse).
 */
function toContent(type: string, value: string): string {
  const v = value.trim();
  if (NAME_TYPES.has(type)) return absolute(v);
  if (type === 'MX') {
    const m = /^(\d+)\s+(\S+)$/.exec(v);
    return m ? `${m[1]} ${absolute(m[2] as string)}` : v;
  }
  if (type === 'SRV') {
    const m = /^(\d+)\s+(\d+)\s+(\d+)\s+(\S+)$/.exec(v);
    return m ? `${m[1]} ${m[2]} ${m[3]} ${absolute(m[4] as string)}` : v;
  }
  return v;
}

/** The comparison form of a value: content form, names lowercase, IPv6 canonical. */
function valueKey(type: string, value: string): string {
  const content = toContent(type, value);
  if (type === 'AAAA' && isIPv6(content)) return new URL(`http://[${content}]/`).hostname;
  if (NAME_TYPES.has(type) || type === 'MX' || type === 'SRV') return content.toLowerCase();
  return content;
}

function fromRRSet(r: PowerDnsRRSet): RecordSet {
  const enabled = r.records.filter((x) => !x.disabled).map((x) => x.content);
  const disabled = r.records.filter((x) => x.disabled).map((x) => x.content);
  return {
    name: canonicalRecordName(r.name),
    type: r.type,
    ttl: r.ttl,
    values: enabled,
    ...(disabled.length === 0 ? {} : { providerFields: { disabledRecords: disabled } }),
  };
}

function disabledOf(r: RecordSet): readonly string[] {
  const d = r.providerFields?.disabledRecords;
  return Array.isArray(d) ? d.filter((x): x is string => typeof x === 'string') : [];
}

function checkChangeIdBody(body: string): string {
  return base32(createHash('sha256').update(`zonekeeper-powerdns-change\n${body}`).digest(), 4);
}

function newChangeId(at: Date): string {
  const body = `${at.getTime().toString(36).toUpperCase()}${base32(randomBytes(8), 8)}`;
  return `${CHANGE_PREFIX}${body}${checkChangeIdBody(body)}`;
}

/** The submit time of a change id this adapter issued; undefined for any other id. */
function readChangeId(id: string): Date | undefined {
  if (!id.startsWith(CHANGE_PREFIX) || id.length < CHANGE_PREFIX.length + 13) return undefined;
  const body = id.slice(CHANGE_PREFIX.length, -4);
  if (checkChangeIdBody(body) !== id.slice(-4)) return undefined;
  const ms = Number.parseInt(body.slice(0, -8).toLowerCase(), 36);
  return Number.isFinite(ms) ? new Date(ms) : undefined;
}

function positiveInteger(value: unknown, name: string, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw invalidInput(`PowerDNS: ${name} must be an integer from 1 to ${max}, got ${String(value)}.`);
  }
  return value;
}

/**
 * Creates the PowerDNS provider.
 *
 * @example
 * ```ts
 * import { createPowerDnsProvider } from '@zonekeeper/zone-manager/powerdns';
 * const dns = createPowerDnsProvider({
 *   apiUrl: 'http://127.0.0.1:8081', apiKey: process.env.PDNS_API_KEY!,
 *   nameServers: ['ns1.dns.example.net', 'ns2.dns.example.net'],
 * });
 * const { zone } = await dns.createZone({ name: 'acme.example.com', callerReference: 'r1' });
 * ```
 * @throws ZonekeeperError `INVALID_INPUT` for bad options.
 * @public
 */
export function createPowerDnsProvider(options: PowerDnsProviderOptions): PowerDnsProvider {
  const api =
    options.api ??
    createPowerDnsHttpApi({
      apiUrl: options.apiUrl ?? '',
      apiKey: options.apiKey ?? '',
      ...(options.serverId === undefined ? {} : { serverId: options.serverId }),
      ...(options.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: options.requestTimeoutMs }),
    });
  if (
    !Array.isArray(options.nameServers) ||
    options.nameServers.length < 1 ||
    options.nameServers.length > 13
  ) {
    throw invalidInput('PowerDNS: nameServers must list 1 to 13 name server host names.');
  }
  const nameServers = options.nameServers.map((ns) => normalizeDomainName(ns, 'Name server'));
  const hostmaster =
    options.hostmaster === undefined ? undefined : normalizeDomainName(options.hostmaster, 'Hostmaster');
  const nsTtl = positiveInteger(options.nameServerTtl, 'nameServerTtl', 3600, 2_147_483_647);
  const soaTtl = positiveInteger(options.soaTtl, 'soaTtl', 3600, 2_147_483_647);
  const concurrency = positiveInteger(options.concurrency, 'concurrency', 8, 64);
  const pricingKind = (options.pricing as { kind?: unknown } | undefined)?.kind;
  if (options.pricing !== undefined && pricingKind !== 'free' && pricingKind !== 'calendar-month')
    throw invalidInput('PowerDNS provider: pricing.kind must be "free" or "calendar-month".');
  const zoneKind = options.zoneKind ?? 'Native';
  if (zoneKind !== 'Native' && zoneKind !== 'Master')
    throw invalidInput('PowerDNS: zoneKind must be Native or Master.');
  const clock = options.clock ?? systemClock;
  /** id → zone name; never wrong (the name is an input of the id), only possibly stale (zone gone). */
  const names = new Map<string, string>();

  async function send<T>(
    run: (o: CallOptions) => Promise<T>,
    context: PowerDnsErrorContext,
    callOptions: CallOptions | undefined,
  ): Promise<T> {
    const signal = callOptions?.signal;
    throwIfAborted(signal);
    try {
      return await run(signal === undefined ? {} : { signal });
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw translatePowerDnsError(error, context);
    }
  }

  const notFound = (id: string, op: string) =>
    new ZonekeeperError(
      'NOT_FOUND',
      `PowerDNS: ${op}: no zone with id ${id}. It may have been deleted; list the zones again.`,
      {
        details: { zoneId: id },
      },
    );

  /** Reads a zone by name (apex RRsets only, or all); undefined when absent. */
  async function readZone(name: string, all: boolean, op: string, o: CallOptions | undefined) {
    try {
      return await send(
        (c) => api.getZone(absolute(name), all ? {} : { rrsetName: absolute(name) }, c),
        { operation: op, subject: `zone ${name}` },
        o,
      );
    } catch (error) {
      if (hasErrorCode(error, 'NOT_FOUND')) return undefined;
      throw error;
    }
  }

  function view(
    zone: PowerDnsZone,
    name: string,
  ): { id: string; marker: Marker | undefined; hosted: HostedZone } {
    const marker = readMarker(zone.rrsets, name);
    const id = powerDnsZoneId(name, marker?.callerReference ?? '');
    names.set(id, name);
    return {
      id,
      marker,
      hosted: {
        id,
        name,
        callerReference: marker?.callerReference ?? '',
        ...(marker?.comment === undefined || marker.comment === '' ? {} : { comment: marker.comment }),
        privateZone: false,
      },
    };
  }

  /** All zones by name with their markers: one listing plus one comment search (per-zone reads as fallback). */
  async function index(o: CallOptions | undefined): Promise<{ name: string; marker: Marker | undefined }[]> {
    const listed = await send((c) => api.listZones({}, c), { operation: 'ListZones' }, o);
    const zoneNames = listed.map((z) => canonicalRecordName(z.name));
    const max = zoneNames.length * 2 + 100;
    const found = await send(
      (c) => api.search({ q: `${POWERDNS_MARKER_PREFIX}*`, objectType: 'comment', max }, c),
      { operation: 'SearchData', subject: 'zonekeeper zone comments' },
      o,
    );
    const markers = new Map<string, Marker>();
    for (const hit of found) {
      if (hit.object_type !== 'comment' || hit.type !== 'SOA' || typeof hit.content !== 'string') continue;
      const zone = canonicalRecordName(hit.zone ?? hit.name);
      if (canonicalRecordName(hit.name) !== zone) continue;
      const marker = readMarker(
        [
          {
            name: hit.name,
            type: 'SOA',
            ttl: 0,
            records: [],
            comments: [{ content: hit.content, account: POWERDNS_MARKER_ACCOUNT }],
          },
        ],
        zone,
      );
      if (marker && !markers.has(zone)) markers.set(zone, marker);
    }
    if (found.length < max) return zoneNames.map((name) => ({ name, marker: markers.get(name) }));
    // Too many hits to trust the search: read every zone's apex.
    const queue = new PQueue({ concurrency });
    const out = await Promise.all(
      zoneNames.map((name) =>
        queue.add(async () => {
          const zone = await readZone(name, false, 'GetZone', o);
          return { name, marker: zone ? readMarker(zone.rrsets, name) : undefined };
        }),
      ),
    );
    return out;
  }

  /** The zone name of a port id (cache, else a fresh index); undefined when no zone has this id. */
  async function nameOf(
    zoneIdInput: string,
    o: CallOptions | undefined,
  ): Promise<{ id: string; name?: string }> {
    const id = normalizeZoneId(zoneIdInput);
    const cached = names.get(id);
    if (cached !== undefined) return { id, name: cached };
    for (const z of await index(o))
      names.set(powerDnsZoneId(z.name, z.marker?.callerReference ?? ''), z.name);
    const name = names.get(id);
    return name === undefined ? { id } : { id, name };
  }

  /** Reads the zone behind a port id and checks it still is that zone (same name and CallerReference). */
  async function zoneById(zoneIdInput: string, all: boolean, op: string, o: CallOptions | undefined) {
    const { id, name } = await nameOf(zoneIdInput, o);
    if (name === undefined) return { id };
    const zone = await readZone(name, all, op, o);
    if (!zone) return { id };
    const v = view(zone, name);
    return v.id === id ? { id, name, zone, view: v } : { id };
  }

  async function mustZone(zoneIdInput: string, all: boolean, op: string, o: CallOptions | undefined) {
    const found = await zoneById(zoneIdInput, all, op, o);
    if (!found.zone || found.name === undefined || !found.view) throw notFound(found.id, op);
    return { id: found.id, name: found.name, zone: found.zone, view: found.view };
  }

  const change = (at: Date = clock.now()): ChangeInfo => ({
    id: newChangeId(at),
    status: 'INSYNC',
    submittedAt: at,
  });

  const currentRecords = (zone: PowerDnsZone) => {
    const map = new Map<string, RecordSet>();
    for (const r of zone.rrsets ?? []) {
      const set = fromRRSet(r);
      map.set(recordKey(set), set);
    }
    return map;
  };

  const provider: PowerDnsProvider = {
    kind: 'powerdns',
    pricing: Object.freeze({ ...(options.pricing ?? { kind: 'free' }) }),
    api,

    async listZones(o) {
      throwIfAborted(o?.signal);
      const zones = await index(o);
      return zones.map((z) => {
        const id = powerDnsZoneId(z.name, z.marker?.callerReference ?? '');
        names.set(id, z.name);
        return {
          id,
          name: z.name,
          callerReference: z.marker?.callerReference ?? '',
          ...(z.marker?.comment === undefined || z.marker.comment === ''
            ? {}
            : { comment: z.marker.comment }),
          privateZone: false,
        } satisfies HostedZone;
      });
    },

    async findZonesByName(nameInput, o) {
      const name = normalizeDomainName(nameInput, 'Zone name');
      throwIfAborted(o?.signal);
      const zone = await readZone(name, false, 'GetZone', o);
      return zone ? [view(zone, name).hosted] : [];
    },

    async getZone(zoneIdInput, o) {
      const found = await zoneById(zoneIdInput, false, 'GetZone', o);
      if (!found.zone || !found.view) return undefined;
      const ns = found.zone.rrsets?.find(
        (r) => r.type === 'NS' && canonicalRecordName(r.name) === found.name,
      );
      return {
        zone: found.view.hosted,
        nameServers: (ns?.records ?? [])
          .filter((r) => !r.disabled)
          .map((r) => canonicalRecordName(r.content)),
      } satisfies HostedZoneDetails;
    },

    async createZone(spec, o) {
      const name = normalizeDomainName(spec.name, 'Zone name');
      if (!name.includes('.')) {
        throw invalidInput(
          `PowerDNS: ${name} is a top-level domain; zonekeeper does not create zones for it.`,
          { name },
        );
      }
      const ref = spec.callerReference;
      if (typeof ref !== 'string' || ref.length < 1 || ref.length > 128) {
        throw invalidInput('PowerDNS: callerReference must be a string of 1–128 characters.');
      }
      if (spec.comment !== undefined && (typeof spec.comment !== 'string' || spec.comment.length > 256)) {
        throw invalidInput('PowerDNS: comment must be a string of at most 256 characters.');
      }
      throwIfAborted(o?.signal);
      const rname = hostmaster ?? `hostmaster.${name}`;
      const body = {
        name: absolute(name),
        kind: zoneKind,
        nameservers: nameServers.map(absolute),
        soa_edit_api: 'DEFAULT',
        rrsets: [
          {
            name: absolute(name),
            type: 'SOA',
            ttl: soaTtl,
            records: [
              {
                content: `${absolute(nameServers[0] as string)} ${absolute(rname)} 1 10800 3600 604800 3600`,
                disabled: false,
              },
            ],
            comments: [{ content: markerContent(ref, spec.comment), account: POWERDNS_MARKER_ACCOUNT }],
          },
          {
            name: absolute(name),
            type: 'NS',
            ttl: nsTtl,
            records: nameServers.map((ns) => ({ content: absolute(ns), disabled: false })),
          },
        ],
      };
      let created: PowerDnsZone;
      try {
        created = await send(
          (c) => api.createZone({ ...body, nameservers: [] }, c),
          { operation: 'CreateZone', subject: `zone ${name}` },
          o,
        );
      } catch (error) {
        if (!hasErrorCode(error, 'CONFLICT')) throw error;
        const existing = await readZone(name, false, 'GetZone', o);
        const marker = existing ? readMarker(existing.rrsets, name) : undefined;
        if (marker?.callerReference === ref) {
          throw new ZonekeeperError(
            'ALREADY_EXISTS',
            `PowerDNS: zone ${name} has already been created with caller reference ${JSON.stringify(ref)}; find it by name instead of creating it again.`,
            { cause: error, details: { callerReference: ref, name } },
          );
        }
        throw new ZonekeeperError(
          'CONFLICT',
          `PowerDNS: a zone named ${name} already exists on this server, created ${marker ? 'by zonekeeper with another caller reference' : 'outside zonekeeper'}; zone names are unique on PowerDNS. Read it with findZonesByName instead of creating another.`,
          { cause: error, details: { name, reason: 'zone-name-taken' } },
        );
      }
      const v = view(created.rrsets ? created : { ...created, rrsets: body.rrsets }, name);
      return {
        zone: v.hosted,
        nameServers: [...nameServers],
        change: change(v.marker?.createdAt ?? clock.now()),
      };
    },

    async deleteZone(zoneIdInput, o) {
      const { id, name, zone } = await mustZone(zoneIdInput, true, 'DeleteZone', o);
      const others = (zone.rrsets ?? []).filter(
        (r) => !(canonicalRecordName(r.name) === name && (r.type === 'SOA' || r.type === 'NS')),
      );
      if (others.length > 0) {
        throw new ZonekeeperError(
          'CONFLICT',
          `PowerDNS: zone ${id} (${name}) still has ${others.length} record sets besides the apex SOA and NS; delete them first.`,
          { details: { zoneId: id, recordSets: others.length } },
        );
      }
      await send(
        (c) => api.deleteZone(absolute(name), c),
        { operation: 'DeleteZone', subject: `zone ${name}` },
        o,
      );
      names.delete(id);
      return change();
    },

    async getTags(zoneIds, o) {
      const ids = validateTagIds(zoneIds, 'PowerDNS');
      throwIfAborted(o?.signal);
      const queue = new PQueue({ concurrency });
      const result = new Map<string, Tags>();
      await Promise.all(
        [...new Set(ids)].map((id) =>
          queue.add(async () => {
            const found = await zoneById(id, false, 'GetZone', o);
            if (!found.zone || found.name === undefined) return;
            const name = found.name;
            try {
              const values = await send(
                (c) => api.getMetadata(absolute(name), POWERDNS_TAGS_METADATA_KIND, c),
                { operation: 'GetMetadata', subject: `zone ${name}` },
                o,
              );
              result.set(id, decodeTags(values));
            } catch (error) {
              if (!hasErrorCode(error, 'NOT_FOUND')) throw error;
            }
          }),
        ),
      );
      // Keep the caller's order.
      return new Map(ids.filter((id) => result.has(id)).map((id) => [id, result.get(id) as Tags]));
    },

    async changeTags(zoneIdInput, tagChange, o) {
      const { add, remove } = validateTagChange(tagChange, 'PowerDNS');
      const { name } = await mustZone(zoneIdInput, false, 'ChangeTags', o);
      const subject = { operation: 'PutMetadata', subject: `zone ${name}` };
      const current = decodeTags(
        await send((c) => api.getMetadata(absolute(name), POWERDNS_TAGS_METADATA_KIND, c), subject, o),
      );
      for (const key of remove) delete current[key];
      for (const [k, v] of Object.entries(add)) current[k] = v;
      const values = Object.entries(current)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, v]) => encodeTag(k, v));
      await send(
        (c) =>
          values.length === 0
            ? api.deleteMetadata(absolute(name), POWERDNS_TAGS_METADATA_KIND, c)
            : api.putMetadata(absolute(name), POWERDNS_TAGS_METADATA_KIND, values, c),
        subject,
        o,
      );
    },

    async listRecords(zoneIdInput, page = {}, o) {
      const maxItems = page.maxItems ?? 300;
      if (!Number.isInteger(maxItems) || maxItems < 1 || maxItems > 300) {
        throw invalidInput('PowerDNS: maxItems must be an integer from 1 to 300.');
      }
      const from: RecordSet | undefined = page.from
        ? {
            name: validateRecordName(page.from.name),
            type: page.from.type,
            values: [],
            ...(page.from.setIdentifier === undefined ? {} : { setIdentifier: page.from.setIdentifier }),
          }
        : undefined;
      const { zone } = await mustZone(zoneIdInput, true, 'ListRecords', o);
      const all = (zone.rrsets ?? []).map(fromRRSet).sort(compareRecords);
      let start = 0;
      if (from) {
        start = all.findIndex((r) => compareRecords(r, from) >= 0);
        if (start === -1) start = all.length;
      }
      const following = all[start + maxItems];
      return {
        recordSets: all.slice(start, start + maxItems),
        ...(following ? { next: { name: following.name, type: following.type } } : {}),
      } satisfies RecordPage;
    },

    async changeRecords(zoneIdInput, batch, o) {
      const changes = validateChangeInput(batch, 'PowerDNS').map((c) => {
        const r = c.recordSet;
        if (r.aliasTarget !== undefined || r.setIdentifier !== undefined) {
          throw invalidInput(
            `PowerDNS: ${r.name} ${r.type} has an alias target or a set identifier; PowerDNS has no alias record sets or routing policies.`,
            { name: r.name },
          );
        }
        return { action: c.action, recordSet: { ...r, values: r.values.map((v) => toContent(r.type, v)) } };
      });
      const { id, name, zone } = await mustZone(zoneIdInput, true, 'ChangeRecords', o);
      applyChangeBatch({ id, name }, currentRecords(zone), changes, { who: 'PowerDNS', valueKey });
      const rrsets: PowerDnsRRSetChange[] = changes.map(({ action, recordSet: r }) =>
        action === 'DELETE'
          ? { name: absolute(r.name), type: r.type, changetype: 'DELETE' }
          : {
              name: absolute(r.name),
              type: r.type,
              changetype: 'REPLACE',
              ttl: r.ttl as number,
              records: [
                ...r.values.map((content) => ({ content, disabled: false })),
                ...disabledOf(r).map((content) => ({ content, disabled: true })),
              ],
            },
      );
      await send(
        (c) => api.patchRRsets(absolute(name), rrsets, c),
        {
          operation: 'PatchZone',
          subject: `zone ${name}, ${rrsets.length} changes`,
          unprocessableIsConflict: true,
        },
        o,
      );
      return change();
    },

    async getChange(changeIdInput, o) {
      const id = normalizeChangeId(changeIdInput);
      throwIfAborted(o?.signal);
      const at = readChangeId(id);
      if (!at) {
        throw new ZonekeeperError(
          'NOT_FOUND',
          `PowerDNS: no change with id ${id} was issued by this adapter.`,
          {
            details: { changeId: id },
          },
        );
      }
      return { id, status: 'INSYNC', submittedAt: at };
    },
  };
  return provider satisfies DnsProvider;
}
