/**
 * The command bodies over several AWS accounts (`--fleet <file>`): `doctor`, `gc plan|run`, `org list`,
 * `org show`, `org ensure`, `org move` and `cluster list` through `createFleet`.
 *
 * One account failing does not stop the others: a sweep (`doctor`, `gc`, the lists) runs every account
 * one after the other in the file's order; an account whose calls fail with a zonekeeper error (its role
 * cannot be assumed, Route 53 is unavailable, …) is reported — a row in `accounts` with `ok: false` and
 * the error's code and message, a line on stderr and in the table view — and the next account runs. The
 * exit code is the worst of the findings' or zones' codes and each failed account's error code
 * ({@link worstExitCode}), so exit codes mean what they mean for one account: `doctor` with an
 * unreachable account exits 4 even when the others are clean. An invalid input (`INVALID_INPUT`) stops
 * the whole command, as it would stop every account.
 *
 * @internal
 * @packageDocumentation
 */

import { invalidInput, isZonekeeperError, toZonekeeperError, type ZonekeeperError } from '@zonekeeper/core';
import type { LeaseOptions } from '../../gc/lease.js';
import type { ClusterInventory } from '../../inventory.js';
import { buildFleetFacade, type CommandContext, type CommandOutcome, isFleet, signalOf } from '../command.js';
import { type ExitCode, ExitCodes, exitCodeOfCode, worstExitCode } from '../exit-codes.js';
import { formatInstant, type HumanView, text } from '../render.js';
import { organizationView, renderOrganization } from '../views.js';
import { watchPassEvent, watchPassLine } from '../views-doctor.js';
import {
  type AccountStatus,
  fleetCollectionView,
  fleetDoctorView,
  fleetRows,
  renderFleetCollection,
  renderFleetDoctor,
  renderFleetList,
} from '../views-fleet.js';
import {
  clusterListView,
  organizationDescriptionView,
  organizationListView,
  renderClusterList,
  renderOrganizationDescription,
  renderOrganizationList,
} from '../views-org.js';

/**
 * Refuses `--fleet` for a command that works on one account only (yet): exit 2 before anything is
 * built, naming the SDK route.
 */
export function singleAccountOnly(ctx: CommandContext, command: string): void {
  if (isFleet(ctx))
    throw invalidInput(
      `${command} does not take --fleet yet: run it without --fleet against the organisation's account, or use createFleet from the SDK.`,
    );
}

/** A routed result's view with its `account` first (unchanged without one: a single account). */
export function withAccount<V extends object>(result: object, view: V): V | ({ account: string } & V) {
  const account = (result as { account?: unknown }).account;
  return typeof account === 'string' ? { account, ...view } : view;
}

/** A routed result's human view with an `Account:` line first (unchanged without one). */
export function withAccountLine(result: object, blocks: HumanView): HumanView {
  const account = (result as { account?: unknown }).account;
  return typeof account === 'string' ? [text(`Account: ${account}`), ...blocks] : blocks;
}

/** Reports each failed account on stderr and returns the exit codes of the failures. */
function reportAccounts(ctx: CommandContext, name: string, accounts: readonly AccountStatus[]): ExitCode[] {
  const codes: ExitCode[] = [];
  const ok = accounts.filter((a) => a.ok).length;
  for (const a of accounts)
    if (!a.ok) {
      ctx.out.error(
        `${name}: account ${a.account}: ${a.error.code}: ${a.error.message} (${ok} other account(s) ran)`,
      );
      codes.push(exitCodeOfCode(a.error.code as ZonekeeperError['code']));
    }
  return codes;
}

/** Runs `read` in every account, one after the other; a zonekeeper error (not invalid input) is that account's. */
async function eachAccount<T>(
  accounts: readonly { id: string; zonekeeper: unknown }[],
  read: (a: (typeof accounts)[number]) => Promise<readonly T[]>,
): Promise<({ account: string; rows: readonly T[] } | { account: string; error: ZonekeeperError })[]> {
  const out: ({ account: string; rows: readonly T[] } | { account: string; error: ZonekeeperError })[] = [];
  for (const a of accounts) {
    try {
      out.push({ account: a.id, rows: await read(a) });
    } catch (error) {
      if (isZonekeeperError(error) && error.code !== 'INVALID_INPUT') out.push({ account: a.id, error });
      else throw error;
    }
  }
  return out;
}

/** `doctor --fleet`. */
export async function fleetDoctor(
  ctx: CommandContext,
  organization: string | undefined,
  now: Date | undefined,
  inventory: ClusterInventory | undefined,
): Promise<CommandOutcome> {
  const fleet = await buildFleetFacade(ctx, inventory);
  ctx.out.progress(
    `zonekeeper doctor: ${organization ?? `every organisation under ${ctx.settings.baseDomain}`} in ${fleet.accounts.length} account(s) (read only)…`,
  );
  const result = await fleet.auditFleet({
    ...(organization ? { organization } : {}),
    ...(now ? { now } : {}),
    ...signalOf(ctx),
  });
  const view = fleetDoctorView(result.accounts);
  const codes = reportAccounts(ctx, 'doctor', view.accounts);
  return {
    view,
    text: renderFleetDoctor(view),
    exitCode: worstExitCode([view.summary.error > 0 ? ExitCodes.FINDINGS : ExitCodes.OK, ...codes]),
  };
}

/** `gc plan --fleet` and `gc run --fleet` (one collection per account). */
export async function fleetCollection(
  ctx: CommandContext,
  name: string,
  dryRun: boolean,
  now: Date | undefined,
  inventory: ClusterInventory,
): Promise<CommandOutcome> {
  const fleet = await buildFleetFacade(ctx, inventory);
  ctx.out.progress(
    `zonekeeper ${name}: managed zones under ${ctx.settings.baseDomain} in ${fleet.accounts.length} account(s)${now ? ` at ${formatInstant(now)}` : ''}${dryRun ? ' (plan only)' : ''}…`,
  );
  const result = await fleet.collectGarbage({ dryRun, ...(now ? { now } : {}), ...signalOf(ctx) });
  const view = fleetCollectionView(result.accounts, dryRun);
  const codes: ExitCode[] = [];
  for (const s of result.accounts) {
    if (!('result' in s)) continue;
    for (const r of s.result.results) {
      const code =
        r.status === 'failed'
          ? r.error
            ? exitCodeOfCode(r.error.code)
            : ExitCodes.FAILED
          : r.reason === 'fail-closed' || r.reason === 'organization-busy'
            ? ExitCodes.RETRY_LATER
            : ExitCodes.OK;
      codes.push(code);
      if (code !== ExitCodes.OK)
        ctx.out.error(
          `${name}: account ${s.account}: zone ${r.zoneId} of ${r.organization}: ${r.error ? `${r.error.code}: ${r.error.message}` : r.message}`,
        );
    }
  }
  codes.push(...reportAccounts(ctx, name, view.accounts));
  return { view, text: renderFleetCollection(view, name === 'gc run'), exitCode: worstExitCode(codes) };
}

/** `org list --fleet`: every account's organisations, each with its account. */
export async function fleetOrganizationList(ctx: CommandContext, now: Date): Promise<CommandOutcome> {
  const fleet = await buildFleetFacade(ctx);
  ctx.out.progress(
    `zonekeeper org list: organisations under ${ctx.settings.baseDomain} in ${fleet.accounts.length} account(s)…`,
  );
  const parts = await eachAccount(
    fleet.accounts,
    async (a) =>
      organizationListView(
        await (a.zonekeeper as (typeof fleet.accounts)[number]['zonekeeper']).listOrganizations(
          signalOf(ctx),
        ),
      ).organizations,
  );
  const { rows, accounts } = fleetRows(parts);
  const codes = reportAccounts(ctx, 'org list', accounts);
  return {
    view: { accounts, organizations: rows },
    text: renderFleetList(renderOrganizationList({ organizations: rows }, now), rows, accounts),
    exitCode: worstExitCode(codes),
  };
}

/** `cluster list --fleet`: every account's clusters, each with its account. */
export async function fleetClusterList(
  ctx: CommandContext,
  organization: string | undefined,
  inventory: ClusterInventory | undefined,
  now: Date,
): Promise<CommandOutcome> {
  const fleet = await buildFleetFacade(ctx, inventory);
  ctx.out.progress(
    `zonekeeper cluster list${organization ? `: ${organization}` : ''} in ${fleet.accounts.length} account(s)…`,
  );
  // An organisation's attachments live in its account's secrets: the other accounts list none.
  const parts = await eachAccount(
    fleet.accounts,
    async (a) =>
      clusterListView(
        await (a.zonekeeper as (typeof fleet.accounts)[number]['zonekeeper']).listClusters({
          ...(organization ? { organization } : {}),
          ...signalOf(ctx),
        }),
      ).clusters,
  );
  const { rows: all, accounts } = fleetRows(parts);
  // A cluster only the (shared) inventory knows is listed by every account: once, in no account.
  const known = new Set(
    all.filter((c) => c.attached || c.bound).map((c) => `${c.organization}/${c.clusterId}`),
  );
  const seen = new Set<string>();
  const rows = all.flatMap((c) => {
    const key = `${c.organization}/${c.clusterId}`;
    if (c.attached || c.bound) return [c];
    if (known.has(key) || seen.has(key)) return [];
    seen.add(key);
    return [{ ...c, account: 'none (inventory only)' }];
  });
  const codes = reportAccounts(ctx, 'cluster list', accounts);
  return {
    view: { accounts, clusters: rows },
    text: renderFleetList(renderClusterList({ clusters: rows }, now), rows, accounts),
    exitCode: worstExitCode(codes),
  };
}

/** `org show --fleet`: the organisation in its account. */
export async function fleetOrganizationShow(
  ctx: CommandContext,
  organization: string,
  inventory: ClusterInventory | undefined,
): Promise<CommandOutcome> {
  const fleet = await buildFleetFacade(ctx, inventory);
  ctx.out.progress(`zonekeeper org show: ${organization} (finding its account)…`);
  const d = await fleet.describeOrganization(organization, signalOf(ctx));
  const view = { account: d.account, ...organizationDescriptionView(d) };
  return { view, text: [text(`Account: ${d.account}`), ...renderOrganizationDescription(view)] };
}

/** `org ensure --fleet`: placed (a new organisation) and ensured in its account. */
export async function fleetOrganizationEnsure(
  ctx: CommandContext,
  organization: string,
  dryRun: boolean,
): Promise<CommandOutcome> {
  const fleet = await buildFleetFacade(ctx);
  ctx.out.progress(`zonekeeper org ensure: ${organization}${dryRun ? ' (dry run)' : ''} in its account…`);
  const result = await fleet.ensureOrganization(organization, { dryRun, ...signalOf(ctx) });
  const view = { account: result.account, ...organizationView(result) };
  return { view, text: [text(`Account: ${result.account}`), ...renderOrganization(view)] };
}

/** `org move <org> --to <account> --fleet <file>`: one run of the move (see `Fleet.moveOrganization`). */
export async function fleetOrganizationMove(
  ctx: CommandContext,
  organization: string,
  to: string,
  drainMs: number | undefined,
  dryRun: boolean,
): Promise<CommandOutcome> {
  const fleet = await buildFleetFacade(ctx);
  if (!fleet.accounts.some((a) => a.id === to))
    throw invalidInput(
      `--to ${to} is not an account of the fleet file (${fleet.accounts.map((a) => a.id).join(', ')}).`,
    );
  ctx.out.progress(`zonekeeper org move: ${organization} to account ${to}${dryRun ? ' (dry run)' : ''}…`);
  const r = await fleet.moveOrganization(organization, to, {
    dryRun,
    ...(drainMs === undefined ? {} : { drainMs }),
    ...signalOf(ctx),
  });
  const view = {
    organization: r.organization,
    from: r.from,
    to: r.to,
    status: r.status,
    phase: r.plan.outcome === 'steps' ? r.plan.phase : null,
    planned: r.plan.outcome === 'steps' ? r.plan.steps.map((s) => s.op) : [],
    applied: [...r.applied],
    deleteSourceAt: r.deleteSourceAt?.toISOString() ?? null,
  };
  const lines = [
    text(
      r.status === 'moved'
        ? `${r.organization} is in account ${r.to} (moved from ${r.from}).`
        : r.status === 'draining'
          ? `${r.organization} resolves from account ${r.to}; the old zone in ${r.from} stays until ${formatInstant(view.deleteSourceAt)} (resolvers may cache the old delegation): run this command again then to finish.`
          : `Would move ${r.organization} from ${r.from} to ${r.to}: ${view.planned.join(', ') || 'nothing to do'}.`,
    ),
  ];
  if (view.applied.length > 0) lines.push(text(`Applied: ${view.applied.join(', ')}.`));
  return { view, text: lines };
}

/**
 * `gc run --watch --fleet`: every account's collector loop side by side (`Fleet.runGarbageCollector`),
 * each pass's line and stream entry naming its account; with a Lease, each account's loop holds its
 * own, `<name>-<account id>`. SIGTERM stops every loop and exits 0.
 */
export async function fleetWatch(
  ctx: CommandContext,
  inventory: ClusterInventory,
  options: { readonly maxIntervalMs?: number; readonly retryDelayMs?: number },
  lease: LeaseOptions | undefined,
): Promise<CommandOutcome> {
  const fleet = await buildFleetFacade(ctx, inventory);
  const signal = ctx.signal ?? new AbortController().signal;
  ctx.out.progress(
    `zonekeeper gc run --watch: collecting under ${ctx.settings.baseDomain} in ${fleet.accounts.length} account(s)${lease ? ` while holding Lease ${lease.namespace}/${lease.name ?? 'zonekeeper-gc'}-<account> as ${lease.identity}` : ''}; SIGTERM or Ctrl-C stops…`,
  );
  const passes = new Map<string, number>();
  await fleet.runGarbageCollector({
    signal,
    ...(lease ? { lease } : {}),
    ...(options.maxIntervalMs === undefined ? {} : { maxIntervalMs: options.maxIntervalMs }),
    ...(options.retryDelayMs === undefined ? {} : { retryDelayMs: options.retryDelayMs }),
    onCollection: (outcome) => {
      const n = (passes.get(outcome.account) ?? 0) + 1;
      passes.set(outcome.account, n);
      const line = `account ${outcome.account}: ${watchPassLine(n, {
        ...outcome,
        ...(outcome.error === undefined ? {} : { error: toZonekeeperError(outcome.error) }),
      })}`;
      if (outcome.result) ctx.out.progress(line);
      else ctx.out.error(line);
      ctx.out.event({ account: outcome.account, ...watchPassEvent(n, outcome) });
    },
  });
  const reason = signal.reason as { signal?: unknown } | undefined;
  const by = typeof reason?.signal === 'string' ? reason.signal : signal.aborted ? 'abort' : 'none';
  const total = [...passes.values()].reduce((a, b) => a + b, 0);
  ctx.out.progress(
    `zonekeeper gc run --watch: stopped (${by}) after ${total} pass(es) in ${passes.size} account(s).`,
  );
  return {
    view: {
      stoppedBy: by,
      accounts: fleet.accounts.map((a) => ({ account: a.id, passes: passes.get(a.id) ?? 0 })),
    },
    exitCode: by === 'SIGTERM' ? ExitCodes.OK : ExitCodes.INTERRUPTED,
  };
}
