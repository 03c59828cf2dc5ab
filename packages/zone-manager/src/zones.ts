/**
 * The zone operations: gather → pure plan → apply around a {@link DnsProvider}.
 *
 * ```
 *  ensureOrganizationZone   ListHostedZonesByName(<org>.<base>) ─► ListTagsForResources ─► GetHostedZone (each)
 *                           parent: GetHostedZone(parentZoneId) | ListHostedZonesByName(<base>)
 *                           delegation: ListResourceRecordSets(parent, from <org>.<base> NS, 1 item)
 *                           ─► planOrganizationZone ─► create-zone, tag-zone, upsert-delegation (+ wait
 *                              INSYNC), delete-duplicate-zone
 *  deleteOrganizationZone   GetHostedZone ─► ListTagsForResources ─► parents' delegation ─► all records
 *                           ─► planZoneDeletion ─► delete-delegation (+ wait INSYNC), delete-records…,
 *                              delete-zone
 *  listManagedZones         ListHostedZones (pages of 100) ─► ListTagsForResources (10 zones per call)
 * ```
 *
 * @packageDocumentation
 */

import {
  applySteps,
  type CallOptions,
  createConcurrencyLimit,
  type EnsureOptions,
  ensure,
  hasErrorCode,
  noopLogger,
  normalizeBaseDomain,
  organizationZoneName,
  pollUntil,
  type RuntimeDeps,
  signalOnly,
  systemClock,
  throwIfAborted,
  toFqdn,
  validateOrganizationName,
  ZonekeeperError,
} from '@zonekeeper/core';
import { nameServerKey, normalizeZoneId } from './names.js';
import { isManagedTagged, parseCreatedAt, readCallerReference, ZoneTags } from './ownership.js';
import { planZoneDeletion, type ZoneDeletionPlan, type ZoneDeletionState } from './plan-deletion.js';
import {
  DEFAULT_DELEGATION_TTL,
  type ObservedZone,
  type OrganizationZonePlan,
  type OrganizationZoneState,
  type OrganizationZoneStep,
  planOrganizationZone,
} from './plan-zone.js';
import type { ChangeInfo, DnsProvider, HostedZone, RecordSet, Tags } from './ports.js';

/** Dependencies of the zone operations. @public */
export interface ZoneManagerDeps extends RuntimeDeps {
  /** The DNS provider (memory, or Route 53 from `@zonekeeper/zone-manager/route53`). */
  readonly dns: DnsProvider;
  /** Random source for new CallerReferences, in [0, 1) (default `Math.random`). */
  readonly random?: () => number;
}

/** How long and how often to poll a change until it is `INSYNC`. @public */
export interface SyncOptions {
  /** Wait for delegation changes to be `INSYNC` (default true). */
  readonly waitForSync?: boolean;
  /** Give up after this long with `TIMEOUT` (default 300 000 ms; Route 53 usually needs under 60 s). */
  readonly syncTimeoutMs?: number;
  /** First delay between polls (default 1 000 ms), doubled up to `syncMaxDelayMs`. */
  readonly syncInitialDelayMs?: number;
  /** Longest delay between polls (default 15 000 ms). */
  readonly syncMaxDelayMs?: number;
}

/** Input of {@link ensureOrganizationZone}. @public */
export interface EnsureOrganizationZoneInput {
  /** The organisation: a lowercase DNS label. */
  readonly organization: string;
  /** The parent domain, e.g. `example.com`; the zone is `<organization>.<baseDomain>`. */
  readonly baseDomain: string;
  /** The parent zone's id; found by name when absent (it must then be the only public zone of that name). */
  readonly parentZoneId?: string;
  /** TTL of the delegation NS record in seconds (default 300). */
  readonly delegationTtl?: number;
}

/** Options of {@link ensureOrganizationZone}. @public */
export interface EnsureOrganizationZoneOptions extends EnsureOptions, SyncOptions {}

/** The organisation's canonical zone. @public */
export interface OrganizationZone {
  readonly id: string;
  readonly name: string;
  readonly nameServers: readonly string[];
  /** When Route 53 accepted its creation (`zonekeeper:created-at`), when known. */
  readonly createdAt?: Date;
}

/** Result of {@link ensureOrganizationZone}. @public */
export interface EnsureOrganizationZoneResult {
  readonly plan: OrganizationZonePlan;
  /** The canonical zone after the run; absent in a dry run that would create it. */
  readonly zone?: OrganizationZone;
  /**
   * Every other zonekeeper zone of this organisation found by the run (for cleanup). Those with a
   * `delete-duplicate-zone` step were deleted (unless `dryRun`); the others are not empty or are protected.
   */
  readonly duplicates: readonly string[];
  readonly dryRun: boolean;
}

/** A zone zonekeeper manages, from {@link listManagedZones}. @public */
export interface ManagedZone {
  readonly id: string;
  readonly name: string;
  /** The `zonekeeper:organization` tag. */
  readonly organization: string;
  /** The `zonekeeper:created-at` tag, when present and valid. */
  readonly createdAt?: Date;
  /** `zonekeeper:protected` is `true`. */
  readonly protected: boolean;
  readonly callerReference: string;
}

/** Options of {@link listManagedZones}. @public */
export interface ListManagedZonesOptions extends CallOptions {
  /** Only zones directly under this domain (`<label>.<baseDomain>`); only those are tag-queried. */
  readonly baseDomain?: string;
  /**
   * Tag reads in flight at once (default {@link DEFAULT_READ_CONCURRENCY}); they start as the listing's
   * pages arrive. Every call still waits for the provider's rate limiter.
   */
  readonly concurrency?: number;
}

/**
 * Independent reads a sweep keeps in flight by default: enough to keep Route 53's account bucket
 * (10 requests/s) busy at 300 ms per call, few enough not to queue a sweep's every read at once.
 * @public
 */
export const DEFAULT_READ_CONCURRENCY = 8;

/** Options of {@link deleteOrganizationZone}. @public */
export interface DeleteOrganizationZoneOptions extends EnsureOptions, SyncOptions {}

/** Result of {@link deleteOrganizationZone}. @public */
export interface DeleteOrganizationZoneResult {
  readonly plan: ZoneDeletionPlan;
  readonly dryRun: boolean;
}

const TAG_BATCH = 10;
const RECORD_PAGE = 300;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function validateSyncOptions(options: SyncOptions): void {
  for (const key of ['syncTimeoutMs', 'syncInitialDelayMs', 'syncMaxDelayMs'] as const) {
    const v = options[key];
    if (v !== undefined && !(Number.isFinite(v) && v > 0)) {
      throw new ZonekeeperError(
        'INVALID_INPUT',
        `${key} must be a positive number of milliseconds, got ${String(v)}.`,
      );
    }
  }
}

/** Tags of many zones, 10 per call. */
async function tagsOf(
  dns: DnsProvider,
  ids: readonly string[],
  options: CallOptions,
): Promise<Map<string, Tags>> {
  const all = new Map<string, Tags>();
  for (const batch of chunks(ids, TAG_BATCH)) {
    for (const [id, tags] of await dns.getTags(batch, options)) all.set(id, tags);
  }
  return all;
}

/** The NS record set named `name` in `zoneId`, if any (one ListResourceRecordSets call). */
async function readDelegation(
  dns: DnsProvider,
  zoneId: string,
  name: string,
  options: CallOptions,
): Promise<RecordSet | undefined> {
  const page = await dns.listRecords(zoneId, { from: { name, type: 'NS' }, maxItems: 1 }, options);
  const record = page.recordSets[0];
  return record && record.name === name && record.type === 'NS' && record.setIdentifier === undefined
    ? record
    : undefined;
}

/** How many record sets at or below the organisation's name in the parent one gather reads (one call). */
const PARENT_NAMES_PAGE = 20;

/**
 * What the parent zone holds at the organisation's name and below it, in one ListResourceRecordSets call
 * (Route 53 lists names with their labels reversed, so `<name>` and every `*.<name>` come first from
 * `<name>`): the delegation NS record, and every other record set there.
 */
async function readParentNames(
  dns: DnsProvider,
  parentZoneId: string,
  name: string,
  options: CallOptions,
): Promise<{ delegation?: RecordSet; others: { name: string; type: string }[] }> {
  // 'A' sorts before every other record type, so this starts at the first record set of `name`.
  const page = await dns.listRecords(
    parentZoneId,
    { from: { name, type: 'A' }, maxItems: PARENT_NAMES_PAGE },
    options,
  );
  let delegation: RecordSet | undefined;
  const others: { name: string; type: string }[] = [];
  for (const record of page.recordSets) {
    if (record.name !== name && !record.name.endsWith(`.${name}`)) break;
    if (record.name === name && record.type === 'NS' && record.setIdentifier === undefined)
      delegation = record;
    else others.push({ name: record.name, type: record.type });
  }
  return { ...(delegation ? { delegation } : {}), others };
}

async function waitForInsync(
  dns: DnsProvider,
  change: ChangeInfo,
  deps: ZoneManagerDeps,
  options: CallOptions & SyncOptions,
  what: string,
): Promise<void> {
  if (options.waitForSync === false || change.status === 'INSYNC') return;
  await pollUntil(
    async () => {
      const c = await dns.getChange(change.id, signalOnly(options));
      return c.status === 'INSYNC' ? { done: true, value: c } : { done: false };
    },
    {
      clock: deps.clock ?? systemClock,
      timeoutMs: options.syncTimeoutMs ?? 300_000,
      initialDelayMs: options.syncInitialDelayMs ?? 1_000,
      maxDelayMs: options.syncMaxDelayMs ?? 15_000,
      what: `${dns.kind} change ${change.id} (${what}) to be INSYNC`,
      ...signalOnly(options),
    },
  );
}

function nonceFrom(random: () => number): string {
  const r = random();
  const x = Number.isFinite(r) ? Math.min(Math.max(r, 0), 0.999_999_999) : 0;
  return Math.floor(x * 36 ** 8)
    .toString(36)
    .padStart(8, '0');
}

/**
 * Reads what {@link planOrganizationZone} needs: the public zones named `zoneName` with tags and name
 * servers, the parent zone, and its delegation record.
 *
 * @throws ZonekeeperError `NOT_FOUND` when the parent zone does not exist; `CONFLICT` when several
 * zones are named like the parent and no `parentZoneId` is given, or when `parentZoneId` names another
 * domain.
 * @public
 */
export async function gatherOrganizationZone(
  spec: { readonly zoneName: string; readonly baseDomain: string; readonly parentZoneId?: string },
  dns: DnsProvider,
  options: CallOptions = {},
): Promise<OrganizationZoneState> {
  const call = signalOnly(options);
  let parent: HostedZone;
  if (spec.parentZoneId !== undefined) {
    const found = await dns.getZone(spec.parentZoneId, call);
    if (!found) {
      throw new ZonekeeperError(
        'NOT_FOUND',
        `Parent zone ${spec.parentZoneId} does not exist in ${dns.kind}; pass the id of the public zone for ${spec.baseDomain}.`,
        { details: { parentZoneId: spec.parentZoneId, baseDomain: spec.baseDomain } },
      );
    }
    if (found.zone.name !== spec.baseDomain || found.zone.privateZone) {
      throw new ZonekeeperError(
        'CONFLICT',
        `Parent zone ${spec.parentZoneId} is ${found.zone.privateZone ? 'a private zone' : 'a zone'} for ${found.zone.name}, not the public zone for ${spec.baseDomain}; pass the id of the public zone for ${spec.baseDomain}.`,
        {
          details: {
            parentZoneId: spec.parentZoneId,
            parentZoneName: found.zone.name,
            baseDomain: spec.baseDomain,
          },
        },
      );
    }
    parent = found.zone;
  } else {
    const candidates = (await dns.findZonesByName(spec.baseDomain, call)).filter((z) => !z.privateZone);
    if (candidates.length === 0) {
      throw new ZonekeeperError(
        'NOT_FOUND',
        `No public hosted zone named ${spec.baseDomain} exists in ${dns.kind}; create the parent zone (and delegate it from its registrar or its own parent) first, or pass parentZoneId.`,
        { details: { baseDomain: spec.baseDomain } },
      );
    }
    if (candidates.length > 1) {
      throw new ZonekeeperError(
        'CONFLICT',
        `${candidates.length} public hosted zones are named ${spec.baseDomain} (${candidates.map((z) => z.id).join(', ')}); pass parentZoneId to say which one delegates to organisation zones.`,
        { details: { baseDomain: spec.baseDomain, zoneIds: candidates.map((z) => z.id) } },
      );
    }
    parent = candidates[0] as HostedZone;
  }

  const listed = (await dns.findZonesByName(spec.zoneName, call)).filter((z) => !z.privateZone);
  const tags =
    listed.length === 0
      ? new Map<string, Tags>()
      : await tagsOf(
          dns,
          listed.map((z) => z.id),
          call,
        );
  const zones: ObservedZone[] = [];
  for (const z of listed) {
    const details = await dns.getZone(z.id, call);
    if (!details) continue; // deleted meanwhile (a concurrent run removed a duplicate)
    const count = details.zone.recordSetCount ?? z.recordSetCount;
    zones.push({
      id: z.id,
      name: z.name,
      callerReference: z.callerReference,
      ...(z.comment === undefined ? {} : { comment: z.comment }),
      tags: tags.get(z.id) ?? {},
      nameServers: details.nameServers,
      ...(count === undefined ? {} : { recordSetCount: count }),
    });
  }
  const { delegation, others } = await readParentNames(dns, parent.id, spec.zoneName, call);
  return {
    zones,
    parent: { id: parent.id, name: parent.name },
    ...(others.length > 0 ? { parentRecords: others } : {}),
    ...(delegation
      ? {
          delegation: {
            values: delegation.values,
            ...(delegation.ttl === undefined ? {} : { ttl: delegation.ttl }),
          },
        }
      : {}),
  };
}

/** The validated input of {@link ensureOrganizationZone}. */
function resolveZoneInput(input: EnsureOrganizationZoneInput): {
  organization: string;
  baseDomain: string;
  zoneName: string;
  parentZoneId?: string;
  delegationTtl: number;
} {
  const organization = validateOrganizationName(input?.organization);
  const baseDomain = normalizeBaseDomain(input.baseDomain);
  const zoneName = organizationZoneName(organization, baseDomain);
  const parentZoneId = input.parentZoneId === undefined ? undefined : normalizeZoneId(input.parentZoneId);
  const delegationTtl = input.delegationTtl ?? DEFAULT_DELEGATION_TTL;
  if (!Number.isInteger(delegationTtl) || delegationTtl < 1 || delegationTtl > 172_800) {
    throw new ZonekeeperError(
      'INVALID_INPUT',
      `delegationTtl must be an integer number of seconds from 1 to 172800, got ${String(input.delegationTtl)}.`,
    );
  }
  return { organization, baseDomain, zoneName, ...(parentZoneId ? { parentZoneId } : {}), delegationTtl };
}

/**
 * The canonical zone a plan keeps (not the one it creates): what the gathered state says about it, with
 * the `created-at` the plan's tag step would write when the tag is missing. Pure.
 * @public
 */
export function keptOrganizationZone(
  plan: OrganizationZonePlan,
  state: OrganizationZoneState,
): OrganizationZone | undefined {
  const existing = state.zones.find((z) => z.id === plan.zoneId);
  if (!existing) return undefined;
  const tagStep = plan.steps.find(
    (s): s is Extract<OrganizationZoneStep, { op: 'tag-zone' }> =>
      s.op === 'tag-zone' && s.zoneId === existing.id,
  );
  const createdRaw = parseCreatedAt(existing.tags) ?? tagStep?.tags[ZoneTags.createdAt];
  const createdAt = createdRaw === undefined ? undefined : new Date(createdRaw);
  return {
    id: existing.id,
    name: existing.name,
    nameServers: existing.nameServers,
    ...(createdAt ? { createdAt } : {}),
  };
}

/**
 * Executes a plan of {@link planOrganizationZone} exactly as planned (steps whose zone is `null` refer to
 * the zone the plan's `create-zone` step creates) and returns the canonical zone afterwards. Used by
 * {@link ensureOrganizationZone} and by callers that plan several systems at once and apply them in
 * turn (the zonekeeper facade). Never re-plans.
 *
 * @throws ZonekeeperError `CONFLICT` (a duplicate became the delegation target meanwhile: run again),
 * `TIMEOUT` (delegation never `INSYNC`), `INTERNAL` (a step refers to a zone that was not created), and
 * the provider's codes; `signal.reason` on abort.
 * @public
 */
export async function applyOrganizationZonePlan(
  plan: OrganizationZonePlan,
  state: OrganizationZoneState,
  deps: ZoneManagerDeps,
  options: CallOptions & SyncOptions = {},
): Promise<OrganizationZone | undefined> {
  validateSyncOptions(options);
  const { dns } = deps;
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger ?? noopLogger;
  const call = signalOnly(options);
  const zoneName = plan.zoneName;
  let created:
    | { id: string; nameServers: readonly string[]; callerReference: string; submittedAt?: Date }
    | undefined;
  let createdAt: Date | undefined;
  const needCreated = (op: string) => {
    if (!created)
      throw new ZonekeeperError(
        'INTERNAL',
        `zone-manager: step ${op} refers to a zone that was not created.`,
      );
    return created;
  };

  await applySteps<OrganizationZoneStep>(
    plan.steps,
    async (step) => {
      switch (step.op) {
        case 'create-zone': {
          try {
            const result = await dns.createZone(
              { name: step.zoneName, callerReference: step.callerReference, comment: step.comment },
              call,
            );
            created = {
              id: result.zone.id,
              nameServers: result.nameServers,
              callerReference: step.callerReference,
              submittedAt: result.change.submittedAt,
            };
          } catch (error) {
            // A retried CreateHostedZone whose first attempt succeeded (Route 53 answers
            // HostedZoneAlreadyExists for a reused CallerReference): the zone is ours, carry on with it.
            if (!hasErrorCode(error, 'ALREADY_EXISTS')) throw error;
            const mine = (await dns.findZonesByName(step.zoneName, call)).find(
              (z) => z.callerReference === step.callerReference,
            );
            const details = mine ? await dns.getZone(mine.id, call) : undefined;
            if (!details) throw error;
            created = {
              id: details.zone.id,
              nameServers: details.nameServers,
              callerReference: step.callerReference,
            };
          }
          logger.info(`zone-manager: created zone ${created.id} (${step.zoneName})`);
          return;
        }
        case 'tag-zone': {
          const tags: Record<string, string> = { ...step.tags };
          let zoneId = step.zoneId;
          if (zoneId === null) {
            const c = needCreated(step.op);
            zoneId = c.id;
            const stamp =
              c.submittedAt ?? readCallerReference(c.callerReference, zoneName).plannedAt ?? clock.now();
            tags[ZoneTags.createdAt] = stamp.toISOString();
          }
          if (step.zoneId === null) createdAt = new Date(tags[ZoneTags.createdAt] as string);
          await dns.changeTags(zoneId, { add: tags }, call);
          return;
        }
        case 'upsert-delegation': {
          const nameServers = step.nameServers ?? needCreated(step.op).nameServers;
          const change = await dns.changeRecords(
            step.parentZoneId,
            [
              {
                action: 'UPSERT',
                recordSet: {
                  name: step.recordName,
                  type: 'NS',
                  ttl: step.ttl,
                  values: nameServers.map(toFqdn),
                },
              },
            ],
            { ...call, comment: `zonekeeper: delegate ${step.recordName}` },
          );
          await waitForInsync(dns, change, deps, options, `delegation of ${step.recordName}`);
          return;
        }
        case 'delete-duplicate-zone': {
          // Re-check right before deleting: a concurrent run may have pointed the delegation here.
          const delegation = await readDelegation(dns, step.parentZoneId, step.zoneName, call);
          const target = delegation ? nameServerKey(delegation.values) : undefined;
          if (
            target === nameServerKey(step.nameServers) &&
            target !== nameServerKey(step.canonicalNameServers)
          ) {
            throw new ZonekeeperError(
              'CONFLICT',
              `Duplicate zone ${step.zoneId} of ${step.zoneName} is now the target of the parent's delegation (another run changed it); run ensureOrganizationZone again.`,
              {
                details: {
                  zoneId: step.zoneId,
                  canonicalZoneId: step.canonicalZoneId,
                  remedy: { operation: 'ensureOrganizationZone', when: 'again' },
                },
              },
            );
          }
          try {
            await dns.deleteZone(step.zoneId, call);
            logger.info(`zone-manager: deleted duplicate zone ${step.zoneId} (${step.zoneName})`);
          } catch (error) {
            if (!hasErrorCode(error, 'NOT_FOUND')) throw error;
          }
          return;
        }
      }
    },
    { ...call, logger },
  );

  return plan.zoneId === null
    ? created && {
        id: created.id,
        name: zoneName,
        nameServers: created.nameServers,
        ...(createdAt ? { createdAt } : {}),
      }
    : keptOrganizationZone(plan, state);
}

/**
 * Ensures the organisation has exactly one managed public zone `<organization>.<baseDomain>`, tagged as
 * zonekeeper's and delegated from the parent zone, and waits for the delegation to be `INSYNC`.
 *
 * Idempotent (a second run makes no write call) and convergent after crashes and concurrent runs: the
 * canonical zone is the oldest of the organisation's zones (then lowest id); empty duplicates are
 * deleted, others reported in `duplicates`. Never adopts a zone it does not own, never replaces a
 * delegation in the parent that points anywhere but at one of the organisation's zones, and never
 * delegates a name under which the parent holds other records (`NOT_OWNED`, before any write).
 *
 * @example
 * ```ts
 * const dns = createMemoryDnsProvider();
 * await dns.createZone({ name: 'example.com', callerReference: 'parent' });
 * const { zone } = await ensureOrganizationZone({ organization: 'acme', baseDomain: 'example.com' }, { dns });
 * ```
 * @throws ZonekeeperError `INVALID_INPUT` (before any call), `NOT_OWNED`, `NOT_FOUND` (no parent
 * zone), `CONFLICT` (ambiguous parent), `TIMEOUT` (delegation never `INSYNC`), and the provider's codes.
 * @public
 */
export async function ensureOrganizationZone(
  input: EnsureOrganizationZoneInput,
  deps: ZoneManagerDeps,
  options: EnsureOrganizationZoneOptions = {},
): Promise<EnsureOrganizationZoneResult> {
  const { organization, baseDomain, zoneName, parentZoneId, delegationTtl } = resolveZoneInput(input);
  validateSyncOptions(options);
  const { dns } = deps;
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger ?? noopLogger;
  const nonce = nonceFrom(deps.random ?? Math.random);
  const outcome = await ensure(
    {
      gather: (call) =>
        gatherOrganizationZone(
          { zoneName, baseDomain, ...(parentZoneId === undefined ? {} : { parentZoneId }) },
          dns,
          call,
        ),
      plan: (state) => {
        const plan = planOrganizationZone(
          state,
          { organization, baseDomain, delegationTtl, nonce },
          clock.now(),
        );
        if (plan.duplicates.length > 0) {
          logger.warn(
            `zone-manager: organisation ${organization} has ${plan.duplicates.length + 1} zones named ${zoneName}; keeping ${plan.zoneId}, duplicates ${plan.duplicates.join(', ')}`,
          );
        }
        return plan;
      },
      apply: (plan, state, call) => applyOrganizationZonePlan(plan, state, deps, { ...options, ...call }),
    },
    options,
  );
  const zone = outcome.dryRun ? keptOrganizationZone(outcome.plan, outcome.state) : outcome.applied;
  return {
    plan: outcome.plan,
    ...(zone ? { zone } : {}),
    duplicates: outcome.plan.duplicates,
    dryRun: outcome.dryRun,
  };
}

/**
 * Lists every zone zonekeeper manages (tagged `zonekeeper:managed-by=zonekeeper` with an organisation,
 * and named `<that organisation>.<…>`: a zone tagged for another organisation than its name says is
 * left out, so it is never collected as either's), with the facts garbage collection needs. Costs ⌈N/100⌉ `ListHostedZones` and ⌈M/10⌉
 * `ListTagsForResources` calls for N zones of which M are tag-queried (all public zones, or with
 * `baseDomain` only those directly under it) — never one call per zone.
 * @public
 */
export async function listManagedZones(
  deps: ZoneManagerDeps,
  options: ListManagedZonesOptions = {},
): Promise<readonly ManagedZone[]> {
  const base = options.baseDomain === undefined ? undefined : normalizeBaseDomain(options.baseDomain);
  const limit = createConcurrencyLimit(options.concurrency ?? DEFAULT_READ_CONCURRENCY);
  throwIfAborted(options.signal);
  const call = signalOnly(options);
  const wanted = (z: HostedZone) =>
    !z.privateZone &&
    (base === undefined || (z.name.endsWith(`.${base}`) && !z.name.slice(0, -base.length - 1).includes('.')));
  // Tag batches of 10 go out while the listing pages on; a batch fills across pages, so the reads are
  // exactly ⌈M/10⌉ however the pages fall.
  const tags = new Map<string, Tags>();
  const inFlight: Promise<void>[] = [];
  const dispatched = new Set<string>();
  let batch: string[] = [];
  let failure: { error: unknown } | undefined;
  const send = (ids: string[]) => {
    inFlight.push(
      limit(async () => {
        if (failure) return;
        for (const [id, t] of await deps.dns.getTags(ids, call)) tags.set(id, t);
      }).catch((error: unknown) => {
        failure ??= { error };
      }),
    );
  };
  const take = (page: readonly HostedZone[]) => {
    for (const z of page) {
      if (!wanted(z) || dispatched.has(z.id)) continue;
      dispatched.add(z.id);
      batch.push(z.id);
      if (batch.length === TAG_BATCH) {
        send(batch);
        batch = [];
      }
    }
  };
  let listed: readonly HostedZone[] = [];
  try {
    listed = await deps.dns.listZones({ ...call, onPage: (page) => failure ?? take(page) });
    take(listed); // what a provider without pages did not hand over
    if (batch.length > 0) send(batch);
  } catch (error) {
    failure ??= { error };
  }
  await Promise.all(inFlight);
  if (failure) throw failure.error;
  const zones = listed.filter(wanted);
  const result: ManagedZone[] = [];
  for (const z of zones) {
    const t = tags.get(z.id);
    const organization = t?.[ZoneTags.organization];
    if (!t || !isManagedTagged(t) || !organization) continue;
    // A zone whose name is not its organisation's (`acme.<base>` tagged for globex) is nobody's to
    // collect: neither acme's (the tag says otherwise) nor globex's (its zone has another name).
    if (
      !z.name.startsWith(`${organization}.`) ||
      (base !== undefined && z.name !== `${organization}.${base}`)
    )
      continue;
    const createdAt = parseCreatedAt(t);
    result.push({
      id: z.id,
      name: z.name,
      organization,
      ...(createdAt ? { createdAt } : {}),
      protected: t[ZoneTags.protected] === 'true',
      callerReference: z.callerReference,
    });
  }
  return result;
}

/**
 * Reads what {@link planZoneDeletion} needs: the zone, its tags, the delegation in every public zone
 * named like its parent, and (for a managed zone) every record set, page by page.
 * @public
 */
export async function gatherZoneDeletion(
  zoneId: string,
  dns: DnsProvider,
  options: CallOptions = {},
): Promise<ZoneDeletionState> {
  const call = signalOnly(options);
  const details = await dns.getZone(zoneId, call);
  if (!details) return { delegations: [], records: [] };
  const tags = (await dns.getTags([zoneId], call)).get(zoneId) ?? {};
  const zone = { id: details.zone.id, name: details.zone.name, nameServers: details.nameServers, tags };
  // Nothing more to read for a zone we will refuse to touch.
  if (!isManagedTagged(tags) || tags[ZoneTags.protected] === 'true')
    return { zone, delegations: [], records: [] };

  const delegations: { parentZoneId: string; parentZoneName: string; record: RecordSet }[] = [];
  const dot = zone.name.indexOf('.');
  const parentName = zone.name.slice(dot + 1);
  if (dot > 0 && parentName.includes('.')) {
    for (const p of (await dns.findZonesByName(parentName, call)).filter((z) => !z.privateZone)) {
      const record = await readDelegation(dns, p.id, zone.name, call);
      if (record) delegations.push({ parentZoneId: p.id, parentZoneName: p.name, record });
    }
  }
  const records: RecordSet[] = [];
  let from: { name: string; type: string; setIdentifier?: string } | undefined;
  do {
    const page = await dns.listRecords(zoneId, { ...(from ? { from } : {}), maxItems: RECORD_PAGE }, call);
    records.push(...page.recordSets);
    from = page.next;
  } while (from);
  return { zone, delegations, records };
}

/**
 * Deletes a zone zonekeeper manages: the parent's NS delegation first (only if it still points at this
 * zone's name servers; waits for `INSYNC`), then every record except the apex SOA and NS in batches within
 * Route 53's limits, then the zone. Idempotent: a zone that is already gone gives an empty plan.
 *
 * @throws ZonekeeperError `INVALID_INPUT` (bad zone id, before any call), `NOT_OWNED` (no
 * `zonekeeper:managed-by` tag), `CONFLICT` (protected zone, or records changed meanwhile: run again),
 * and the provider's codes.
 * @public
 */
export async function deleteOrganizationZone(
  zoneIdInput: string,
  deps: ZoneManagerDeps,
  options: DeleteOrganizationZoneOptions = {},
): Promise<DeleteOrganizationZoneResult> {
  const zoneId = normalizeZoneId(zoneIdInput);
  validateSyncOptions(options);
  const { dns } = deps;
  const outcome = await ensure(
    {
      gather: (call) => gatherZoneDeletion(zoneId, dns, call),
      plan: (state) => planZoneDeletion(state, zoneId),
      apply: (plan, _state, call) => applyZoneDeletionPlan(plan, deps, { ...options, ...call }),
    },
    options,
  );
  return { plan: outcome.plan, dryRun: outcome.dryRun };
}

/**
 * Executes a plan of {@link planZoneDeletion} exactly as planned: the delegation (waiting for `INSYNC`),
 * the record batches, the zone. Never re-plans.
 * @public
 */
export async function applyZoneDeletionPlan(
  plan: ZoneDeletionPlan,
  deps: ZoneManagerDeps,
  options: CallOptions & SyncOptions = {},
): Promise<void> {
  const { dns } = deps;
  const logger = deps.logger ?? noopLogger;
  const call = signalOnly(options);
  await applySteps(
    plan.steps,
    async (step) => {
      switch (step.op) {
        case 'delete-delegation': {
          const change = await dns.changeRecords(
            step.parentZoneId,
            [{ action: 'DELETE', recordSet: step.record }],
            {
              ...call,
              comment: `zonekeeper: remove delegation of ${step.record.name}`,
            },
          );
          await waitForInsync(dns, change, deps, options, `removal of the delegation of ${step.record.name}`);
          return;
        }
        case 'delete-records':
          await dns.changeRecords(
            step.zoneId,
            step.records.map((recordSet) => ({ action: 'DELETE' as const, recordSet })),
            { ...call, comment: 'zonekeeper: empty the zone before deleting it' },
          );
          return;
        case 'delete-zone':
          try {
            await dns.deleteZone(step.zoneId, call);
          } catch (error) {
            if (!hasErrorCode(error, 'NOT_FOUND')) throw error;
          }
          logger.info(`zone-manager: deleted zone ${step.zoneId} (${step.zoneName})`);
          return;
      }
    },
    { ...call, logger },
  );
}
