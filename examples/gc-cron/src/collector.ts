/**
 * The collector: builds the facade from the configuration, runs one collection (or the loop), and
 * turns the outcome into a summary and an exit code.
 */

import {
  type ClusterClient,
  type ErrorCode,
  hasErrorCode,
  isAbortError,
  isZonekeeperError,
  toZonekeeperError,
} from '@zonekeeper/core';
import { createMemoryCluster } from '@zonekeeper/externaldns-deployer';
import { type CollectionResult, createZonekeeper, type Zonekeeper, type ZonekeeperConfig } from 'zonekeeper';
import type { CollectorConfig } from './config.js';
import {
  createFileInventory,
  createHttpInventory,
  type TrackedInventory,
  trackInventory,
} from './inventory.js';

/**
 * The exit codes, the same as the `zonekeeper` command's (documented in the README and `--help`). A
 * failure maps by its `ZonekeeperError` code; with several, the worst wins (1 > 4 > 3 > 2 > 0).
 */
export const ExitCode = {
  /** The collection ran; every planned deletion was done (or nothing was due). */
  OK: 0,
  /** An unexpected failure (`INTERNAL`, a non-zonekeeper error). */
  FAILED: 1,
  /** Bad flags or environment (`INVALID_INPUT`); nothing was called. */
  USAGE: 2,
  /** Refused: `NOT_OWNED`, `PERMISSION_DENIED`, `CONFLICT`, `NOT_FOUND`, `ALREADY_EXISTS`. Fix the world first. */
  REFUSED: 3,
  /**
   * Retry later: `THROTTLED`, `UNAVAILABLE`, `TIMEOUT`, `PENDING` — including an inventory that could not be
   * read or contradicted itself, after which nothing was deleted (fail closed).
   */
  RETRY_LATER: 4,
} as const;

const byCode: Readonly<Record<ErrorCode, number>> = {
  INVALID_INPUT: ExitCode.USAGE,
  NOT_OWNED: ExitCode.REFUSED,
  PERMISSION_DENIED: ExitCode.REFUSED,
  CONFLICT: ExitCode.REFUSED,
  NOT_FOUND: ExitCode.REFUSED,
  ALREADY_EXISTS: ExitCode.REFUSED,
  THROTTLED: ExitCode.RETRY_LATER,
  UNAVAILABLE: ExitCode.RETRY_LATER,
  TIMEOUT: ExitCode.RETRY_LATER,
  PENDING: ExitCode.RETRY_LATER,
  INTERNAL: ExitCode.FAILED,
};

/** The exit code of anything thrown. */
export function exitCodeOfError(error: unknown): number {
  return isZonekeeperError(error) ? (byCode[error.code] ?? ExitCode.FAILED) : ExitCode.FAILED;
}

/** The worst of several exit codes. */
export function worstExitCode(codes: readonly number[]): number {
  const rank = (c: number) =>
    [ExitCode.OK, ExitCode.USAGE, ExitCode.REFUSED, ExitCode.RETRY_LATER, ExitCode.FAILED].indexOf(c as 0);
  return codes.reduce((worst, c) => (rank(c) > rank(worst) ? c : worst), ExitCode.OK as number);
}

/** A built collector. */
export interface Collector {
  readonly zk: Zonekeeper;
  readonly inventory: TrackedInventory;
  /** The cluster holding the Lease of `--loop`, when a lease is configured. */
  readonly leaseCluster?: ClusterClient;
}

/**
 * Builds the facade for the configured backend. Nothing is called yet. The real adapters (AWS SDK,
 * node-vault, @kubernetes/client-node) are loaded only for the `aws` backend.
 */
export async function buildCollector(
  config: CollectorConfig,
  overrides: Partial<Pick<ZonekeeperConfig, 'clock' | 'logger'>> = {},
): Promise<Collector> {
  const inventory = trackInventory(
    /^https?:\/\//.test(config.inventory)
      ? createHttpInventory(config.inventory, config.inventoryToken ? { token: config.inventoryToken } : {})
      : createFileInventory(config.inventory),
  );
  const base: ZonekeeperConfig = {
    baseDomain: config.baseDomain,
    inventory,
    ...(config.parentZoneId ? { parentZoneId: config.parentZoneId } : {}),
    ...(config.secretPrefix ? { secretPrefix: config.secretPrefix } : {}),
    ...overrides,
  };
  if (config.backend === 'memory') {
    const leaseCluster = config.lease ? createMemoryCluster({ name: 'lease' }) : undefined;
    return { zk: createZonekeeper(base), inventory, ...(leaseCluster ? { leaseCluster } : {}) };
  }
  const [
    { createRoute53Provider },
    { createIamIdentityProvider },
    { createVaultSecretStore },
    { createKubernetesCluster },
  ] = await Promise.all([
    import('@zonekeeper/zone-manager/route53'),
    import('@zonekeeper/iam-scoper/iam'),
    import('@zonekeeper/vault-keys/vault'),
    import('@zonekeeper/externaldns-deployer/kubernetes'),
  ]);
  const zk = createZonekeeper({
    ...base,
    // zonekeeper's share of the account's Route 53 budget: every organisation's ExternalDNS draws from it too.
    dns: createRoute53Provider({ requestsPerSecond: config.route53RequestsPerSecond }),
    identity: createIamIdentityProvider(),
    secrets: createVaultSecretStore({ mount: config.vaultMount }), // VAULT_ADDR, VAULT_TOKEN
  });
  // The collector never touches the organisations' clusters; only the Lease needs a cluster.
  const leaseCluster = config.lease ? createKubernetesCluster({ name: 'lease' }) : undefined;
  return { zk, inventory, ...(leaseCluster ? { leaseCluster } : {}) };
}

/** The outcome of one collection. */
export interface CollectOutcome {
  readonly exitCode: number;
  /** An inventory read failed or contradicted itself during the collection (nothing deleted after it). */
  readonly inventoryUnavailable?: boolean;
  readonly result?: CollectionResult;
  readonly error?: unknown;
}

/** The exit code a collection result (or failure) deserves. */
export function exitCodeOf(
  inventory: TrackedInventory,
  failuresBefore: number,
  outcome: { readonly result?: CollectionResult; readonly error?: unknown },
): number {
  const codes: number[] = [];
  // Every inventory read goes through the tracker, including the re-check before each deletion.
  if (inventory.failures > failuresBefore) codes.push(ExitCode.RETRY_LATER);
  if (outcome.error !== undefined) codes.push(exitCodeOfError(outcome.error));
  // A failed zone, a deleted one whose identities and secrets are not all gone yet, an orphan sweep that
  // stopped early: each counts with its error's code (the next run finishes the job).
  for (const r of outcome.result?.results ?? []) {
    if (r.status === 'failed') codes.push(r.error ? exitCodeOfError(r.error) : ExitCode.FAILED);
    else if (r.status === 'deleted' && r.error) codes.push(exitCodeOfError(r.error));
  }
  const sweep = outcome.result?.orphans.error;
  if (sweep) codes.push(exitCodeOfError(sweep));
  return worstExitCode(codes);
}

/** Runs one collection. Never throws except for an abort. */
export async function collectOnce(
  collector: Collector,
  options: { readonly dryRun?: boolean; readonly now?: Date; readonly signal?: AbortSignal } = {},
): Promise<CollectOutcome> {
  const before = collector.inventory.failures;
  try {
    const result = await collector.zk.collectGarbage({
      dryRun: options.dryRun === true,
      ...(options.now ? { now: options.now } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    return {
      exitCode: exitCodeOf(collector.inventory, before, { result }),
      inventoryUnavailable: collector.inventory.failures > before,
      result,
    };
  } catch (error) {
    if (isAbortError(error) || options.signal?.aborted) throw error;
    return {
      exitCode: exitCodeOf(collector.inventory, before, { error }),
      inventoryUnavailable: collector.inventory.failures > before,
      error,
    };
  }
}

const iso = (d: Date) => d.toISOString().replace('.000Z', 'Z');

/** A readable summary (or one JSON document with `json`). Secret-free: results carry no secret. */
export function formatOutcome(outcome: CollectOutcome, options: { readonly json?: boolean } = {}): string {
  const { result } = outcome;
  const rows = (result?.plan.decisions ?? []).map((d) => {
    const zone = result?.zones.find((z) => z.id === d.zoneId);
    const done = result?.results.find((r) => r.zoneId === d.zoneId);
    return {
      zoneId: d.zoneId,
      zone: zone?.name ?? d.zoneId,
      organization: zone?.organization ?? '',
      decision: d.action,
      reason: d.reason,
      ...(d.eligibleAt ? { eligibleAt: iso(d.eligibleAt) } : {}),
      result: done
        ? done.status === 'failed'
          ? `failed: ${done.message}`
          : done.reason === done.status
            ? done.status
            : `${done.status}: ${done.reason}`
        : result?.dryRun && d.action === 'delete'
          ? 'would delete'
          : '',
    };
  });
  const error = outcome.error === undefined ? undefined : toZonekeeperError(outcome.error);
  if (options.json) {
    return JSON.stringify({
      exitCode: outcome.exitCode,
      ...(outcome.inventoryUnavailable ? { inventoryUnavailable: true } : {}),
      ...(result
        ? {
            now: result.now.toISOString(),
            dryRun: result.dryRun,
            zones: rows,
            orphans: result.orphans,
            ...(result.nextReviewAt ? { nextReviewAt: result.nextReviewAt.toISOString() } : {}),
          }
        : {}),
      ...(error ? { error: { code: error.code, message: error.message } } : {}),
    });
  }
  const lines: string[] = [];
  if (result) {
    lines.push(
      `zonekeeper gc at ${iso(result.now)}${result.dryRun ? ' (dry run: nothing deleted)' : ''}: ${rows.length} managed zone(s)`,
    );
    const cols = ['zone', 'organization', 'decision', 'reason', 'result'] as const;
    const table = rows.map((r) => ({
      ...r,
      reason: r.eligibleAt ? `${r.reason} until ${r.eligibleAt}` : r.reason,
    }));
    const width = cols.map((c) => Math.max(c.length, ...table.map((r) => String(r[c]).length)));
    const line = (cells: readonly string[]) =>
      `  ${cells.map((c, i) => c.padEnd(width[i] as number)).join('  ')}`.trimEnd();
    if (table.length > 0) {
      lines.push(line([...cols]));
      for (const r of table) lines.push(line(cols.map((c) => String(r[c]))));
    }
    const { identities, secretPaths, error: sweepError } = result.orphans;
    if (identities.length + secretPaths.length > 0)
      lines.push(
        `orphans ${result.dryRun ? 'to remove' : 'removed'}: ${identities.length} identities, ${secretPaths.length} secrets`,
      );
    if (sweepError) lines.push(`the orphan sweep stopped early (${sweepError.code}): ${sweepError.message}`);
    if (result.nextReviewAt) lines.push(`next review at ${iso(result.nextReviewAt)}`);
  }
  if (error) lines.push(`zonekeeper gc failed (${error.code}): ${error.message}`);
  if (outcome.inventoryUnavailable)
    lines.push('the inventory was unavailable: nothing was deleted after that (fail closed)');
  const meaning: Record<number, string> = {
    0: 'done',
    1: 'failed',
    2: 'bad configuration',
    3: 'refused; fix the cause, then run again',
    4: 'retry later; the next run converges',
  };
  lines.push(`exit ${outcome.exitCode}: ${meaning[outcome.exitCode] ?? ''}`.trimEnd());
  return lines.join('\n');
}

/**
 * Runs the collector loop until `signal` aborts: collect, sleep until `nextReviewAt` (at most an hour),
 * and — with a lease — only while holding the Kubernetes Lease.
 */
export async function runLoop(
  collector: Collector,
  config: Pick<CollectorConfig, 'lease' | 'json'>,
  signal: AbortSignal,
  print: (text: string) => void,
): Promise<void> {
  let before = collector.inventory.failures;
  await collector.zk.runGarbageCollector({
    signal,
    ...(config.lease && collector.leaseCluster
      ? { lease: { ...config.lease, cluster: collector.leaseCluster } }
      : {}),
    onCollection: ({ result, error }) => {
      const exitCode = exitCodeOf(collector.inventory, before, {
        ...(result ? { result } : {}),
        ...(error === undefined ? {} : { error }),
      });
      before = collector.inventory.failures;
      print(
        formatOutcome(
          { exitCode, ...(result ? { result } : {}), ...(error === undefined ? {} : { error }) },
          config,
        ),
      );
    },
  });
}

/** Whether an error is a configuration problem (exit code 2). */
export function isUsageError(error: unknown): boolean {
  return hasErrorCode(error, 'INVALID_INPUT');
}
