/**
 * Several AWS accounts: one zonekeeper per account (its own Route 53 and IAM ports, so its own zone
 * quota, limiter and budget), organisations placed across them by {@link planPlacement}, every
 * operation on an organisation routed to its account.
 *
 * ```
 *  locate     the placement record (<secretPrefix>/placements/organizations/<org>, one read) ─► its account
 *             none: every account's zones (ListHostedZones, ours by tags) ─► planPlacement
 *  place      a new organisation: planned (refusals before any write), then holding the fleet's
 *             placement lock (<secretPrefix>/placements/lock): planned again, the record written with
 *             check-and-set "create only" (cas 0), its zone created in its account, the lock released —
 *             so the next placement counts that zone; a writer that loses the check-and-set follows
 *             the winner's record
 *  route      ensureOrganization, attachCluster (placing a new organisation), detachCluster,
 *             rotateCredentials, issueCertificate, describeOrganization, deleteOrganization,
 *             auditFleet of one organisation
 *  keep       records are never removed: an organisation deleted and created again returns to its
 *             account (removing a record while another process acts on the organisation could let a
 *             third place it anew, in another account)
 *  move       moveOrganization (./move.ts): holding the placement lock, the record marked
 *             { account: from, movingTo }, the zone and records copied, the delegation moved, the
 *             record { account: to, movedFrom }, the identity ensured in `to`, after the drain the
 *             source deleted and the record { account: to }; routed writes are refused while movingTo
 *  sweep      collectGarbage and auditFleet: every account, one after the other
 * ```
 *
 * What serialises two processes placing the same new organisation is the record's check-and-set in
 * the shared secret store — not the organisation lock, which is per account (each account has its own
 * secret prefix, so one account's orphan sweep never sees another account's secrets). Once the record
 * exists, every process routes the organisation to the same account, whose organisation lock then
 * serialises the writes as in a single account.
 *
 * The parent zone lives in one account (`parent.account`); the other accounts' providers are wrapped
 * so that the parent zone's reads and delegation writes go to the parent account.
 *
 * @packageDocumentation
 */

import {
  type CallOptions,
  type EnsureOptions,
  hasErrorCode,
  invalidInput,
  normalizeBaseDomain,
  normalizeHostedZoneId,
  pollUntil,
  signalOnly,
  systemClock,
  throwIfAborted,
  validateDryRun,
  validateOrganizationName,
  ZonekeeperError,
} from '@zonekeeper/core';
import { createMemoryCluster } from '@zonekeeper/externaldns-deployer';
import { type IdentityProvider, isManagedIdentity } from '@zonekeeper/iam-scoper';
import {
  createMemorySecretStore,
  createStoreLock,
  readAttachment,
  readClusterSettings,
} from '@zonekeeper/vault-keys';
import {
  batchRecordChanges,
  type ChangeInfo,
  DEFAULT_DELEGATION_TTL,
  type DnsProvider,
  gatherOrganizationZone,
  listManagedZones,
  organizationCallerReference,
  organizationZoneComment,
  type RecordSet,
  ZONEKEEPER_MANAGED_BY,
  ZoneTags,
  zoneOwnership,
} from '@zonekeeper/zone-manager';
import type { ZonekeeperConfig } from '../config.js';
import { defaultSecretPrefix, resolveContext } from '../context.js';
import { createMemoryInventory } from '../inventory.js';
import { clusterNames, organizationNames } from '../names.js';
import type {
  AttachClusterInput,
  AttachResult,
  AuditFleetOptions,
  AuditResult,
  CollectionResult,
  DetachResult,
  GarbageCollectorOptions,
  IssueCertificateInput,
  IssueCertificateResult,
  OrganizationDeletionResult,
  OrganizationDescription,
  OrganizationResult,
  OrganizationSummary,
  RotationResult,
  Zonekeeper,
} from '../results.js';
import { createZonekeeper } from '../zonekeeper.js';
import {
  type MoveCluster,
  type MovePlan,
  type MoveState,
  type MoveStep,
  planOrganizationMove,
} from './move.js';
import {
  type PlacedOrganization,
  type PlacementAccount,
  type PlacementPlan,
  planPlacement,
  validateAccountId,
} from './placement.js';

/** One AWS account of a fleet. @public */
export interface FleetAccount {
  /** The account's id: its 12-digit AWS account id, or a label (1–64 letters, digits, `-`, `_`). */
  readonly id: string;
  /**
   * The role zonekeeper assumes in the account (`arn:aws:iam::<account>:role/…`). Informative: build
   * `dns` and `identity` with that role's credentials. Checked: a 12-digit `id` must be the ARN's account.
   */
  readonly roleArn?: string;
  /**
   * The account's DNS provider (`createRoute53Provider` with the role's credentials and **its own**
   * `rateLimiter`: accounts whose providers share one limiter are refused, each account has its own budget).
   */
  readonly dns: DnsProvider;
  /** The account's identity provider (IAM with the role's credentials). Default: an embedded memory one. */
  readonly identity?: IdentityProvider;
  /** Hosted zones the account may hold (default 500, AWS's default quota). */
  readonly zoneQuota?: number;
  /** The most organisations the account's Route 53 budget carries (from `planFleetBudget`). Default: no bound. */
  readonly maxOrganizations?: number;
  /**
   * The account's secret prefix. Default `<secretPrefix>/accounts/<id>`; set the single-account
   * platform's prefix on the account that already holds its organisations to keep their secrets.
   */
  readonly secretPrefix?: string;
}

/**
 * Configuration of {@link createFleet}: a {@link ZonekeeperConfig} without the per-account ports, and the
 * accounts. The secret store, inventory, clusters and the rest are shared by every account.
 * @public
 */
export interface FleetConfig extends Omit<ZonekeeperConfig, 'dns' | 'identity' | 'parentZoneId'> {
  /** The accounts (at least one, ids unique). */
  readonly accounts: readonly FleetAccount[];
  /** The account holding the parent zone (default the first) and the zone's id (found by name when absent). */
  readonly parent?: { readonly account: string; readonly zoneId?: string };
}

/** The result of an operation routed to one account: the zonekeeper result and the account. @public */
export type InAccount<T> = T & { readonly account: string };

/** One account's part of a sweep: its result, or the error that stopped it (the other accounts still run). @public */
export type AccountSweep<T> =
  | { readonly account: string; readonly result: T }
  | { readonly account: string; readonly error: ZonekeeperError };

/** Where an organisation is, from {@link Fleet.locate}. JSON data. @public */
export type FleetLocation =
  | { readonly placed: true; readonly account: string; readonly source: 'record' | 'zone' }
  | { readonly placed: false };

/**
 * Options of {@link Fleet.runGarbageCollector}: those of one account's loop, with `onCollection` told
 * the account. A `lease` is taken per account, named `<name>-<account id>` (lower case, `_` as `-`).
 * @public
 */
export interface FleetGarbageCollectorOptions extends Omit<GarbageCollectorOptions, 'onCollection'> {
  readonly onCollection?: (outcome: {
    readonly account: string;
    readonly result?: CollectionResult;
    readonly error?: unknown;
  }) => void;
}

/** Options of {@link Fleet.moveOrganization}. @public */
export interface MoveOrganizationOptions extends EnsureOptions {
  /**
   * How long after the delegation moved the source zone is kept, so that resolvers that cached the old
   * delegation still get answers (default: the larger of the delegation's TTL and the source zone's apex
   * NS TTL, in ms). A run before then stops at `draining`; a run after it finishes the move.
   */
  readonly drainMs?: number;
}

/** The result of {@link Fleet.moveOrganization}. JSON data but for the instants. @public */
export interface MoveResult {
  readonly organization: string;
  readonly from: string;
  readonly to: string;
  /**
   * Where the move stands after this run: `moved` is complete; `draining` waits for `deleteSourceAt`;
   * `in-place`: the organisation was in `toAccount` already and nothing was written; `planned`: a dry run.
   */
  readonly status: 'moved' | 'draining' | 'planned' | 'in-place';
  readonly plan: MovePlan;
  /** The steps this run applied (none in a dry run). */
  readonly applied: readonly MoveStep['op'][];
  readonly deleteSourceAt?: Date;
}

/** A zonekeeper over several AWS accounts, from {@link createFleet}. @public */
export interface Fleet {
  readonly baseDomain: string;
  /**
   * Each account's zonekeeper, for reads. Write through the fleet: an account's own `ensureOrganization`
   * knows nothing of the others and could create an organisation a second time.
   */
  readonly accounts: readonly { readonly id: string; readonly zonekeeper: Zonekeeper }[];
  /** Where an organisation is (its record, else its zones in every account); writes nothing. */
  locate(organization: string, options?: CallOptions): Promise<FleetLocation>;
  /**
   * Where a new organisation would go, read only: {@link planPlacement} over every account (an
   * organisation already placed gets its account).
   */
  planPlacement(organization: string, options?: CallOptions): Promise<PlacementPlan>;
  /**
   * Ensures the organisation in its account. A new one is placed first — refused with `CONFLICT`
   * (`details.reason: 'no-capacity'`) before any write when no account has room — and ensured holding
   * the fleet's placement lock, so that concurrent placements count its zone.
   */
  ensureOrganization(organization: string, options?: EnsureOptions): Promise<InAccount<OrganizationResult>>;
  /** Places the organisation like {@link Fleet.ensureOrganization} and attaches the cluster in its account. */
  attachCluster(
    organization: string,
    input: AttachClusterInput,
    options?: EnsureOptions,
  ): Promise<InAccount<AttachResult>>;
  /** In the organisation's account; `NOT_FOUND` when it is placed nowhere. */
  detachCluster(
    organization: string,
    clusterId: string,
    options?: EnsureOptions & { readonly skipCluster?: boolean },
  ): Promise<InAccount<DetachResult>>;
  /** In the organisation's account; `NOT_FOUND` when it is placed nowhere. */
  rotateCredentials(organization: string, options?: CallOptions): Promise<InAccount<RotationResult>>;
  /** In the organisation's account; `NOT_FOUND` when it is placed nowhere. */
  issueCertificate(
    organization: string,
    input: IssueCertificateInput,
    options?: EnsureOptions,
  ): Promise<InAccount<IssueCertificateResult>>;
  /** Every account's organisations, each with its account (accounts in configuration order). */
  listOrganizations(options?: CallOptions): Promise<readonly InAccount<OrganizationSummary>[]>;
  /** In the organisation's account; `NOT_FOUND` when it is placed nowhere. */
  describeOrganization(
    organization: string,
    options?: CallOptions,
  ): Promise<InAccount<OrganizationDescription>>;
  /**
   * In the organisation's account; `NOT_FOUND` when it is placed nowhere. The placement record stays,
   * so an organisation created again under the same name returns to the same account.
   */
  deleteOrganization(
    organization: string,
    options?: EnsureOptions,
  ): Promise<InAccount<OrganizationDeletionResult>>;
  /** One collection in every account, one after the other. */
  collectGarbage(
    options?: EnsureOptions & { readonly now?: Date },
  ): Promise<{ readonly accounts: readonly AccountSweep<CollectionResult>[] }>;
  /**
   * Every account's collector loop, side by side (each with its own sleep, retries and lease); resolves
   * when `signal` stops them all, rejects with the first loop's error once all have stopped.
   */
  runGarbageCollector(options: FleetGarbageCollectorOptions): Promise<void>;
  /**
   * Moves an organisation to another account: its zone is created in `toAccount`, every record copied,
   * the parent's delegation moved, its identity, key and CA issued in `toAccount`, each attached
   * cluster's ExternalDNS rolled to `toAccount`'s key and zone, and — once resolvers that cached the old
   * delegation have let it go (`drainMs`) — the old zone, identity and secrets deleted. Holds the
   * fleet's placement lock; the placement record moves with check-and-set. Crash-safe: a re-run
   * continues where a crash stopped it. Refused (`CONFLICT`, `details.reason`, before any write) for a
   * cluster it cannot take along (keyless, with TLS Secrets, or only bound), a foreign zone or identity
   * at the organisation's names in `toAccount`, a foreign delegation, or no room.
   */
  moveOrganization(
    organization: string,
    toAccount: string,
    options?: MoveOrganizationOptions,
  ): Promise<MoveResult>;
  /** The audit of every account (`doctor`'s), or of one organisation's account. */
  auditFleet(
    options?: AuditFleetOptions,
  ): Promise<{ readonly accounts: readonly AccountSweep<AuditResult>[] }>;
}

const ROLE_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):role\/[\w+=,.@/-]{1,512}$/;

/** The folders a zonekeeper lists under its secret prefix (its sweeps and audits read nothing else). */
const LAYOUT_FOLDERS = ['orgs', 'clusters', 'locks', 'acme'] as const;

/**
 * Whether two secret prefixes collide: equal, or one inside a folder the other lists. A prefix nested
 * elsewhere under another (`<root>/accounts/b` under a legacy account's `<root>`) is fine.
 */
function overlaps(a: string, b: string): boolean {
  const inside = (x: string, y: string) =>
    LAYOUT_FOLDERS.some((f) => x === `${y}/${f}` || x.startsWith(`${y}/${f}/`));
  return a === b || inside(a, b) || inside(b, a);
}

/** Whether a prefix is the placements folder, inside it, or holds it in a folder it lists. */
function overlapsPlacements(prefix: string, placements: string): boolean {
  return prefix === placements || prefix.startsWith(`${placements}/`) || overlaps(prefix, placements);
}

function stripChangeId(id: string): string {
  return id.startsWith('/change/') ? id.slice('/change/'.length) : id;
}

/**
 * A provider for an account that does not hold the parent zone: the parent zone's name and id are
 * answered by the parent account's provider, everything else by the account's own.
 * @internal
 */
export function withParentZoneOf(
  own: DnsProvider,
  parent: DnsProvider,
  parentName: string,
  parentZoneId: string | undefined,
): DnsProvider {
  const parentZones = new Set<string>(
    parentZoneId === undefined ? [] : [normalizeHostedZoneId(parentZoneId)],
  );
  const parentChanges = new Set<string>();
  const isParent = (zoneId: string) => parentZones.has(normalizeHostedZoneId(zoneId));
  const to = (zoneId: string) => (isParent(zoneId) ? parent : own);
  return {
    kind: own.kind,
    ...(own.pricing === undefined ? {} : { pricing: own.pricing }),
    listZones: (o) => own.listZones(o),
    async findZonesByName(name, o) {
      if (name.replace(/\.$/, '').toLowerCase() !== parentName) return own.findZonesByName(name, o);
      const found = await parent.findZonesByName(name, o);
      for (const z of found) parentZones.add(normalizeHostedZoneId(z.id));
      return found;
    },
    getZone: (id, o) => to(id).getZone(id, o),
    createZone: (spec, o) => own.createZone(spec, o),
    deleteZone: (id, o) => to(id).deleteZone(id, o),
    async getTags(ids, o) {
      const mine = ids.filter((id) => !isParent(id));
      const theirs = ids.filter((id) => isParent(id));
      const out = new Map(mine.length > 0 ? await own.getTags(mine, o) : []);
      if (theirs.length > 0) for (const [k, v] of await parent.getTags(theirs, o)) out.set(k, v);
      return out;
    },
    changeTags: (id, change, o) => to(id).changeTags(id, change, o),
    listRecords: (id, page, o) => to(id).listRecords(id, page, o),
    async changeRecords(id, changes, o) {
      if (!isParent(id)) return own.changeRecords(id, changes, o);
      const info = await parent.changeRecords(id, changes, o);
      parentChanges.add(stripChangeId(info.id));
      return info;
    },
    getChange: (id, o) => (parentChanges.has(stripChangeId(id)) ? parent : own).getChange(id, o),
  };
}

/**
 * Creates a zonekeeper over several AWS accounts. Validated here (`INVALID_INPUT`): at least one
 * account, unique ids, a role ARN of the account's own id, providers with their own limiters, secret
 * prefixes that do not overlap; nothing is sent anywhere until an operation runs.
 *
 * @example
 * ```ts
 * const fleet = createFleet({
 *   baseDomain: 'example.com',
 *   secrets, inventory, clusters,
 *   parent: { account: '111111111111' },
 *   accounts: [
 *     { id: '111111111111', dns: route53For('111111111111') },
 *     { id: '222222222222', roleArn: 'arn:aws:iam::222222222222:role/zonekeeper', dns: route53For('222222222222') },
 *   ],
 * });
 * const { account } = await fleet.ensureOrganization('acme');
 * ```
 * @public
 */
export function createFleet(config: FleetConfig): Fleet {
  if (typeof config !== 'object' || config === null)
    throw invalidInput('createFleet needs a configuration object with a baseDomain and accounts.');
  const { accounts: accountConfigs, parent: parentConfig, ...shared } = config;
  const baseDomain = normalizeBaseDomain(config.baseDomain);
  if (!Array.isArray(accountConfigs) || accountConfigs.length === 0)
    throw invalidInput('createFleet needs at least one account.');
  const root = config.secretPrefix ?? defaultSecretPrefix(baseDomain);
  const placementsRoot = `${root}/placements`;
  const ids = new Set<string>();
  const prefixes: { id: string; prefix: string }[] = [];
  const limiters = new Map<unknown, string>();
  for (const a of accountConfigs) {
    const id = validateAccountId(a?.id);
    if (ids.has(id)) throw invalidInput(`Account ${id} is listed twice.`);
    ids.add(id);
    if (typeof a.dns !== 'object' || a.dns === null)
      throw invalidInput(`Account ${id} needs a dns provider.`);
    if (a.roleArn !== undefined) {
      const m = typeof a.roleArn === 'string' ? ROLE_ARN.exec(a.roleArn) : null;
      if (!m) throw invalidInput(`Account ${id}: roleArn must be arn:aws:iam::<12 digits>:role/<name>.`);
      if (/^\d{12}$/.test(id) && m[1] !== id)
        throw invalidInput(`Account ${id}: roleArn ${a.roleArn} is a role of account ${m[1]}.`);
    }
    for (const [name, value, min] of [
      ['zoneQuota', a.zoneQuota, 1],
      ['maxOrganizations', a.maxOrganizations, 0],
    ] as const)
      if (value !== undefined && !(Number.isSafeInteger(value) && value >= min))
        throw invalidInput(`Account ${id}: ${name} must be an integer ≥ ${min}, got ${String(value)}.`);
    const limiter = (a.dns as { rateLimiter?: unknown }).rateLimiter;
    if (limiter !== undefined) {
      const other = limiters.get(limiter);
      if (other !== undefined)
        throw invalidInput(
          `Accounts ${other} and ${id} share one Route 53 rate limiter; each account has its own budget: give each provider its own (rateLimiter: createRoute53RateLimiter()).`,
        );
      limiters.set(limiter, id);
    }
    const prefix = a.secretPrefix ?? `${root}/accounts/${id}`;
    for (const p of prefixes)
      if (overlaps(p.prefix, prefix))
        throw invalidInput(`Account ${id}: its secret prefix ${prefix} overlaps ${p.id}'s (${p.prefix}).`);
    if (overlapsPlacements(prefix, placementsRoot))
      throw invalidInput(
        `Account ${id}: its secret prefix ${prefix} overlaps the placements (${placementsRoot}).`,
      );
    prefixes.push({ id, prefix });
  }
  const parentAccount = parentConfig?.account ?? accountConfigs[0]?.id;
  if (parentAccount === undefined || !ids.has(parentAccount))
    throw invalidInput(`parent.account ${String(parentAccount)} is not one of the accounts.`);
  const parentDns = accountConfigs.find((a) => a.id === parentAccount)?.dns as DnsProvider;

  // Shared by every account: one secret store (the placement records), one set of cluster clients.
  const secrets = config.secrets ?? createMemorySecretStore(config.clock ? { clock: config.clock } : {});
  const memoryClusters = new Map<string, ReturnType<typeof createMemoryCluster>>();
  const clusters: ZonekeeperConfig['clusters'] =
    config.clusters ??
    ((id: string) => {
      let c = memoryClusters.get(id);
      if (!c) {
        c = createMemoryCluster({ name: id, ...(config.clock ? { clock: config.clock } : {}) });
        memoryClusters.set(id, c);
      }
      return c;
    });

  const accounts = accountConfigs.map((a) => {
    const prefix = prefixes.find((p) => p.id === a.id)?.prefix as string;
    const dns =
      a.id === parentAccount ? a.dns : withParentZoneOf(a.dns, parentDns, baseDomain, parentConfig?.zoneId);
    const zonekeeper = createZonekeeper({
      ...shared,
      baseDomain,
      dns,
      ...(a.identity ? { identity: a.identity } : {}),
      ...(parentConfig?.zoneId === undefined ? {} : { parentZoneId: parentConfig.zoneId }),
      secrets,
      clusters,
      secretPrefix: prefix,
    });
    // The source side of a move: the same account, without the inventory. Its deleteOrganization
    // removes an organisation that lives on in another account (whose clusters the inventory lists
    // as running); it still refuses while a cluster is attached or bound in this account.
    let mover: Zonekeeper | undefined;
    const moverOf = () => {
      mover ??= createZonekeeper({
        ...shared,
        baseDomain,
        dns,
        ...(a.identity ? { identity: a.identity } : {}),
        ...(parentConfig?.zoneId === undefined ? {} : { parentZoneId: parentConfig.zoneId }),
        secrets,
        clusters,
        inventory: createMemoryInventory(),
        secretPrefix: prefix,
      });
      return mover;
    };
    return { id: a.id, zonekeeper, config: a, moverOf };
  });
  const byId = new Map(accounts.map((a) => [a.id, a]));
  // Names are checked as every account checks them (reserved names included), before any call: a
  // refused name must not leave a placement record behind.
  const names = resolveContext({ ...shared, baseDomain, dns: parentDns, secrets });
  const recordPath = (organization: string) =>
    `${placementsRoot}/organizations/${validateOrganizationName(organization)}`;
  const placementLockPath = `${placementsRoot}/lock`;

  async function readRecord(organization: string, call: CallOptions): Promise<string | undefined> {
    const found = await secrets.read(recordPath(organization), call);
    const account = found?.data.account;
    return account === undefined || account === '' ? undefined : account;
  }

  /** Refuses a write routed to an organisation whose move is under way (`CONFLICT`, `moving`). */
  async function refuseWhileMoving(organization: string, call: CallOptions): Promise<void> {
    const found = await secrets.read(recordPath(organization), call);
    const to = found?.data.movingTo;
    if (to !== undefined && to !== '')
      throw new ZonekeeperError(
        'CONFLICT',
        `${organization} is being moved from account ${found?.data.account} to ${to}; finish the move (moveOrganization to ${to}) and run this again.`,
        { details: { organization, reason: 'moving', accounts: [found?.data.account ?? '', to] } },
      );
  }

  /** Every account's zones: how many, and which organisations ours are for. */
  async function gatherAccounts(call: CallOptions) {
    const accountFacts: PlacementAccount[] = [];
    const placed: PlacedOrganization[] = [];
    for (const a of accounts) {
      throwIfAborted(call.signal);
      const dns = a.zonekeeper.ports.dns;
      const zones = await dns.listZones(call);
      const ours = await listManagedZones(
        { dns, ...(config.clock ? { clock: config.clock } : {}) },
        { baseDomain, ...call },
      );
      accountFacts.push({
        id: a.id,
        zonesInUse: zones.length,
        ...(a.config.zoneQuota === undefined ? {} : { zoneQuota: a.config.zoneQuota }),
        ...(a.config.maxOrganizations === undefined ? {} : { maxOrganizations: a.config.maxOrganizations }),
      });
      for (const z of ours) placed.push({ organization: z.organization, account: a.id, source: 'zone' });
    }
    return { accountFacts, placed };
  }

  async function plan(organization: string, call: CallOptions): Promise<PlacementPlan> {
    const org = validateOrganizationName(organization);
    const { accountFacts, placed } = await gatherAccounts(call);
    const recorded = await readRecord(org, call);
    return planPlacement({
      accounts: accountFacts,
      placed:
        recorded === undefined
          ? placed
          : [...placed, { organization: org, account: recorded, source: 'record' }],
      organization: org,
    });
  }

  function refusal(p: Extract<PlacementPlan, { outcome: 'refused' }>): ZonekeeperError {
    return new ZonekeeperError('CONFLICT', p.message, {
      details: { organization: p.organization, reason: p.reason, accounts: p.accounts, headroom: p.headroom },
    });
  }

  async function locate(organization: string, options: CallOptions = {}): Promise<FleetLocation> {
    const org = validateOrganizationName(organization);
    const call = signalOnly(options);
    const recorded = await readRecord(org, call);
    if (recorded !== undefined) {
      if (!byId.has(recorded))
        throw new ZonekeeperError(
          'CONFLICT',
          `${org} is placed in account ${recorded}, which is not configured; configure it (a placed organisation never moves).`,
          { details: { organization: org, reason: 'unknown-account', accounts: [recorded] } },
        );
      return { placed: true, account: recorded, source: 'record' };
    }
    const where: string[] = [];
    for (const a of accounts) {
      const dns = a.zonekeeper.ports.dns;
      const zoneName = `${org}.${baseDomain}`;
      const candidates = (await dns.findZonesByName(zoneName, call)).filter((z) => !z.privateZone);
      const tags =
        candidates.length === 0
          ? new Map()
          : await dns.getTags(candidates.map((z) => z.id).slice(0, 10), call);
      if (
        candidates.some(
          (z) =>
            tags.get(z.id)?.[ZoneTags.managedBy] === ZONEKEEPER_MANAGED_BY &&
            tags.get(z.id)?.[ZoneTags.organization] === org,
        )
      )
        where.push(a.id);
    }
    if (where.length > 1)
      throw new ZonekeeperError(
        'CONFLICT',
        `${org} has zones in ${where.length} accounts (${where.join(', ')}).`,
        {
          details: { organization: org, reason: 'placed-in-several-accounts', accounts: where },
        },
      );
    const [account] = where;
    return account === undefined ? { placed: false } : { placed: true, account, source: 'zone' };
  }

  let lockCounter = 0;
  const holderId = `${process.pid}-${Math.floor((config.random ?? Math.random)() * 36 ** 8).toString(36)}`;

  /**
   * Runs `run` in the organisation's account. A new organisation (no record) is placed holding the
   * fleet's placement lock: the record is written and `create` runs in its account (creating its zone)
   * before the lock is released, so the next placement counts its zone. A dry run takes no lock and
   * writes nothing.
   */
  async function placed<T>(
    organization: string,
    options: EnsureOptions,
    clusterId: unknown,
    run: (zk: Zonekeeper) => Promise<T>,
    create: 'run' | ((zk: Zonekeeper) => Promise<unknown>),
  ): Promise<InAccount<T>> {
    const org =
      clusterId === undefined
        ? organizationNames(names, organization).organization
        : clusterNames(names, organization, clusterId).organization;
    const dryRun = validateDryRun(options);
    const call = signalOnly(options);
    if (!dryRun) await refuseWhileMoving(org, call);
    const found = await locate(org, call);
    if (found.placed && found.source === 'record') return at(found.account, run);
    const choose = async (where: FleetLocation): Promise<string> => {
      if (where.placed) return where.account;
      const p = await plan(org, call);
      if (p.outcome === 'refused') throw refusal(p);
      return p.account;
    };
    // Refusals (no capacity, an account that cannot be read) come before any write, the lock's too.
    const planned = await choose(found);
    if (dryRun) return at(planned, run);

    lockCounter += 1;
    const lock = createStoreLock(secrets, placementLockPath, {
      holder: `${holderId}:${lockCounter}`,
      purpose: `place ${org}`,
      ttlMs: config.locks?.ttlMs ?? 60_000,
      owner: baseDomain,
      ...(config.clock ? { clock: config.clock } : {}),
    });
    await lock.acquire({
      ...call,
      waitTimeoutMs: config.locks?.waitTimeoutMs ?? 600_000,
      ...(config.locks?.pollMs === undefined ? {} : { pollMs: config.locks.pollMs }),
    });
    let account: string;
    let created: { readonly result: T } | undefined;
    try {
      // Placed while this process waited for the lock?
      const again = await locate(org, call);
      if (again.placed && again.source === 'record') account = again.account;
      else {
        account = await choose(again);
        try {
          await secrets.write(recordPath(org), { account }, { ...call, cas: 0 });
        } catch (error) {
          // A writer that does not take the lock (or took it over after expiry) placed it first.
          if (!hasErrorCode(error, 'CONFLICT')) throw error;
          const theirs = await readRecord(org, call);
          if (theirs === undefined || !byId.has(theirs)) throw error;
          account = theirs;
        }
        const zk = (byId.get(account) as (typeof accounts)[number]).zonekeeper;
        if (!again.placed) {
          if (create === 'run') created = { result: await run(zk) };
          else await create(zk);
        }
      }
    } finally {
      await lock.release();
    }
    return created ? { ...created.result, account } : at(account, run);
  }

  async function existing(
    organization: string,
    options: CallOptions & { readonly dryRun?: boolean },
    write = false,
  ): Promise<(typeof accounts)[number]> {
    if (write && options.dryRun !== true)
      await refuseWhileMoving(validateOrganizationName(organization), signalOnly(options));
    const found = await locate(organization, signalOnly(options));
    if (!found.placed)
      throw new ZonekeeperError('NOT_FOUND', `${organization} is placed in no account.`, {
        details: { organization },
      });
    return byId.get(found.account) as (typeof accounts)[number];
  }

  const at = async <T>(account: string, run: (zk: Zonekeeper) => Promise<T>): Promise<InAccount<T>> => ({
    ...(await run((byId.get(account) as (typeof accounts)[number]).zonekeeper)),
    account,
  });

  async function sweep<T>(run: (zk: Zonekeeper) => Promise<T>): Promise<AccountSweep<T>[]> {
    const out: AccountSweep<T>[] = [];
    for (const a of accounts) {
      try {
        out.push({ account: a.id, result: await run(a.zonekeeper) });
      } catch (error) {
        if (error instanceof ZonekeeperError && error.code !== 'INVALID_INPUT')
          out.push({ account: a.id, error });
        else throw error;
      }
    }
    return out;
  }

  const clock = config.clock ?? systemClock;

  /** Every record set of a zone, page by page. */
  async function allRecords(dns: DnsProvider, zoneId: string, call: CallOptions): Promise<RecordSet[]> {
    const out: RecordSet[] = [];
    let from: Parameters<DnsProvider['listRecords']>[1] = {};
    for (;;) {
      const page = await dns.listRecords(zoneId, from, call);
      out.push(...page.recordSets);
      if (!page.next) return out;
      from = { from: page.next };
    }
  }

  async function waitInsync(dns: DnsProvider, change: ChangeInfo, what: string, call: CallOptions) {
    if (change.status === 'INSYNC') return;
    await pollUntil(
      async () => {
        const c = await dns.getChange(change.id, call);
        return c.status === 'INSYNC' ? { done: true, value: c } : { done: false };
      },
      { clock, timeoutMs: 300_000, initialDelayMs: 1_000, maxDelayMs: 15_000, what, ...call },
    );
  }

  /** The move's gather: the record, both accounts' zones and records, the parent's delegation. */
  async function gatherMove(
    org: string,
    to: string,
    options: MoveOrganizationOptions,
    call: CallOptions,
  ): Promise<MoveState> {
    const zoneName = `${org}.${baseDomain}`;
    const raw = await secrets.read(recordPath(org), call);
    const data = raw?.data ?? {};
    const record =
      raw === undefined || data.account === undefined || data.account === ''
        ? undefined
        : {
            version: raw.version,
            account: data.account,
            ...(data.movingTo ? { movingTo: data.movingTo } : {}),
            ...(data.movedFrom ? { movedFrom: data.movedFrom } : {}),
            ...(data.delegationMovedAt ? { delegationMovedAt: data.delegationMovedAt } : {}),
          };
    let from: string;
    if (record !== undefined) from = record.movedFrom ?? record.account;
    else {
      const where = await locate(org, call);
      if (!where.placed)
        throw new ZonekeeperError('NOT_FOUND', `${org} is placed in no account.`, {
          details: { organization: org },
        });
      from = where.account;
    }
    const source = byId.get(from) as (typeof accounts)[number];
    const target = byId.get(to) as (typeof accounts)[number];
    const zoneState = await gatherOrganizationZone(
      {
        zoneName,
        baseDomain,
        ...(parentConfig?.zoneId === undefined ? {} : { parentZoneId: parentConfig.zoneId }),
      },
      source.zonekeeper.ports.dns,
      call,
    );
    const sourceZone = zoneState.zones
      .filter((z) => zoneOwnership(z, zoneName, org) === 'ours')
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))[0];
    const sourceRecords = sourceZone
      ? await allRecords(source.zonekeeper.ports.dns, sourceZone.id, call)
      : [];
    const clusters: MoveCluster[] = [];
    for (const c of await source.zonekeeper.listClusters({ organization: org, ...call })) {
      if (!c.attached && !c.bound) continue;
      const layout = { ...source.zonekeeper.secretLayout, ...call };
      const attachment = c.attached
        ? await readAttachment(source.zonekeeper.ports.secrets, org, c.clusterId, layout)
        : undefined;
      const recorded = c.attached
        ? await readClusterSettings(source.zonekeeper.ports.secrets, org, c.clusterId, layout)
        : undefined;
      const externalDns = recorded?.settings.externalDns;
      clusters.push({
        clusterId: c.clusterId,
        attached: attachment !== undefined,
        ...(attachment ? { scope: attachment.scope } : {}),
        ...(typeof externalDns === 'object' && externalDns !== null
          ? { externalDns: externalDns as Record<string, unknown> }
          : {}),
        ...(attachment?.credentials ? { keyless: attachment.credentials.mode } : {}),
        tlsSecrets: attachment?.tlsSecrets.length ?? 0,
      });
    }

    const tdns = target.zonekeeper.ports.dns;
    const listed = (await tdns.findZonesByName(zoneName, call)).filter(
      (z) => !z.privateZone && z.name.replace(/\.$/, '').toLowerCase() === zoneName,
    );
    const tags =
      listed.length === 0
        ? new Map()
        : await tdns.getTags(
            listed.map((z) => z.id),
            call,
          );
    const targetZones: MoveState['target']['zones'][number][] = [];
    for (const z of listed) {
      const details = await tdns.getZone(z.id, call);
      if (!details) continue;
      const zoneTags = tags.get(z.id) ?? {};
      targetZones.push({
        id: z.id,
        ours: zoneOwnership({ callerReference: z.callerReference, tags: zoneTags }, zoneName, org) === 'ours',
        tagged:
          zoneTags[ZoneTags.managedBy] === ZONEKEEPER_MANAGED_BY && zoneTags[ZoneTags.organization] === org,
        nameServers: details.nameServers,
      });
    }
    const oursInTarget = targetZones.filter((z) => z.ours).sort((a, b) => (a.id < b.id ? -1 : 1))[0];
    const targetRecords = oursInTarget ? await allRecords(tdns, oursInTarget.id, call) : [];
    const userName = organizationNames(names, org).userName;
    const user = await target.zonekeeper.ports.identity.getUser(userName, call);
    // An account that cannot be read leaves the target's headroom unknown (0: refused as no-capacity).
    const placement = await plan(org, call).catch((error: unknown) => {
      if (call.signal?.aborted) throw error;
      return undefined;
    });
    const headroom = placement?.headroom.find((h) => h.account === to)?.headroom ?? 0;

    const apexNsTtl = sourceRecords.find(
      (r) => r.type === 'NS' && r.name.replace(/\.$/, '').toLowerCase() === zoneName,
    )?.ttl;
    const delegationTtl = zoneState.delegation?.ttl ?? DEFAULT_DELEGATION_TTL;
    const drainMs = options.drainMs ?? Math.max(delegationTtl, apexNsTtl ?? 0) * 1000;
    return {
      organization: org,
      zoneName,
      to,
      ...(record ? { record } : {}),
      from,
      source: {
        ...(sourceZone ? { zone: { id: sourceZone.id, nameServers: sourceZone.nameServers } } : {}),
        records: sourceRecords,
        clusters,
      },
      target: {
        zones: targetZones,
        records: targetRecords,
        foreignIdentity: user !== undefined && !isManagedIdentity(user.tags),
        headroom,
      },
      parent: {
        zoneId: zoneState.parent.id,
        ...(zoneState.delegation ? { delegation: zoneState.delegation } : {}),
      },
      drainMs,
      now: clock.now().toISOString(),
    };
  }

  /** Applies a move plan step by step (each write a crash point); returns the ops applied. */
  async function applyMove(
    p: Extract<MovePlan, { outcome: 'steps' }>,
    call: CallOptions,
  ): Promise<MoveStep['op'][]> {
    const applied: MoveStep['op'][] = [];
    const source = byId.get(p.from) as (typeof accounts)[number];
    const target = byId.get(p.to) as (typeof accounts)[number];
    const tdns = target.zonekeeper.ports.dns;
    let version: number | undefined;
    let created: { id: string; nameServers: readonly string[]; submittedAt?: Date } | undefined;
    const zoneIdOf = (id: string | null) => {
      if (id !== null) return id;
      if (!created)
        throw new ZonekeeperError('INTERNAL', 'A move step refers to a zone that was not created.');
      return created.id;
    };
    for (const step of p.steps) {
      throwIfAborted(call.signal);
      switch (step.op) {
        case 'mark-moving':
          version = (
            await secrets.write(recordPath(p.organization), { ...step.data }, { ...call, cas: step.cas })
          ).version;
          break;
        case 'create-zone': {
          const result = await tdns.createZone(
            {
              name: step.zoneName,
              callerReference: organizationCallerReference(
                step.zoneName,
                clock.now(),
                Math.floor((config.random ?? Math.random)() * 36 ** 8).toString(36),
              ),
              comment: organizationZoneComment(p.organization),
            },
            call,
          );
          created = {
            id: result.zone.id,
            nameServers: result.nameServers,
            ...(result.change.submittedAt ? { submittedAt: result.change.submittedAt } : {}),
          };
          break;
        }
        case 'tag-zone':
          await tdns.changeTags(
            zoneIdOf(step.zoneId),
            {
              add: {
                [ZoneTags.managedBy]: ZONEKEEPER_MANAGED_BY,
                [ZoneTags.organization]: p.organization,
                [ZoneTags.createdAt]: (created?.submittedAt ?? clock.now()).toISOString(),
              },
            },
            call,
          );
          break;
        case 'copy-records': {
          const zoneId = zoneIdOf(step.zoneId);
          const rewrite = (r: RecordSet): RecordSet =>
            r.aliasTarget?.hostedZoneId === step.sourceZoneId
              ? { ...r, aliasTarget: { ...r.aliasTarget, hostedZoneId: zoneId } }
              : r;
          for (const [action, list] of [
            ['UPSERT', step.upsert.map(rewrite)],
            ['DELETE', step.delete],
          ] as const)
            for (const batch of batchRecordChanges(list)) {
              const change = await tdns.changeRecords(
                zoneId,
                batch.map((recordSet) => ({ action, recordSet })),
                { ...call, comment: `zonekeeper: move ${p.organization} from ${p.from}` },
              );
              await waitInsync(tdns, change, `records of ${p.organization} copied to ${p.to}`, call);
            }
          break;
        }
        case 'upsert-delegation': {
          const nameServers = step.nameServers ?? created?.nameServers;
          if (!nameServers)
            throw new ZonekeeperError('INTERNAL', 'The move has no name servers to delegate to.');
          // Through the target's provider: the parent zone's writes go to the parent account.
          const change = await tdns.changeRecords(
            step.parentZoneId,
            [
              {
                action: 'UPSERT',
                recordSet: {
                  name: step.recordName,
                  type: 'NS',
                  ttl: step.ttl,
                  values: nameServers.map((n) => (n.endsWith('.') ? n : `${n}.`)),
                },
              },
            ],
            { ...call, comment: `zonekeeper: delegate ${step.recordName} to account ${p.to}` },
          );
          await waitInsync(tdns, change, `delegation of ${step.recordName}`, call);
          break;
        }
        case 'mark-moved':
          version = (
            await secrets.write(
              recordPath(p.organization),
              { ...step.data, delegationMovedAt: clock.now().toISOString() },
              { ...call, cas: step.cas ?? (version as number) },
            )
          ).version;
          break;
        case 'ensure-target':
          await target.zonekeeper.ensureOrganization(p.organization, call);
          break;
        case 'attach-cluster':
          await target.zonekeeper.attachCluster(
            p.organization,
            {
              clusterId: step.clusterId,
              ...(step.scope === undefined ? {} : { identityScope: step.scope }),
              ...(step.externalDns === undefined
                ? {}
                : { externalDns: step.externalDns as AttachClusterInput['externalDns'] & object }),
            },
            call,
          );
          break;
        case 'release-cluster':
          await source.zonekeeper.detachCluster(p.organization, step.clusterId, {
            ...call,
            skipCluster: true,
          });
          break;
        case 'delete-source':
          await source.moverOf().deleteOrganization(p.organization, call);
          break;
        case 'mark-done':
          await secrets.write(
            recordPath(p.organization),
            { ...step.data },
            { ...call, cas: step.cas ?? (version as number) },
          );
          break;
      }
      applied.push(step.op);
    }
    return applied;
  }

  async function moveOrganization(
    organization: string,
    toAccount: string,
    options: MoveOrganizationOptions = {},
  ): Promise<MoveResult> {
    const org = organizationNames(names, organization).organization;
    const to = validateAccountId(toAccount);
    if (!byId.has(to)) throw invalidInput(`Account ${to} is not one of the fleet's accounts.`);
    if (options.drainMs !== undefined && !(Number.isSafeInteger(options.drainMs) && options.drainMs >= 0))
      throw invalidInput(`drainMs must be an integer ≥ 0, got ${String(options.drainMs)}.`);
    const dryRun = validateDryRun(options);
    const call = signalOnly(options);
    const result = (p: MovePlan, applied: readonly MoveStep['op'][]): MoveResult => {
      if (p.outcome === 'refused')
        throw new ZonekeeperError('CONFLICT', p.message, {
          details: { organization: org, reason: p.reason, accounts: [p.from, p.to] },
        });
      return {
        organization: org,
        from: p.from,
        to: p.to,
        status: dryRun
          ? 'planned'
          : p.phase === 'draining'
            ? 'draining'
            : p.phase === 'done' && applied.length === 0
              ? 'in-place'
              : 'moved',
        plan: p,
        applied,
        ...(p.deleteSourceAt ? { deleteSourceAt: new Date(p.deleteSourceAt) } : {}),
      };
    };
    // Refusals come before the lock and any write.
    const first = planOrganizationMove(await gatherMove(org, to, options, call));
    if (dryRun || first.outcome === 'refused' || (first.phase === 'done' && first.steps.length === 0))
      return result(first, []);
    lockCounter += 1;
    const lock = createStoreLock(secrets, placementLockPath, {
      holder: `${holderId}:${lockCounter}`,
      purpose: `move ${org} to ${to}`,
      ttlMs: config.locks?.ttlMs ?? 60_000,
      owner: baseDomain,
      ...(config.clock ? { clock: config.clock } : {}),
    });
    await lock.acquire({
      ...call,
      waitTimeoutMs: config.locks?.waitTimeoutMs ?? 600_000,
      ...(config.locks?.pollMs === undefined ? {} : { pollMs: config.locks.pollMs }),
    });
    try {
      // Gathered and planned again under the lock (another move may have run meanwhile), and again
      // after the copy phase: its last write (the record naming the target) starts the finish phase.
      const held: CallOptions = {
        signal: call.signal ? AbortSignal.any([call.signal, lock.lost]) : lock.lost,
      };
      const applied: MoveStep['op'][] = [];
      for (let round = 0; ; round++) {
        const p = planOrganizationMove(await gatherMove(org, to, options, held));
        if (p.outcome === 'refused' || round === 2) return result(p, applied);
        applied.push(...(await applyMove(p, held)));
        if (p.phase !== 'copy') return result(p, applied);
      }
    } finally {
      await lock.release();
    }
  }

  return {
    baseDomain,
    accounts: accounts.map((a) => ({ id: a.id, zonekeeper: a.zonekeeper })),
    locate,
    planPlacement: (organization, options = {}) => plan(organization, signalOnly(options)),
    ensureOrganization: (organization, options = {}) =>
      placed(organization, options, undefined, (zk) => zk.ensureOrganization(organization, options), 'run'),
    attachCluster: (organization, input, options = {}) =>
      placed(
        organization,
        options,
        input?.clusterId ?? '',
        (zk) => zk.attachCluster(organization, input, options),
        (zk) =>
          zk.ensureOrganization(organization, { ...(options.signal ? { signal: options.signal } : {}) }),
      ),
    detachCluster: async (organization, clusterId, options = {}) =>
      at((await existing(organization, options, true)).id, (zk) =>
        zk.detachCluster(organization, clusterId, options),
      ),
    rotateCredentials: async (organization, options = {}) =>
      at((await existing(organization, options, true)).id, (zk) =>
        zk.rotateCredentials(organization, options),
      ),
    issueCertificate: async (organization, input, options = {}) =>
      at((await existing(organization, options, true)).id, (zk) =>
        zk.issueCertificate(organization, input, options),
      ),
    async listOrganizations(options = {}) {
      const out: InAccount<OrganizationSummary>[] = [];
      for (const a of accounts)
        for (const o of await a.zonekeeper.listOrganizations(options)) out.push({ ...o, account: a.id });
      return out;
    },
    describeOrganization: async (organization, options = {}) =>
      at((await existing(organization, options)).id, (zk) => zk.describeOrganization(organization, options)),
    deleteOrganization: async (organization, options = {}) =>
      at((await existing(organization, options, true)).id, (zk) =>
        zk.deleteOrganization(organization, options),
      ),
    moveOrganization,
    collectGarbage: async (options) => ({ accounts: await sweep((zk) => zk.collectGarbage(options)) }),
    async runGarbageCollector(options) {
      const { onCollection, lease, ...rest } = options ?? ({} as FleetGarbageCollectorOptions);
      const outcomes = await Promise.allSettled(
        accounts.map((a) =>
          a.zonekeeper.runGarbageCollector({
            ...rest,
            ...(lease
              ? {
                  lease: {
                    ...lease,
                    name: `${lease.name ?? 'zonekeeper-gc'}-${a.id.toLowerCase().replaceAll('_', '-')}`,
                  },
                }
              : {}),
            ...(onCollection ? { onCollection: (o) => onCollection({ ...o, account: a.id }) } : {}),
          } as GarbageCollectorOptions),
        ),
      );
      const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
      if (failed) throw failed.reason;
    },
    async auditFleet(options = {}) {
      if (options.organization === undefined)
        return { accounts: await sweep((zk) => zk.auditFleet(options)) };
      const { id, zonekeeper } = await existing(options.organization, options);
      return { accounts: [{ account: id, result: await zonekeeper.auditFleet(options) }] };
    },
  };
}
