/**
 * The views of the commands over several accounts (`--fleet`): each account's view merged into the
 * single-account view's shape, every row carrying its `account`, and an `accounts` list saying which
 * accounts answered and which failed (with the error's code and message). The human views are the
 * single-account ones with an `Account` column first, and a line per failed account.
 *
 * @packageDocumentation
 */

import type { ZonekeeperError } from '@zonekeeper/core';
import type { AccountSweep } from '../fleet/accounts.js';
import type { AuditResult, CollectionResult } from '../results.js';
import { cliMessage } from './command.js';
import { type Block, type HumanView, type TableBlock, text } from './render.js';
import { collectionView, renderCollection } from './views.js';
import { doctorView, renderDoctor } from './views-doctor.js';

/** One account of a sweep, in a view: it answered, or its error. */
export type AccountStatus =
  | { readonly account: string; readonly ok: true }
  | { readonly account: string; readonly ok: false; readonly error: { code: string; message: string } };

/** An account's failure as view data (the message in CLI terms). */
export function accountFailure(account: string, error: ZonekeeperError): AccountStatus {
  return { account, ok: false, error: { code: error.code, message: cliMessage(error) } };
}

/**
 * `blocks` with an `Account` column first in the first table, `accounts[i]` the account of row `i`.
 * @internal
 */
export function withAccountColumn(blocks: HumanView, accounts: readonly string[]): HumanView {
  let done = false;
  return blocks.map((b): Block => {
    if (done || b.kind !== 'table') return b;
    done = true;
    const t = b as TableBlock;
    return {
      ...t,
      columns: [{ header: 'Account' }, ...t.columns],
      rows: t.rows.map((r, i) => [accounts[i] ?? null, ...r]),
    };
  });
}

/** A line per failed account (none when all answered). */
function failureLines(accounts: readonly AccountStatus[], what: string): Block[] {
  return accounts.flatMap((a) =>
    a.ok ? [] : [text(`Account ${a.account}: not ${what}: ${a.error.code}: ${a.error.message}`)],
  );
}

const SEVERITY_RANK: Readonly<Record<string, number>> = { error: 0, warning: 1, info: 2 };

/** The view of `doctor --fleet`: every account's findings (each with its account), worst first. */
export function fleetDoctorView(sweeps: readonly AccountSweep<AuditResult>[]) {
  const accounts: AccountStatus[] = [];
  const organizations: string[] = [];
  const findings: (ReturnType<typeof doctorView>['findings'][number] & { account: string })[] = [];
  const summary = { error: 0, warning: 0, info: 0 };
  const inventories = new Set<string>();
  let now: string | undefined;
  for (const s of sweeps) {
    if (!('result' in s)) {
      accounts.push(accountFailure(s.account, s.error));
      continue;
    }
    const v = doctorView(s.result);
    now ??= v.now;
    accounts.push({ account: s.account, ok: true });
    organizations.push(...v.organizations);
    inventories.add(v.inventory);
    for (const f of v.findings) findings.push({ account: s.account, ...f });
    summary.error += v.summary.error;
    summary.warning += v.summary.warning;
    summary.info += v.summary.info;
  }
  // Stable: within a severity, accounts keep the configuration's order and their own order.
  findings.sort((a, b) => (SEVERITY_RANK[a.severity] ?? 3) - (SEVERITY_RANK[b.severity] ?? 3));
  return {
    now: now ?? null,
    accounts,
    organizations,
    inventory: inventories.has('unreadable')
      ? ('unreadable' as const)
      : inventories.has('read')
        ? ('read' as const)
        : ('not-configured' as const),
    summary,
    findings,
  };
}

/** The human view of `doctor --fleet`. */
export function renderFleetDoctor(view: ReturnType<typeof fleetDoctorView>): HumanView {
  const audited = view.accounts.filter((a) => a.ok).map((a) => a.account);
  const head = text(
    `${audited.length} of ${view.accounts.length} account(s) audited${audited.length > 0 ? ` (${audited.join(', ')})` : ''}.`,
  );
  const failures = failureLines(view.accounts, 'audited');
  if (view.now === null) return [head, ...failures];
  const blocks = renderDoctor({ ...view, now: view.now } as ReturnType<typeof doctorView>);
  return [
    head,
    ...withAccountColumn(
      blocks,
      view.findings.map((f) => f.account),
    ),
    ...failures,
  ];
}

/** The view of `gc plan|run --fleet`: every account's zones (each with its account) and results. */
export function fleetCollectionView(sweeps: readonly AccountSweep<CollectionResult>[], dryRun: boolean) {
  const accounts: AccountStatus[] = [];
  const zones: (ReturnType<typeof collectionView>['zones'][number] & { account: string })[] = [];
  const toDelete: string[] = [];
  const delegationsRestored: string[] = [];
  const orphans = { identities: [] as string[], secretPaths: [] as string[], busy: [] as string[] };
  let now: string | undefined;
  let nextReviewAt: string | null = null;
  for (const s of sweeps) {
    if (!('result' in s)) {
      accounts.push(accountFailure(s.account, s.error));
      continue;
    }
    const v = collectionView(s.result);
    now ??= v.now;
    accounts.push({ account: s.account, ok: true });
    for (const z of v.zones) zones.push({ account: s.account, ...z });
    toDelete.push(...v.toDelete);
    delegationsRestored.push(...v.delegationsRestored);
    orphans.identities.push(...v.orphans.identities);
    orphans.secretPaths.push(...v.orphans.secretPaths);
    orphans.busy.push(...v.orphans.busy);
    if (v.nextReviewAt !== null && (nextReviewAt === null || v.nextReviewAt < nextReviewAt))
      nextReviewAt = v.nextReviewAt;
  }
  return {
    now: now ?? null,
    dryRun,
    accounts,
    zones,
    toDelete,
    nextReviewAt,
    delegationsRestored,
    orphans,
  };
}

/** The human view of `gc plan|run --fleet`. */
export function renderFleetCollection(view: ReturnType<typeof fleetCollectionView>, run: boolean): HumanView {
  const collected = view.accounts.filter((a) => a.ok).map((a) => a.account);
  const head = text(
    `${collected.length} of ${view.accounts.length} account(s) collected${collected.length > 0 ? ` (${collected.join(', ')})` : ''}.`,
  );
  const failures = failureLines(view.accounts, 'collected');
  if (view.now === null) return [head, ...failures];
  const blocks = renderCollection({ ...view, now: view.now } as ReturnType<typeof collectionView>, run);
  return [
    head,
    ...withAccountColumn(
      blocks,
      view.zones.map((z) => z.account),
    ),
    ...failures,
  ];
}

/**
 * A list over several accounts (`org list`, `cluster list`): `rows` of every account that answered,
 * each with its account, and the failed ones.
 */
export function fleetRows<T>(
  parts: readonly ({ account: string; rows: readonly T[] } | { account: string; error: ZonekeeperError })[],
): { rows: (T & { account: string })[]; accounts: AccountStatus[] } {
  const rows: (T & { account: string })[] = [];
  const accounts: AccountStatus[] = [];
  for (const p of parts) {
    if ('error' in p) accounts.push(accountFailure(p.account, p.error));
    else {
      accounts.push({ account: p.account, ok: true });
      for (const r of p.rows) rows.push({ account: p.account, ...r });
    }
  }
  return { rows, accounts };
}

/** A human list view over several accounts: the single-account rendering with an `Account` column. */
export function renderFleetList(
  blocks: HumanView,
  rows: readonly { account: string }[],
  accounts: readonly AccountStatus[],
): HumanView {
  return [
    ...withAccountColumn(
      blocks,
      rows.map((r) => r.account),
    ),
    ...failureLines(accounts, 'listed'),
  ];
}
