/**
 * `zonekeeper gc …`: the billing-aware garbage collector — one collection (`gc plan`, `gc run`), or the
 * collector as a long-running loop (`gc run --watch`), optionally held by a Kubernetes Lease so that
 * only one of several replicas collects. SIGTERM (and SIGINT) stop the loop cleanly: the running pass is
 * aborted (every collection step is crash-safe and idempotent), the Lease released, and the command
 * exits 0 on SIGTERM (130 on SIGINT, like every interrupted command).
 *
 * @internal
 * @packageDocumentation
 */

import { hostname } from 'node:os';
import { invalidInput, toZonekeeperError } from '@zonekeeper/core';
import type { LeaseOptions } from '../../gc/lease.js';
import type { ClusterInventory } from '../../inventory.js';
import type { CollectionResult } from '../../results.js';
import {
  checkInventoryFile,
  checkVaultSettings,
  createFileInventory,
  kubeconfigResolver,
} from '../backend.js';
import {
  buildFacade,
  type CommandContext,
  type CommandGroup,
  type CommandOutcome,
  cliMessage,
  cliText,
  commandFlag,
  commandString,
  isFleet,
  signalOf,
} from '../command.js';
import { type ExitCode, ExitCodes, exitCodeOfCode, worstExitCode } from '../exit-codes.js';
import { formatInstant } from '../render.js';
import { parseInstant } from '../settings.js';
import { collectionView, renderCollection } from '../views.js';
import { watchPassEvent, watchPassLine, watchView } from '../views-doctor.js';
import { fleetCollection, fleetWatch } from './fleet.js';

const DURATION_UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses a duration such as `30s`, `5m`, `1h30m` or `1500ms` into milliseconds.
 * @throws `INVALID_INPUT` for anything else, or one shorter than `minMs`.
 */
export function parseDuration(value: string, what: string, minMs = 1): number {
  const text = value.trim();
  let ms = 0;
  let rest = text;
  const part = /^(\d+(?:\.\d+)?)(ms|s|m|h)/;
  while (rest.length > 0) {
    const m = part.exec(rest);
    if (!m) {
      ms = Number.NaN;
      break;
    }
    ms += Number(m[1]) * (DURATION_UNITS[m[2] as string] as number);
    rest = rest.slice(m[0].length);
  }
  if (text === '' || !Number.isFinite(ms))
    throw invalidInput(`${what} ${JSON.stringify(value)} is not a duration; use e.g. "30s", "5m" or "1h".`);
  if (ms < minMs) throw invalidInput(`${what} must be at least ${minMs} ms, got ${JSON.stringify(value)}.`);
  return Math.round(ms);
}

/** The abort reason of a SIGTERM (the bin aborts with `{ signal: 'SIGTERM' }` on its DOMException). */
function stoppedBy(signal: AbortSignal | undefined): string {
  const reason = signal?.reason as { signal?: unknown } | undefined;
  return typeof reason?.signal === 'string' ? reason.signal : signal?.aborted ? 'abort' : 'none';
}

async function inventoryOf(ctx: CommandContext, name: string): Promise<ClusterInventory> {
  if (ctx.deps.inventory) return ctx.deps.inventory;
  const file = ctx.settings.inventoryFile;
  if (file === undefined)
    throw invalidInput(
      `${name} needs the cluster inventory: pass --inventory <file.json> (a JSON array of {"organization", "clusterId", "running"}). Without it nothing is planned or deleted (fail closed).`,
    );
  if (!ctx.deps.secrets) checkVaultSettings(ctx.settings.vault);
  await checkInventoryFile(file, signalOf(ctx));
  return createFileInventory(file);
}

/** The validated flags of `gc run --watch`. */
function watchOptions(ctx: CommandContext) {
  if (commandFlag(ctx, 'dryRun')) throw invalidInput('gc run --watch cannot be a dry run; use gc plan.');
  if (commandString(ctx, 'now') !== undefined)
    throw invalidInput('gc run --watch runs on the clock; --now is for a single gc run or gc plan.');
  const interval = commandString(ctx, 'interval');
  const retry = commandString(ctx, 'retryDelay');
  const leaseCluster = commandString(ctx, 'leaseCluster');
  const leaseNamespace = commandString(ctx, 'leaseNamespace');
  const leaseName = commandString(ctx, 'leaseName');
  const leaseIdentity = commandString(ctx, 'leaseIdentity');
  const leaseDuration = commandString(ctx, 'leaseDuration');
  const leaseFlags = [leaseNamespace, leaseName, leaseIdentity, leaseDuration].some((v) => v !== undefined);
  if (leaseFlags && leaseCluster === undefined)
    throw invalidInput(
      'The --lease-… options need --lease-cluster <cluster> (the cluster holding the Lease).',
    );
  if (leaseCluster !== undefined && leaseNamespace === undefined)
    throw invalidInput('--lease-cluster needs --lease-namespace <ns> (an existing namespace for the Lease).');
  return {
    ...(interval === undefined ? {} : { maxIntervalMs: parseDuration(interval, '--interval', 1000) }),
    ...(retry === undefined ? {} : { retryDelayMs: parseDuration(retry, '--retry-delay', 1000) }),
    ...(leaseCluster === undefined
      ? {}
      : {
          lease: {
            cluster: leaseCluster,
            namespace: leaseNamespace as string,
            ...(leaseName === undefined ? {} : { name: leaseName }),
            identity: leaseIdentity ?? `${hostname()}-${process.pid}`,
            ...(leaseDuration === undefined
              ? {}
              : { durationMs: parseDuration(leaseDuration, '--lease-duration', 3000) }),
          },
        }),
  };
}

/** `gc run --watch`: the collector loop until the command's signal aborts. */
async function runWatch(ctx: CommandContext): Promise<CommandOutcome> {
  const options = watchOptions(ctx);
  const inventory = await inventoryOf(ctx, 'gc run --watch');
  let lease: LeaseOptions | undefined;
  if (options.lease) {
    const { cluster, ...rest } = options.lease;
    const resolve = ctx.deps.clusters ?? kubeconfigResolver(ctx.settings.kube);
    const client = typeof resolve === 'function' ? await resolve(cluster) : resolve[cluster];
    if (!client) throw invalidInput(`No cluster client for the Lease cluster ${cluster}.`);
    lease = { cluster: client, ...rest };
  }
  if (isFleet(ctx)) return fleetWatch(ctx, inventory, options, lease);
  const zk = await buildFacade(ctx, inventory);
  const signal = ctx.signal ?? new AbortController().signal;
  ctx.out.progress(
    `zonekeeper gc run --watch: collecting under ${ctx.settings.baseDomain}${lease ? ` while holding Lease ${lease.namespace}/${lease.name ?? 'zonekeeper-gc'} as ${lease.identity}` : ''}; SIGTERM or Ctrl-C stops…`,
  );
  let passes = 0;
  let last: { result?: CollectionResult; error?: unknown } | undefined;
  await zk.runGarbageCollector({
    signal,
    ...(lease ? { lease } : {}),
    ...(options.maxIntervalMs === undefined ? {} : { maxIntervalMs: options.maxIntervalMs }),
    ...(options.retryDelayMs === undefined ? {} : { retryDelayMs: options.retryDelayMs }),
    onCollection: (outcome) => {
      passes += 1;
      last = outcome;
      const line = watchPassLine(passes, {
        ...outcome,
        ...(outcome.error === undefined ? {} : { error: toZonekeeperError(outcome.error) }),
      });
      if (outcome.result) ctx.out.progress(line);
      else ctx.out.error(line);
      // -o json|yaml: one entry per pass as it happens, then the final document (JSON Lines).
      ctx.out.event(watchPassEvent(passes, outcome));
    },
  });
  const by = stoppedBy(signal);
  ctx.out.progress(
    `zonekeeper gc run --watch: stopped (${by}) after ${passes} pass(es)${lease ? '; the Lease is released' : ''}.`,
  );
  return {
    view: watchView(passes, by, last),
    exitCode: by === 'SIGTERM' ? ExitCodes.OK : ExitCodes.INTERRUPTED,
  };
}

async function runCollection(ctx: CommandContext, name: string, dryRun: boolean): Promise<CommandOutcome> {
  const nowText = commandString(ctx, 'now');
  const now = nowText === undefined ? undefined : parseInstant(nowText);
  const inventory = await inventoryOf(ctx, name);
  if (isFleet(ctx)) return fleetCollection(ctx, name, dryRun, now, inventory);
  const zk = await buildFacade(ctx, inventory);
  ctx.out.progress(
    `zonekeeper ${name}: managed zones under ${ctx.settings.baseDomain}${now ? ` at ${formatInstant(now)}` : ''}${dryRun ? ' (plan only)' : ''}…`,
  );
  const result = await zk.collectGarbage({ dryRun, ...(now ? { now } : {}), ...signalOf(ctx) });
  const view = collectionView(result);
  const codes: ExitCode[] = result.results.map((r) =>
    r.status === 'failed'
      ? r.error
        ? exitCodeOfCode(r.error.code)
        : ExitCodes.FAILED
      : r.reason === 'fail-closed' || r.reason === 'organization-busy'
        ? ExitCodes.RETRY_LATER
        : ExitCodes.OK,
  );
  for (const r of result.results)
    if (r.status === 'failed' || r.reason === 'fail-closed' || r.reason === 'organization-busy')
      ctx.out.error(
        `${name}: zone ${r.zoneId} of ${r.organization}: ${r.error ? `${r.error.code}: ${cliMessage(r.error, r.organization)}` : cliText(r.message, r.organization)}`,
      );
  return { view, text: renderCollection(view, name === 'gc run'), exitCode: worstExitCode(codes) };
}

/** Refuses the watch-only flags without `--watch`. */
function watchFlagsAbsent(ctx: CommandContext): true {
  for (const [flag, key] of [
    ['--interval', 'interval'],
    ['--retry-delay', 'retryDelay'],
    ['--lease-cluster', 'leaseCluster'],
    ['--lease-namespace', 'leaseNamespace'],
    ['--lease-name', 'leaseName'],
    ['--lease-identity', 'leaseIdentity'],
    ['--lease-duration', 'leaseDuration'],
  ] as const)
    if (commandString(ctx, key) !== undefined) throw invalidInput(`${flag} needs --watch.`);
  return true;
}

/** Registers `gc plan` and `gc run`. */
export const registerGcCommands: CommandGroup = (program, execute) => {
  const gc = program
    .command('gc')
    .description('the billing-aware garbage collector of unused organisation zones (needs --inventory)');
  gc.command('plan')
    .description('show what the collector would delete now, keep, or delete just before the next charge')
    .option('--now <iso>', 'evaluate at this instant (e.g. 2025-03-01T12:00:00Z; default: now)')
    .action(execute('gc plan', async (ctx) => runCollection(ctx, 'gc plan', true)));
  gc.command('run')
    .description(
      'delete the zones due now (re-checking the inventory before each), with their identities and secrets',
    )
    .option('--now <iso>', 'evaluate at this instant (default: now)')
    .option('--dry-run', 'plan only, delete nothing (same as gc plan)')
    .option(
      '--watch',
      'keep collecting: sleep until the next review (at most --interval), collect again; SIGTERM exits 0',
    )
    .option('--interval <duration>', 'with --watch: longest sleep between collections, e.g. 10m (default 1h)')
    .option(
      '--retry-delay <duration>',
      'with --watch: sleep after a failed or incomplete collection (default 1m)',
    )
    .option(
      '--lease-cluster <cluster>',
      'with --watch: collect only while holding a Lease in this cluster (kubeconfig context)',
    )
    .option('--lease-namespace <ns>', 'namespace of the Lease (must exist; required with --lease-cluster)')
    .option('--lease-name <name>', 'name of the Lease (default zonekeeper-gc)')
    .option('--lease-identity <id>', "this replica's identity (default <hostname>-<pid>; e.g. the pod name)")
    .option(
      '--lease-duration <duration>',
      'how long the Lease stays valid without renewal (default 60s, at least 3s)',
    )
    .action(
      execute('gc run', async (ctx) =>
        commandFlag(ctx, 'watch')
          ? runWatch(ctx)
          : watchFlagsAbsent(ctx) && runCollection(ctx, 'gc run', commandFlag(ctx, 'dryRun')),
      ),
    );
};
