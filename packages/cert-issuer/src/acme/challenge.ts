/**
 * DNS-01 challenge records through the DNS port: written in the organisation's zone in one batch,
 * waited for on the zone's own authoritative servers (over real DNS, bounded and cancellable), and
 * removed again whatever happened.
 *
 * @packageDocumentation
 */

import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import { type CallOptions, type Logger, noopLogger, sleep, ZonekeeperError } from '@zonekeeper/core';
import {
  type DnsProvider,
  type DnsServerAddress,
  lookupTxt,
  type RecordSet,
  type TxtLookup,
} from '@zonekeeper/zone-manager';

/** One challenge record: its owner name and the TXT values (key-authorisation digests) it must hold. @public */
export interface ChallengeRecord {
  /** `_acme-challenge.<name>`, canonical. */
  readonly name: string;
  /** The digests, unquoted, sorted. A wildcard and its base name share one record with two values. */
  readonly values: readonly string[];
}

/** The challenge owner name of a certificate name (a wildcard's is its base name's). Pure. @public */
export function challengeRecordName(dnsName: string): string {
  return `_acme-challenge.${dnsName.replace(/^\*\./, '')}`;
}

/** Groups `(dnsName, digest)` pairs by challenge record. Pure. @public */
export function challengeRecords(
  challenges: readonly { readonly dnsName: string; readonly digest: string }[],
): ChallengeRecord[] {
  const byName = new Map<string, Set<string>>();
  for (const c of challenges) {
    const name = challengeRecordName(c.dnsName);
    byName.set(name, (byName.get(name) ?? new Set()).add(c.digest));
  }
  return [...byName.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, values]) => ({ name, values: [...values].sort() }));
}

/** The record sets of challenge records, as the DNS port writes them (TXT values quoted). Pure. @public */
export function challengeRecordSets(records: readonly ChallengeRecord[], ttl: number): RecordSet[] {
  return records.map((r) => ({ name: r.name, type: 'TXT', ttl, values: r.values.map((v) => `"${v}"`) }));
}

/** Writes the records in one batch (UPSERT: a stale record of an aborted run is replaced). @internal */
export async function writeChallengeRecords(
  dns: DnsProvider,
  zoneId: string,
  sets: readonly RecordSet[],
  options: CallOptions,
): Promise<void> {
  await dns.changeRecords(
    zoneId,
    sets.map((recordSet) => ({ action: 'UPSERT' as const, recordSet })),
    { ...options, comment: 'zonekeeper: ACME DNS-01 challenge' },
  );
}

/**
 * Removes the records, with a fresh time limit: it runs after a failure or an abort too, so it never
 * uses the caller's signal. A record already gone (or changed by someone else) is left alone. Never
 * throws: a failure is logged and returned.
 * @internal
 */
export async function removeChallengeRecords(
  dns: DnsProvider,
  zoneId: string,
  sets: readonly RecordSet[],
  options: { readonly timeoutMs: number; readonly logger?: Logger },
): Promise<{ readonly removed: boolean; readonly error?: unknown }> {
  const logger = options.logger ?? noopLogger;
  if (sets.length === 0) return { removed: true };
  const signal = AbortSignal.timeout(options.timeoutMs);
  try {
    await dns.changeRecords(
      zoneId,
      sets.map((recordSet) => ({ action: 'DELETE' as const, recordSet })),
      { signal, comment: 'zonekeeper: ACME DNS-01 challenge done' },
    );
    return { removed: true };
  } catch (batchError) {
    // One record changed meanwhile fails the whole batch: remove the others one by one.
    let removed = true;
    let lastError: unknown = batchError;
    for (const recordSet of sets) {
      try {
        await dns.changeRecords(zoneId, [{ action: 'DELETE', recordSet }], { signal });
      } catch (error) {
        removed = false;
        lastError = error;
        logger.warn('ACME challenge record not removed', {
          zoneId,
          record: recordSet.name,
          error: (error as Error).message,
        });
      }
    }
    return removed ? { removed } : { removed, error: lastError };
  }
}

/** Options of {@link waitForChallengeRecords}. @public */
export interface ChallengePropagationOptions extends CallOptions {
  /** Upper bound of the wait (default 120 000 ms). */
  readonly timeoutMs?: number;
  /** Pause between rounds (default 2 000 ms). */
  readonly pollIntervalMs?: number;
  /** Time per DNS attempt (default 2 000 ms). */
  readonly queryTimeoutMs?: number;
  /**
   * Addresses of a name server host. Default: the system's resolvers (A and AAAA), port 53. Tests map
   * host names to 127.0.0.1 and a port.
   */
  readonly resolveNameServer?: (host: string, options: CallOptions) => Promise<readonly DnsServerAddress[]>;
}

async function systemResolve(host: string): Promise<readonly DnsServerAddress[]> {
  if (isIP(host)) return [{ address: host }];
  const resolver = new Resolver({ timeout: 2_000, tries: 2 });
  const found = await Promise.all([
    resolver.resolve4(host).catch(() => [] as string[]),
    resolver.resolve6(host).catch(() => [] as string[]),
  ]);
  return found.flat().map((address) => ({ address }));
}

/** Whether one server's answer holds every value of the record. Pure. @public */
export function answersChallenge(
  lookup: Pick<TxtLookup, 'status' | 'values'>,
  record: ChallengeRecord,
): boolean {
  return lookup.status === 'answer' && record.values.every((v) => lookup.values.includes(v));
}

/**
 * Waits until every address of every one of the zone's name servers answers every challenge record
 * with all its values, authoritatively. Rejects with `TIMEOUT` (transient; `details.lagging` names
 * the servers and records still missing) when `timeoutMs` passes, with `UNAVAILABLE` when no name
 * server has an address, and with `signal.reason` on abort.
 * @public
 */
export async function waitForChallengeRecords(
  nameServers: readonly string[],
  records: readonly ChallengeRecord[],
  options: ChallengePropagationOptions = {},
): Promise<{ readonly servers: number; readonly rounds: number }> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  const pollIntervalMs = options.pollIntervalMs ?? 2_000;
  const deadline = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, deadline]) : deadline;
  const resolve = options.resolveNameServer ?? ((host: string) => systemResolve(host));
  const servers: { host: string; address: DnsServerAddress }[] = [];
  for (const host of nameServers) {
    const addresses = await resolve(host, { signal }).catch(() => {
      if (options.signal?.aborted) throw options.signal.reason;
      return [] as DnsServerAddress[];
    });
    for (const address of addresses.slice(0, 4)) servers.push({ host, address });
  }
  if (servers.length === 0)
    throw new ZonekeeperError(
      'UNAVAILABLE',
      `ACME: none of the zone's name servers (${nameServers.join(', ')}) has an address; cannot check the challenge records.`,
      { details: { nameServers } },
    );
  let pending = servers.flatMap((s) => records.map((record) => ({ ...s, record })));
  let rounds = 0;
  let last = new Map<string, string>();
  for (;;) {
    rounds++;
    const seen = new Map<string, string>();
    const results = await Promise.all(
      pending.map(async (p) => {
        const lookup = await lookupTxt(p.address, p.record.name, {
          timeoutMs: Math.min(options.queryTimeoutMs ?? 2_000, timeoutMs),
          attempts: 1,
          signal,
        }).catch((error: unknown) => {
          if (options.signal?.aborted) throw options.signal.reason;
          if (deadline.aborted) return { status: 'timeout' as const, values: [] as string[] };
          throw error;
        });
        seen.set(`${p.host} ${p.address.address}:${p.address.port ?? 53} ${p.record.name}`, lookup.status);
        return answersChallenge(lookup, p.record);
      }),
    );
    pending = pending.filter((_, i) => !results[i]);
    last = seen;
    if (pending.length === 0) return { servers: servers.length, rounds };
    try {
      await sleep(pollIntervalMs, signal);
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      const lagging = [...last.entries()].filter(([key]) =>
        pending.some(
          (p) => key === `${p.host} ${p.address.address}:${p.address.port ?? 53} ${p.record.name}`,
        ),
      );
      throw new ZonekeeperError(
        'TIMEOUT',
        `ACME: the zone's name servers did not all answer the challenge records within ${timeoutMs} ms (${lagging
          .slice(0, 5)
          .map(([k, status]) => `${k}: ${status}`)
          .join('; ')}).`,
        { retry: 'transient', cause: error, details: { lagging: lagging.map(([k]) => k) } },
      );
    }
  }
}
