/**
 * Moving an organisation from one AWS account of a fleet to another: the pure planner of
 * `Fleet.moveOrganization`. Pure: no I/O, no clock (the instant is an input); the plan is JSON data.
 *
 * ```
 *  phase 1 (the placement record says from, moving to `to`)
 *    mark-moving         the record: { account: from, movingTo: to }            (check-and-set)
 *    create-zone         <org>.<base> in `to`, tagged as ours                    (never adopts a foreign zone)
 *    copy-records        every record set but the apex SOA and NS, from → to    (UPSERT; extras in `to` DELETEd)
 *    upsert-delegation   the parent's NS → the zone in `to`                      (both zones hold every record)
 *    mark-moved          the record: { account: to, movedFrom: from, delegationMovedAt }
 *  phase 2 (the record says to, moved from `from`)
 *    ensure-target       `to`'s ensureOrganization: identity, key and CA in `to` (the zone is there already)
 *    attach-cluster      per cluster: attached in `to` with its recorded settings (its ExternalDNS gets
 *                        `to`'s key and zone; rollout waited for)
 *    release-cluster     per cluster: `from`'s detachCluster without touching the cluster
 *    wait-drain          until delegationMovedAt + drain (resolvers may cache the old name servers)
 *    delete-source       `from`'s deleteOrganization: its zone (its delegation is gone already), identity, secrets
 *    mark-done           the record: { account: to }
 * ```
 *
 * Every name resolves through the whole move (when the two zones' name servers differ, as they do
 * across Route 53 accounts): before `upsert-delegation` the parent names the source
 * zone, which holds every record; after it, the target zone, which holds a copy of every record; the
 * source zone is deleted only once resolvers that cached the old delegation (its TTL, and the source
 * zone's apex NS TTL) have let it go. A re-run after a crash gathers again and plans what is left.
 *
 * @packageDocumentation
 */

import type { RecordSet } from '@zonekeeper/zone-manager';

/** A cluster of the organisation in the source account, as the move sees it. JSON data. @public */
export interface MoveCluster {
  readonly clusterId: string;
  /** Whether ExternalDNS was deployed (an attachment record); `false`: a binding only (interrupted). */
  readonly attached: boolean;
  readonly scope?: 'organization' | 'cluster';
  /** The ExternalDNS settings recorded with the attachment (re-applied in the target account). */
  readonly externalDns?: Readonly<Record<string, unknown>>;
  /** A keyless mode (`irsa`, `pod-identity`, `web-identity`), when not an access key. */
  readonly keyless?: string;
  /** TLS Secrets zonekeeper injected into the cluster. */
  readonly tlsSecrets: number;
}

/** What the move's gather read. JSON data (instants as ISO strings). @public */
export interface MoveState {
  readonly organization: string;
  readonly zoneName: string;
  /** The account asked for. */
  readonly to: string;
  /** The placement record, when one exists (its version for check-and-set). */
  readonly record?: {
    readonly version: number;
    readonly account: string;
    readonly movingTo?: string;
    readonly movedFrom?: string;
    readonly delegationMovedAt?: string;
  };
  /** Where the organisation is placed (the record's account, else its zones'). */
  readonly from: string;
  /** The source account's zone of the organisation (absent once deleted). */
  readonly source: {
    readonly zone?: { readonly id: string; readonly nameServers: readonly string[] };
    /** Every record set of the source zone (apex SOA and NS included). */
    readonly records: readonly RecordSet[];
    /** Clusters attached or bound to the organisation in the source account. */
    readonly clusters: readonly MoveCluster[];
  };
  /** The target account's zones named like the organisation's, with whether each is ours. */
  readonly target: {
    readonly zones: readonly {
      readonly id: string;
      readonly ours: boolean;
      readonly nameServers: readonly string[];
      readonly tagged: boolean;
    }[];
    /** Every record set of the target's zone of ours (apex included); empty without one. */
    readonly records: readonly RecordSet[];
    /** Whether the target account holds an identity at the organisation's names that is not ours. */
    readonly foreignIdentity: boolean;
    /** Room for one more zone in the target (zone quota and budget), from `planPlacement`'s headroom. */
    readonly headroom: number;
  };
  readonly parent: {
    readonly zoneId: string;
    /** The parent's NS record at the zone's name. */
    readonly delegation?: { readonly values: readonly string[]; readonly ttl?: number };
  };
  /** How long to wait after the delegation moved before the source zone goes (ms). */
  readonly drainMs: number;
  /** The instant of the plan (ISO). */
  readonly now: string;
}

/** A step of a {@link MovePlan}. JSON data. @public */
export type MoveStep =
  | {
      readonly op: 'mark-moving';
      readonly cas: number;
      readonly data: { readonly account: string; readonly movingTo: string };
    }
  | { readonly op: 'create-zone'; readonly zoneName: string }
  | {
      readonly op: 'tag-zone';
      /** `null`: the zone `create-zone` creates. */
      readonly zoneId: string | null;
    }
  | {
      readonly op: 'copy-records';
      /** `null`: the zone `create-zone` creates. */
      readonly zoneId: string | null;
      /** The source zone's id (aliases to it are rewritten to the target zone). */
      readonly sourceZoneId: string;
      readonly upsert: readonly RecordSet[];
      readonly delete: readonly RecordSet[];
    }
  | {
      readonly op: 'upsert-delegation';
      readonly parentZoneId: string;
      readonly recordName: string;
      readonly ttl: number;
      /** `null`: the name servers of the zone `create-zone` creates. */
      readonly nameServers: readonly string[] | null;
    }
  | {
      readonly op: 'mark-moved';
      /** `null`: the version the `mark-moving` step wrote. */
      readonly cas: number | null;
      readonly data: { readonly account: string; readonly movedFrom: string };
    }
  | { readonly op: 'ensure-target'; readonly account: string }
  | {
      /** The cluster attached in the target account: its ExternalDNS gets the target's key and zone. */
      readonly op: 'attach-cluster';
      readonly clusterId: string;
      readonly scope?: 'organization' | 'cluster';
      readonly externalDns?: Readonly<Record<string, unknown>>;
    }
  | {
      /** The cluster's records (and cluster identity) in the source account removed; the cluster untouched. */
      readonly op: 'release-cluster';
      readonly account: string;
      readonly clusterId: string;
    }
  | { readonly op: 'delete-source'; readonly account: string }
  | {
      readonly op: 'mark-done';
      readonly cas: number | null;
      readonly data: { readonly account: string };
    };

/** Why a move is refused (before any write). @public */
export type MoveRefusalReason =
  | 'cluster-unmovable'
  | 'foreign-zone'
  | 'foreign-identity'
  | 'no-capacity'
  | 'moving-elsewhere'
  | 'foreign-delegation'
  | 'no-zone';

/** The result of {@link planOrganizationMove}. JSON data. @public */
export type MovePlan =
  | {
      readonly outcome: 'steps';
      readonly organization: string;
      readonly from: string;
      readonly to: string;
      readonly steps: readonly MoveStep[];
      /**
       * `draining`: phase 2 waits for the drain; `steps` then stop before `delete-source`, and a run
       * after `deleteSourceAt` finishes the move.
       */
      readonly phase: 'copy' | 'finish' | 'draining' | 'done';
      /** When the source zone may go (phase 2). */
      readonly deleteSourceAt?: string;
    }
  | {
      readonly outcome: 'refused';
      readonly organization: string;
      readonly from: string;
      readonly to: string;
      readonly reason: MoveRefusalReason;
      readonly message: string;
    };

/** Canonical key of a record set (name, type, set identifier). */
const keyOf = (r: RecordSet) => `${r.name.toLowerCase()}|${r.type}|${r.setIdentifier ?? ''}`;

/** The record set as the target zone should hold it (aliases into the source zone point at the target). */
function comparable(r: RecordSet, sourceZoneId: string, targetZoneId: string | null): string {
  const alias =
    r.aliasTarget === undefined
      ? null
      : {
          ...r.aliasTarget,
          hostedZoneId:
            r.aliasTarget.hostedZoneId === sourceZoneId
              ? (targetZoneId ?? '<target>')
              : r.aliasTarget.hostedZoneId,
        };
  return JSON.stringify([r.ttl ?? null, [...r.values].sort(), alias, r.providerFields ?? null]);
}

const isApex = (r: RecordSet, zoneName: string) =>
  r.name.replace(/\.$/, '').toLowerCase() === zoneName && (r.type === 'SOA' || r.type === 'NS');

const key = (values: readonly string[]) =>
  values
    .map((v) => v.replace(/\.$/, '').toLowerCase())
    .sort()
    .join(',');

/**
 * Plans the move of an organisation to `state.to`, or what is left of one: every outcome is data, a
 * refusal comes before any write. Deterministic.
 *
 * @example
 * ```ts
 * const plan = planOrganizationMove(state);
 * if (plan.outcome === 'steps') for (const s of plan.steps) console.log(s.op);
 * ```
 * @public
 */
export function planOrganizationMove(state: MoveState): MovePlan {
  const { organization, from, to, zoneName, record } = state;
  const base = { organization, from, to };
  const refuse = (reason: MoveRefusalReason, message: string): MovePlan => ({
    outcome: 'refused',
    ...base,
    reason,
    message,
  });

  // Phase 2: the record names the target, moved from the source.
  if (record !== undefined && record.account === to && record.movingTo === undefined) {
    if (record.movedFrom === undefined)
      return { outcome: 'steps', ...base, from: to, steps: [], phase: 'done' };
    const movedAt = Date.parse(record.delegationMovedAt ?? state.now);
    const deleteSourceAt = new Date(movedAt + state.drainMs).toISOString();
    const steps: MoveStep[] = [{ op: 'ensure-target', account: to }];
    // Clusters move at once (their ExternalDNS then writes to the target zone); only the source zone waits.
    for (const c of state.source.clusters)
      steps.push(
        {
          op: 'attach-cluster',
          clusterId: c.clusterId,
          ...(c.scope === undefined ? {} : { scope: c.scope }),
          ...(c.externalDns === undefined ? {} : { externalDns: c.externalDns }),
        },
        { op: 'release-cluster', account: record.movedFrom, clusterId: c.clusterId },
      );
    if (Date.parse(state.now) < movedAt + state.drainMs)
      return { outcome: 'steps', ...base, from: record.movedFrom, steps, phase: 'draining', deleteSourceAt };
    steps.push({ op: 'delete-source', account: record.movedFrom });
    // The source zone's deletion removes the parent's delegation when it names the source zone's name
    // servers. Those are not the target's on Route 53 (zones of two accounts); where they coincide (moto
    // gives every zone the same four), the delegation is written again right after: a short gap.
    const target = state.target.zones.find((z) => z.ours);
    const src = state.source.zone;
    if (target !== undefined && (src === undefined || key(src.nameServers) === key(target.nameServers))) {
      const d = state.parent.delegation;
      if (src !== undefined || d === undefined || key(d.values) !== key(target.nameServers))
        steps.push({
          op: 'upsert-delegation',
          parentZoneId: state.parent.zoneId,
          recordName: zoneName,
          ttl: d?.ttl ?? 300,
          nameServers: target.nameServers,
        });
    }
    steps.push({ op: 'mark-done', cas: record.version, data: { account: to } });
    return { outcome: 'steps', ...base, from: record.movedFrom, steps, phase: 'finish', deleteSourceAt };
  }

  // A finished copy to another account, still draining: that move is finished first.
  if (record?.movedFrom !== undefined && record.account !== to)
    return refuse(
      'moving-elsewhere',
      `${organization} was moved to account ${record.account} and that move is not finished (the old zone in ${record.movedFrom} drains); finish it first (run it again with ${record.account}).`,
    );
  if (from === to) return { outcome: 'steps', ...base, steps: [], phase: 'done' };
  if (record?.movingTo !== undefined && record.movingTo !== to)
    return refuse(
      'moving-elsewhere',
      `${organization} is being moved to account ${record.movingTo}; finish that move first (run it again with that account).`,
    );
  const unmovable = state.source.clusters.flatMap((c) =>
    !c.attached
      ? [`${c.clusterId} (bound but not attached: an attach or detach was interrupted; run it again)`]
      : c.keyless !== undefined
        ? [`${c.clusterId} (keyless, ${c.keyless}: its role is not moved)`]
        : c.tlsSecrets > 0
          ? [`${c.clusterId} (${c.tlsSecrets} TLS Secret(s) of the organisation's CA, which is issued anew)`]
          : [],
  );
  if (unmovable.length > 0)
    return refuse(
      'cluster-unmovable',
      `${organization} has clusters a move cannot take along: ${unmovable.join('; ')}. Detach them, move, attach them again.`,
    );
  const sourceZone = state.source.zone;
  if (sourceZone === undefined)
    return refuse('no-zone', `${organization} has no zone in account ${from}: there is nothing to move.`);
  const foreign = state.target.zones.filter((z) => !z.ours);
  if (foreign.length > 0)
    return refuse(
      'foreign-zone',
      `Account ${to} holds a zone named ${zoneName} that is not ${organization}'s (${foreign.map((z) => z.id).join(', ')}); zonekeeper never adopts it: remove it or choose another account.`,
    );
  if (state.target.foreignIdentity)
    return refuse(
      'foreign-identity',
      `Account ${to} holds an IAM identity at ${organization}'s names that zonekeeper did not create; it is never adopted: remove it or choose another account.`,
    );
  const delegationNow = state.parent.delegation;
  const targetKeys = state.target.zones.filter((z) => z.ours).map((z) => key(z.nameServers));
  if (
    delegationNow !== undefined &&
    key(delegationNow.values) !== key(sourceZone.nameServers) &&
    !targetKeys.includes(key(delegationNow.values))
  )
    return refuse(
      'foreign-delegation',
      `The parent's NS record for ${zoneName} names neither ${organization}'s zone in ${from} nor one in ${to}; zonekeeper never replaces it: fix the delegation first (doctor shows it).`,
    );
  const existing = [...state.target.zones].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))[0];
  if (existing === undefined && state.target.headroom < 1 && record?.movingTo !== to)
    return refuse('no-capacity', `Account ${to} has no room for ${organization}'s zone (quota or budget).`);

  const steps: MoveStep[] = [];
  let cas: number | null = record?.version ?? 0;
  if (record?.movingTo !== to) {
    steps.push({ op: 'mark-moving', cas: record?.version ?? 0, data: { account: from, movingTo: to } });
    cas = null;
  }
  const targetZoneId = existing?.id ?? null;
  if (existing === undefined) steps.push({ op: 'create-zone', zoneName }, { op: 'tag-zone', zoneId: null });
  else if (!existing.tagged) steps.push({ op: 'tag-zone', zoneId: existing.id });

  const wanted = state.source.records.filter((r) => !isApex(r, zoneName));
  const have = new Map(
    (existing === undefined ? [] : state.target.records)
      .filter((r) => !isApex(r, zoneName))
      .map((r) => [keyOf(r), r]),
  );
  const upsert = wanted.filter((r) => {
    const h = have.get(keyOf(r));
    return (
      h === undefined ||
      comparable(h, sourceZone.id, targetZoneId) !== comparable(r, sourceZone.id, targetZoneId)
    );
  });
  const wantedKeys = new Set(wanted.map(keyOf));
  const extra = [...have.values()].filter((r) => !wantedKeys.has(keyOf(r)));
  if (upsert.length > 0 || extra.length > 0)
    steps.push({
      op: 'copy-records',
      zoneId: targetZoneId,
      sourceZoneId: sourceZone.id,
      upsert,
      delete: extra,
    });

  const delegation = state.parent.delegation;
  const pointsAtTarget =
    existing !== undefined &&
    delegation !== undefined &&
    key(delegation.values) === key(existing.nameServers);
  if (!pointsAtTarget)
    steps.push({
      op: 'upsert-delegation',
      parentZoneId: state.parent.zoneId,
      recordName: zoneName,
      ttl: delegation?.ttl ?? 300,
      nameServers: existing?.nameServers ?? null,
    });
  steps.push({ op: 'mark-moved', cas, data: { account: to, movedFrom: from } });
  return { outcome: 'steps', ...base, steps, phase: 'copy' };
}
