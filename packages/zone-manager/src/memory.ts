/**
 * An in-memory {@link DnsProvider} with Route 53 semantics, including the ones moto does not reproduce:
 * a reused CallerReference is `ALREADY_EXISTS` (also after the zone was deleted), zone names may repeat,
 * new zones get an apex SOA and four NS records, a change batch is validated as a whole and applied
 * atomically (`CONFLICT` for every `InvalidChangeBatch` rule), changes are `PENDING` until a configurable
 * delay has passed on the injected clock, and a non-empty zone cannot be deleted. Shipped for users' own
 * tests and the embedded demo.
 *
 * @packageDocumentation
 */

import {
  type CallOptions,
  type Clock,
  invalidInput,
  normalizeDomainName,
  systemClock,
  throwIfAborted,
  ZonekeeperError,
} from '@zonekeeper/core';
import {
  applyChangeBatch,
  compareRecords,
  copyRecord,
  ROUTE53_BATCH_LIMITS,
  recordKey,
} from './batch-rules.js';
import { normalizeChangeId, normalizeZoneId, validateRecordName } from './names.js';
import type { ChangeInfo, DnsProvider, HostedZone, RecordPage, RecordSet, Tags } from './ports.js';
import { validateChangeInput, validateTagChange, validateTagIds } from './validation.js';

/** Options of {@link createMemoryDnsProvider}. @public */
export interface MemoryDnsProviderOptions {
  /** Stamps changes and decides when they are `INSYNC` (default: the system clock). */
  readonly clock?: Clock;
  /**
   * How long a change stays `PENDING`, in milliseconds of the clock (default 0: `INSYNC` at once).
   * Route 53 usually takes tens of seconds.
   */
  readonly changeSyncDelayMs?: number;
  /**
   * Up to 8 uppercase letters and digits written after the `Z` of every zone id and the `C` of every
   * change id (default none), so that several memory providers standing for several accounts never
   * hand out the same id — as Route 53's ids are unique across accounts.
   */
  readonly idPrefix?: string;
}

/** One zone as stored, for assertions. @public */
export interface MemoryZoneSnapshot {
  readonly id: string;
  readonly name: string;
  readonly callerReference: string;
  readonly comment?: string;
  readonly nameServers: readonly string[];
  readonly tags: Tags;
  /** Every record set, in listing order (apex SOA and NS included). */
  readonly records: readonly RecordSet[];
}

/** A memory provider plus inspection helpers for tests. @public */
export interface MemoryDnsProvider extends DnsProvider {
  /** Port method calls since creation or {@link MemoryDnsProvider.resetCounters}, by method name. */
  readonly calls: Readonly<Record<string, number>>;
  /**
   * The Route 53 API requests the same calls would have made, by operation name (`ListHostedZones`
   * counts one per page of 100, `ListTagsForResources` one per call).
   */
  readonly requests: Readonly<Record<string, number>>;
  /** Calls that changed (or tried to change) state: createZone, deleteZone, changeTags, changeRecords. */
  readonly writes: number;
  /** Zeroes {@link MemoryDnsProvider.calls}, {@link MemoryDnsProvider.requests} and writes. */
  resetCounters(): void;
  /** Every zone with its tags and records, ordered by id. */
  snapshot(): readonly MemoryZoneSnapshot[];
}

interface StoredZone {
  readonly id: string;
  readonly name: string;
  readonly callerReference: string;
  readonly comment: string | undefined;
  readonly nameServers: readonly string[];
  records: Map<string, RecordSet>;
  readonly tags: Map<string, string>;
}

interface StoredChange {
  readonly id: string;
  readonly submittedAt: Date;
}

const WRITE_METHODS = new Set(['createZone', 'deleteZone', 'changeTags', 'changeRecords']);

/**
 * Creates an in-memory DNS provider.
 *
 * @example
 * ```ts
 * const dns = createMemoryDnsProvider();
 * const parent = await dns.createZone({ name: 'example.com', callerReference: 'parent-1' });
 * ```
 * @public
 */
export function createMemoryDnsProvider(options: MemoryDnsProviderOptions = {}): MemoryDnsProvider {
  const clock = options.clock ?? systemClock;
  const syncDelayMs = options.changeSyncDelayMs ?? 0;
  if (!(Number.isFinite(syncDelayMs) && syncDelayMs >= 0)) {
    throw invalidInput(
      'memory DNS provider: changeSyncDelayMs must be a non-negative number of milliseconds.',
    );
  }
  const idPrefix = options.idPrefix ?? '';
  if (typeof idPrefix !== 'string' || !/^[A-Z0-9]{0,8}$/.test(idPrefix))
    throw invalidInput('memory DNS provider: idPrefix must be up to 8 uppercase letters and digits.');
  const zones = new Map<string, StoredZone>();
  /** Zone name → the ids of the zones of that name (a lookup by name reads only those). */
  const idsByName = new Map<string, Set<string>>();
  const usedCallerReferences = new Set<string>();
  const changes = new Map<string, StoredChange>();
  let zoneCounter = 0;
  let changeCounter = 0;
  let calls: Record<string, number> = {};
  let requests: Record<string, number> = {};
  let writes = 0;

  const enter = (method: string, request: string, opts: CallOptions | undefined, pages = 1) => {
    throwIfAborted(opts?.signal);
    calls[method] = (calls[method] ?? 0) + 1;
    requests[request] = (requests[request] ?? 0) + pages;
    if (WRITE_METHODS.has(method)) writes++;
  };

  const statusOf = (c: StoredChange): ChangeInfo['status'] =>
    clock.now().getTime() - c.submittedAt.getTime() >= syncDelayMs ? 'INSYNC' : 'PENDING';

  const newChange = (): ChangeInfo => {
    changeCounter++;
    const change: StoredChange = {
      id: `C${idPrefix}${String(changeCounter).padStart(13, '0')}`,
      submittedAt: clock.now(),
    };
    changes.set(change.id, change);
    return { id: change.id, status: statusOf(change), submittedAt: new Date(change.submittedAt) };
  };

  const zoneView = (z: StoredZone): HostedZone => ({
    id: z.id,
    name: z.name,
    callerReference: z.callerReference,
    ...(z.comment === undefined ? {} : { comment: z.comment }),
    recordSetCount: z.records.size,
    privateZone: false,
  });

  const mustGet = (zoneId: string, op: string): StoredZone => {
    const id = normalizeZoneId(zoneId);
    const zone = zones.get(id);
    if (!zone) {
      throw new ZonekeeperError('NOT_FOUND', `memory DNS: ${op}: no hosted zone with id ${id}.`, {
        details: { zoneId: id },
      });
    }
    return zone;
  };

  // Each zone's record sets in listing order, kept in step with every change batch (so a listing is a
  // binary search, not a sort of the zone: a parent zone holds one delegation per organisation).
  const sortedRecords = new WeakMap<ReadonlyMap<string, RecordSet>, RecordSet[]>();
  /** The first index whose record set sorts at or after `r`. */
  const lowerBound = (all: readonly RecordSet[], r: RecordSet) => {
    let lo = 0;
    let hi = all.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareRecords(all[mid] as RecordSet, r) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const sortedOf = (zone: StoredZone): RecordSet[] => {
    let all = sortedRecords.get(zone.records);
    if (!all) {
      all = [...zone.records.values()].sort(compareRecords);
      sortedRecords.set(zone.records, all);
    }
    return all;
  };

  const provider: MemoryDnsProvider = {
    kind: 'memory',
    get calls() {
      return { ...calls };
    },
    get requests() {
      return { ...requests };
    },
    get writes() {
      return writes;
    },
    resetCounters() {
      calls = {};
      requests = {};
      writes = 0;
    },
    snapshot() {
      return [...zones.values()]
        .sort((a, b) => (a.id < b.id ? -1 : 1))
        .map((z) => ({
          id: z.id,
          name: z.name,
          callerReference: z.callerReference,
          ...(z.comment === undefined ? {} : { comment: z.comment }),
          nameServers: [...z.nameServers],
          tags: Object.fromEntries(z.tags),
          records: [...z.records.values()].sort(compareRecords).map(copyRecord),
        }));
    },

    async listZones(opts = {}) {
      enter('listZones', 'ListHostedZones', opts, Math.max(1, Math.ceil(zones.size / 100)));
      const all = [...zones.values()].sort((a, b) => (a.id < b.id ? -1 : 1)).map(zoneView);
      // Pages of 100, as Route 53 answers them.
      if (opts.onPage) for (let i = 0; i < all.length; i += 100) opts.onPage(all.slice(i, i + 100));
      return all;
    },

    async findZonesByName(name, opts = {}) {
      enter('findZonesByName', 'ListHostedZonesByName', opts);
      const wanted = normalizeDomainName(name, 'Zone name');
      return [...(idsByName.get(wanted) ?? [])]
        .map((id) => zones.get(id) as StoredZone)
        .sort((a, b) => (a.id < b.id ? -1 : 1))
        .map(zoneView);
    },

    async getZone(zoneId, opts = {}) {
      enter('getZone', 'GetHostedZone', opts);
      const zone = zones.get(normalizeZoneId(zoneId));
      return zone ? { zone: zoneView(zone), nameServers: [...zone.nameServers] } : undefined;
    },

    async createZone(spec, opts = {}) {
      enter('createZone', 'CreateHostedZone', opts);
      const name = normalizeDomainName(spec.name, 'Zone name');
      if (!name.includes('.')) {
        throw invalidInput(
          `memory DNS: ${name} is a top-level domain; a hosted zone cannot be created for it.`,
          { name },
        );
      }
      const ref = spec.callerReference;
      if (typeof ref !== 'string' || ref.length < 1 || ref.length > 128) {
        throw invalidInput('memory DNS: callerReference must be a string of 1–128 characters.');
      }
      if (spec.comment !== undefined && (typeof spec.comment !== 'string' || spec.comment.length > 256)) {
        throw invalidInput('memory DNS: comment must be a string of at most 256 characters.');
      }
      if (usedCallerReferences.has(ref)) {
        throw new ZonekeeperError(
          'ALREADY_EXISTS',
          `memory DNS: a hosted zone has already been created with caller reference ${JSON.stringify(ref)}; find it by name instead of creating it again.`,
          { details: { callerReference: ref, name } },
        );
      }
      usedCallerReferences.add(ref);
      zoneCounter++;
      const n = zoneCounter;
      const id = `Z${idPrefix}${String(n).padStart(13, '0')}`;
      // Four name servers in four TLDs, different for every zone, as Route 53 assigns them.
      const nameServers = [
        `ns-${(n * 4) % 2048}.awsdns-${String(n % 64).padStart(2, '0')}.com`,
        `ns-${(n * 4 + 1) % 2048}.awsdns-${String((n + 16) % 64).padStart(2, '0')}.net`,
        `ns-${(n * 4 + 2) % 2048}.awsdns-${String((n + 32) % 64).padStart(2, '0')}.org`,
        `ns-${(n * 4 + 3) % 2048}.awsdns-${String((n + 48) % 64).padStart(2, '0')}.co.uk`,
      ];
      const zone: StoredZone = {
        id,
        name,
        callerReference: ref,
        comment: spec.comment,
        nameServers,
        records: new Map(),
        tags: new Map(),
      };
      const soa: RecordSet = {
        name,
        type: 'SOA',
        ttl: 900,
        values: [`${nameServers[0]}. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400`],
      };
      const ns: RecordSet = { name, type: 'NS', ttl: 172_800, values: nameServers.map((s) => `${s}.`) };
      zone.records.set(recordKey(soa), soa);
      zone.records.set(recordKey(ns), ns);
      zones.set(id, zone);
      const named = idsByName.get(name) ?? new Set<string>();
      named.add(id);
      idsByName.set(name, named);
      return { zone: zoneView(zone), nameServers: [...nameServers], change: newChange() };
    },

    async deleteZone(zoneId, opts = {}) {
      enter('deleteZone', 'DeleteHostedZone', opts);
      const zone = mustGet(zoneId, 'deleteZone');
      const others = [...zone.records.values()].filter(
        (r) => !(r.name === zone.name && (r.type === 'SOA' || r.type === 'NS')),
      );
      if (others.length > 0) {
        throw new ZonekeeperError(
          'CONFLICT',
          `memory DNS: hosted zone ${zone.id} (${zone.name}) still has ${others.length} record sets besides the apex SOA and NS; delete them first.`,
          { details: { zoneId: zone.id, recordSets: others.length } },
        );
      }
      zones.delete(zone.id);
      const named = idsByName.get(zone.name);
      named?.delete(zone.id);
      if (named?.size === 0) idsByName.delete(zone.name);
      return newChange();
    },

    async getTags(zoneIds, opts = {}) {
      enter('getTags', 'ListTagsForResources', opts);
      const ids = validateTagIds(zoneIds, 'memory DNS');
      const result = new Map<string, Tags>();
      for (const id of ids) {
        const zone = zones.get(id);
        if (zone) result.set(id, Object.fromEntries(zone.tags));
      }
      return result;
    },

    async changeTags(zoneId, change, opts = {}) {
      enter('changeTags', 'ChangeTagsForResource', opts);
      const { add, remove } = validateTagChange(change, 'memory DNS');
      const zone = mustGet(zoneId, 'changeTags');
      const next = new Map(zone.tags);
      for (const key of remove) next.delete(key);
      for (const [k, v] of Object.entries(add)) next.set(k, v);
      if (next.size > 10) {
        throw new ZonekeeperError(
          'CONFLICT',
          `memory DNS: hosted zone ${zone.id} would have ${next.size} tags; at most 10 are allowed. Remove some first.`,
          { details: { zoneId: zone.id } },
        );
      }
      zone.tags.clear();
      for (const [k, v] of next) zone.tags.set(k, v);
    },

    async listRecords(zoneId, page = {}, opts = {}) {
      enter('listRecords', 'ListResourceRecordSets', opts);
      const maxItems = page.maxItems ?? 300;
      if (!Number.isInteger(maxItems) || maxItems < 1 || maxItems > 300) {
        throw invalidInput('memory DNS: maxItems must be an integer from 1 to 300.');
      }
      const zone = mustGet(zoneId, 'listRecords');
      const all = sortedOf(zone);
      let start = 0;
      if (page.from) {
        const from: RecordSet = {
          name: validateRecordName(page.from.name),
          type: page.from.type,
          values: [],
          ...(page.from.setIdentifier === undefined ? {} : { setIdentifier: page.from.setIdentifier }),
        };
        start = lowerBound(all, from);
      }
      const slice = all.slice(start, start + maxItems).map(copyRecord);
      const following = all[start + maxItems];
      return {
        recordSets: slice,
        ...(following
          ? {
              next: {
                name: following.name,
                type: following.type,
                ...(following.setIdentifier === undefined ? {} : { setIdentifier: following.setIdentifier }),
              },
            }
          : {}),
      } satisfies RecordPage;
    },

    async changeRecords(zoneId, batch, opts = {}) {
      enter('changeRecords', 'ChangeResourceRecordSets', opts);
      const changesIn = validateChangeInput(batch, 'memory DNS');
      const zone = mustGet(zoneId, 'changeRecords');
      // Every rule of a change batch concerns the record sets at the names it changes: apply it to
      // those (read from the sorted listing), then write the difference back — O(changes), not a copy
      // of a zone that may hold thousands of delegations.
      const all = sortedOf(zone);
      const touched = new Map<string, RecordSet>();
      for (const name of new Set(changesIn.map((c) => c.recordSet.name)))
        for (let i = lowerBound(all, { name, type: '', values: [] }); all[i]?.name === name; i++)
          touched.set(recordKey(all[i] as RecordSet), all[i] as RecordSet);
      const after = applyChangeBatch(zone, touched, changesIn, {
        who: 'memory DNS',
        limits: ROUTE53_BATCH_LIMITS,
      });
      for (const [key, old] of touched) {
        if (after.get(key) === old) continue;
        zone.records.delete(key);
        all.splice(lowerBound(all, old), 1);
      }
      for (const [key, now] of after) {
        if (touched.get(key) === now) continue;
        zone.records.set(key, now);
        all.splice(lowerBound(all, now), 0, now);
      }
      return newChange();
    },

    async getChange(changeId, opts = {}) {
      enter('getChange', 'GetChange', opts);
      const id = normalizeChangeId(changeId);
      const change = changes.get(id);
      if (!change) {
        throw new ZonekeeperError('NOT_FOUND', `memory DNS: no change with id ${id}.`, {
          details: { changeId: id },
        });
      }
      return { id, status: statusOf(change), submittedAt: new Date(change.submittedAt) };
    },
  };
  return provider satisfies DnsProvider;
}
