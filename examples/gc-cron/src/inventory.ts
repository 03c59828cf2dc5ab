/**
 * Cluster inventories the collector can read: a JSON file (e.g. a ConfigMap the platform keeps up to
 * date, or an export) or an HTTP endpoint of the host platform. Both answer the same document:
 *
 * ```json
 * { "clusters": [ { "organization": "acme", "clusterId": "prod-1", "running": true } ] }
 * ```
 *
 * (a bare array of records is accepted too). Report `running: true` for every cluster that is not
 * proven gone — creating, updating, failed but still present. Anything unreadable throws, and the
 * facade then deletes nothing (fail closed); a record that is invalid or listed twice does the same.
 */

import { readFile } from 'node:fs/promises';
import { type CallOptions, throwIfAborted, ZonekeeperError } from '@zonekeeper/core';
import { type ClusterInventory, type ClusterRecord, readOrganizationsInUse } from 'zonekeeper';

/** Turns the inventory document into records (shape only; the facade validates every record). */
export function parseInventory(document: unknown, source: string): readonly ClusterRecord[] {
  const list = Array.isArray(document)
    ? document
    : typeof document === 'object' &&
        document !== null &&
        Array.isArray((document as { clusters?: unknown }).clusters)
      ? (document as { clusters: unknown[] }).clusters
      : undefined;
  if (!list)
    throw new ZonekeeperError(
      'UNAVAILABLE',
      `Inventory ${source}: expected {"clusters": [...]} or an array of cluster records.`,
    );
  return list as ClusterRecord[];
}

/** The inventory in a JSON file, read again on every call. */
export function createFileInventory(path: string): ClusterInventory {
  return {
    async listClusters(options: CallOptions = {}) {
      throwIfAborted(options.signal);
      let text: string;
      try {
        text = await readFile(path, {
          encoding: 'utf8',
          ...(options.signal ? { signal: options.signal } : {}),
        });
      } catch (error) {
        if (options.signal?.aborted) throw options.signal.reason;
        throw new ZonekeeperError('UNAVAILABLE', `Inventory file ${path} could not be read.`, {
          cause: error,
        });
      }
      let document: unknown;
      try {
        document = JSON.parse(text);
      } catch (error) {
        throw new ZonekeeperError('UNAVAILABLE', `Inventory file ${path} is not valid JSON.`, {
          cause: error,
        });
      }
      return parseInventory(document, path);
    },
  };
}

/** Options of {@link createHttpInventory}. */
export interface HttpInventoryOptions {
  /** Sent as `Authorization: Bearer <token>`. Never logged or put in an error. */
  readonly token?: string;
  /** Timeout of one read in milliseconds (default 10 000). */
  readonly timeoutMs?: number;
}

/** The inventory behind an HTTP endpoint of the host platform (`GET`, JSON). */
export function createHttpInventory(url: string, options: HttpInventoryOptions = {}): ClusterInventory {
  const timeoutMs = options.timeoutMs ?? 10_000;
  return {
    async listClusters(callOptions: CallOptions = {}) {
      throwIfAborted(callOptions.signal);
      const timeout = AbortSignal.timeout(timeoutMs);
      const signal = callOptions.signal ? AbortSignal.any([callOptions.signal, timeout]) : timeout;
      let response: Response;
      let document: unknown;
      try {
        response = await fetch(url, {
          headers: {
            accept: 'application/json',
            ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
          },
          signal,
        });
        if (!response.ok) {
          await response.body?.cancel();
          throw new ZonekeeperError('UNAVAILABLE', `Inventory ${url} answered HTTP ${response.status}.`);
        }
        document = await response.json();
      } catch (error) {
        if (callOptions.signal?.aborted) throw callOptions.signal.reason;
        if (error instanceof ZonekeeperError) throw error;
        const why = timeout.aborted ? `no answer within ${timeoutMs} ms` : 'unreachable or not JSON';
        // The fetch error is not kept: it could hold the request, and with it the token.
        throw new ZonekeeperError('UNAVAILABLE', `Inventory ${url}: ${why}.`);
      }
      return parseInventory(document, url);
    },
  };
}

/** An inventory that remembers whether any read failed or answered inconsistently. */
export interface TrackedInventory extends ClusterInventory {
  /** Reads that failed or answered something the collector cannot trust, since creation. */
  readonly failures: number;
  /** The last such failure. */
  readonly lastFailure: unknown;
}

/**
 * Wraps an inventory so the collector can tell "the inventory was unavailable" (exit code 3) from other
 * failures. Each answer is checked as the facade checks it (`readOrganizationsInUse`), so an inconsistent
 * answer counts as a failure too.
 */
export function trackInventory(inner: ClusterInventory): TrackedInventory {
  let failures = 0;
  let lastFailure: unknown;
  const tracked: TrackedInventory = {
    get failures() {
      return failures;
    },
    get lastFailure() {
      return lastFailure;
    },
    async listClusters(options: CallOptions = {}) {
      try {
        const records = await inner.listClusters(options);
        await readOrganizationsInUse({ listClusters: async () => records }, options);
        return records;
      } catch (error) {
        if (!options.signal?.aborted) {
          failures++;
          lastFailure = error;
        }
        throw error;
      }
    },
  };
  const watch = inner.watch?.bind(inner);
  return watch ? Object.assign(tracked, { watch }) : tracked;
}
