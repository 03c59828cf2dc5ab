/**
 * The views of `zonekeeper doctor` and `zonekeeper gc run --watch`: secret-free JSON data (instants as
 * ISO strings) and their {@link HumanView} (instants to the second; `-o wide` adds each finding's
 * operation and instant).
 *
 * @packageDocumentation
 */

import { toZonekeeperError } from '@zonekeeper/core';
import type { AuditResult, CollectionResult } from '../results.js';
import { type Block, type Cell, formatInstant, type HumanView, table, text } from './render.js';
import { collectionView } from './views.js';

/** The view of `doctor`: the findings, worst first, each with the command that fixes it. */
export function doctorView(r: AuditResult) {
  return {
    now: r.now.toISOString(),
    organizations: [...r.organizations],
    inventory: r.inventory,
    summary: { ...r.summary },
    findings: r.findings.map((f) => ({
      severity: f.severity,
      reason: f.reason,
      organization: f.organization ?? null,
      clusterId: f.clusterId ?? null,
      subject: f.subject,
      message: f.message,
      fix: f.fix.command ?? null,
      operation: f.fix.operation,
      at: f.at ? f.at.toISOString() : null,
    })),
  };
}

/**
 * The human view of `doctor`: a table of findings (severity, reason, where, finding, fix; `-o wide`
 * adds the library operation of the fix and the finding's instant), or one line saying the fleet is
 * healthy.
 */
export function renderDoctor(view: ReturnType<typeof doctorView>): HumanView {
  const scope =
    view.organizations.length === 0
      ? 'no organisations found'
      : `${view.organizations.length} organisation(s): ${view.organizations.join(', ')}`;
  const blocks: Block[] = [text(`Audit at ${formatInstant(view.now)} of ${scope}.`)];
  if (view.inventory === 'not-configured')
    blocks.push(text('No --inventory given: the garbage collector’s decisions are not included.'));
  if (view.findings.length === 0) {
    blocks.push(text('No findings: everything is as zonekeeper would leave it.'));
    return blocks;
  }
  blocks.push(
    table(
      [
        'Severity',
        'Reason',
        'Where',
        'Finding',
        'Fix',
        { header: 'Operation', wide: true },
        { header: 'At', wide: true },
      ],
      view.findings.map((f): Cell[] => [
        f.severity,
        f.reason,
        [f.organization, f.clusterId].filter((x) => x !== null).join('/') || 'fleet',
        f.message,
        f.fix === null ? 'by hand (see the finding)' : `run '${f.fix}'`,
        f.operation,
        formatInstant(f.at),
      ]),
    ),
    text(`${view.summary.error} error(s), ${view.summary.warning} warning(s), ${view.summary.info} note(s).`),
  );
  return blocks;
}

/** One line per pass of `gc run --watch`. */
export function watchPassLine(pass: number, outcome: { result?: CollectionResult; error?: unknown }): string {
  if (!outcome.result) {
    const e = outcome.error as { code?: unknown; message?: unknown } | undefined;
    return `gc pass ${pass} failed: ${typeof e?.code === 'string' ? `${e.code}: ` : ''}${String(e?.message ?? outcome.error)} (retrying later)`;
  }
  const r = outcome.result;
  const deleted = r.results.filter((x) => x.status === 'deleted').length;
  const failed = r.results.filter((x) => x.status === 'failed').length;
  return `gc pass ${pass} at ${r.now.toISOString()}: ${r.zones.length} managed zone(s), ${deleted} deleted, ${failed} failed, ${r.plan.toDelete.length - deleted - failed} skipped; next review ${r.nextReviewAt ? r.nextReviewAt.toISOString() : 'none deferred'}.`;
}

/**
 * One pass of `gc run --watch` as a stream entry (`-o json|yaml`): `{ event: 'gc-pass', pass, ok,
 * result }` with the same `result` as `gc run -o json` prints, or `{ …, ok: false, error: { code,
 * message } }` for a pass that failed (the loop retries it).
 */
export function watchPassEvent(pass: number, outcome: { result?: CollectionResult; error?: unknown }) {
  if (outcome.result) return { event: 'gc-pass', pass, ok: true, result: collectionView(outcome.result) };
  const e = toZonekeeperError(outcome.error);
  return { event: 'gc-pass', pass, ok: false, error: { code: e.code, message: e.message } };
}

/** The view of `gc run --watch` once it stopped. */
export function watchView(
  passes: number,
  stoppedBy: string,
  last: { result?: CollectionResult; error?: unknown } | undefined,
) {
  return {
    passes,
    stoppedBy,
    lastPass: last === undefined ? null : watchPassLine(passes, last),
  };
}
