/**
 * Account placement: which AWS account an organisation's zone lives in, when a platform spreads its
 * organisations over several accounts (an account holds 500 hosted zones by default, and one account's
 * Route 53 budget only carries so many ExternalDNS instances — see `planFleetBudget`). Pure: no I/O, no
 * clock, no randomness; the result is JSON data.
 *
 * ```
 *  placed already   the organisation's zones (ours, by tags) or its recorded placement name one
 *                   account: that account, whatever its headroom (a placed organisation never moves)
 *                   several accounts: refused (`placed-in-several-accounts`), an operator decides
 *                   an account not configured: refused (`unknown-account`)
 *  new              headroom of an account = min(zoneQuota − zonesInUse,
 *                                                maxOrganizations − organisations placed there)
 *                   the account with the most headroom; ties to the smallest account id (code units)
 *                   no account with headroom ≥ 1: refused (`no-capacity`), before anything is written
 * ```
 *
 * @packageDocumentation
 */

import { invalidInput, validateOrganizationName } from '@zonekeeper/core';

/** AWS's default hosted-zone quota of an account. @public */
export const DEFAULT_ACCOUNT_ZONE_QUOTA = 500;

/** One account as placement sees it. @public */
export interface PlacementAccount {
  /** The account's id (an AWS account id, or any label of 1–64 letters, digits, `-` and `_`). */
  readonly id: string;
  /** Hosted zones the account may hold (an integer ≥ 1, default {@link DEFAULT_ACCOUNT_ZONE_QUOTA}). */
  readonly zoneQuota?: number;
  /** Hosted zones the account holds now, ours and every other (an integer ≥ 0). */
  readonly zonesInUse: number;
  /**
   * The most organisations the account's Route 53 budget carries (an integer ≥ 0): what
   * `planFleetBudget` says one account holds — `organizations` of a `fits` plan, `organizationsPerAccount`
   * of a `needs-accounts` plan. Absent: only the zone quota bounds the account.
   */
  readonly maxOrganizations?: number;
}

/** Where one organisation is known to be, and how it is known. @public */
export interface PlacedOrganization {
  readonly organization: string;
  readonly account: string;
  /** `zone`: a zone of ours, tagged for the organisation, is in the account; `record`: a recorded placement. */
  readonly source: 'zone' | 'record';
}

/** The input of {@link planPlacement}. @public */
export interface PlacementInput {
  /** The accounts (at least one, ids unique). */
  readonly accounts: readonly PlacementAccount[];
  /** The organisations already placed (several entries per organisation are fine). */
  readonly placed: readonly PlacedOrganization[];
  /** The organisation to place. */
  readonly organization: string;
}

/** One account's room, as {@link planPlacement} computed it. @public */
export interface AccountHeadroom {
  readonly account: string;
  /** `zoneQuota − zonesInUse`. */
  readonly zoneHeadroom: number;
  /** `maxOrganizations − organisations placed`, or `null` when the account has no budget bound. */
  readonly budgetHeadroom: number | null;
  /** The smaller of the two (what placement compares). */
  readonly headroom: number;
}

/**
 * Why an organisation went where it went: `already-placed` (its zones or its record name the account),
 * `most-headroom` (a new organisation, to the account with the most room).
 * @public
 */
export type PlacementReason = 'already-placed' | 'most-headroom';

/**
 * Why an organisation cannot be placed: `no-capacity` (no account has room for one more zone within its
 * quota and its budget), `placed-in-several-accounts` (its zones or records are in more than one account),
 * `unknown-account` (it is placed in an account that is not configured).
 * @public
 */
export type PlacementRefusalReason = 'no-capacity' | 'placed-in-several-accounts' | 'unknown-account';

/** An organisation placed in an account. JSON data. @public */
export interface PlacementDecision {
  readonly outcome: 'placed';
  readonly organization: string;
  readonly account: string;
  readonly reason: PlacementReason;
  /** Every account's room, in account-id order. */
  readonly headroom: readonly AccountHeadroom[];
  readonly message: string;
}

/** An organisation that cannot be placed. JSON data. @public */
export interface PlacementRefusal {
  readonly outcome: 'refused';
  readonly organization: string;
  readonly reason: PlacementRefusalReason;
  /** The accounts involved: where it is placed (`placed-in-several-accounts`, `unknown-account`), else none. */
  readonly accounts: readonly string[];
  readonly headroom: readonly AccountHeadroom[];
  readonly message: string;
}

/** The result of {@link planPlacement}. @public */
export type PlacementPlan = PlacementDecision | PlacementRefusal;

const ACCOUNT_ID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Validates an account id (`INVALID_INPUT` otherwise) and returns it.
 * @public
 */
export function validateAccountId(id: unknown): string {
  if (typeof id !== 'string' || !ACCOUNT_ID.test(id))
    throw invalidInput(`An account id is 1–64 letters, digits, "-" or "_", got ${JSON.stringify(id)}.`);
  return id;
}

function wholeNumber(value: number, min: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < min)
    throw invalidInput(`${what} must be an integer ≥ ${min}, got ${String(value)}.`);
  return value;
}

/** Code-unit order: the same on every machine and locale. */
const byId = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Plans which account an organisation belongs to. Throws `INVALID_INPUT` for invalid input (no
 * accounts, duplicate ids, quotas that are not whole numbers, invalid names); every other outcome is a
 * {@link PlacementPlan}. Deterministic: the same input (in any account order) gives the same plan.
 *
 * @example
 * ```ts
 * planPlacement({
 *   accounts: [{ id: '111111111111', zonesInUse: 480 }, { id: '222222222222', zonesInUse: 12 }],
 *   placed: [],
 *   organization: 'acme',
 * }); // { outcome: 'placed', account: '222222222222', reason: 'most-headroom', … }
 * ```
 * @public
 */
export function planPlacement(input: PlacementInput): PlacementPlan {
  if (typeof input !== 'object' || input === null) throw invalidInput('planPlacement needs an input object.');
  const organization = validateOrganizationName(input.organization);
  if (!Array.isArray(input.accounts) || input.accounts.length === 0)
    throw invalidInput('planPlacement needs at least one account.');
  if (!Array.isArray(input.placed)) throw invalidInput('placed must be an array.');
  const accounts = [...input.accounts]
    .map((a) => {
      const id = validateAccountId(a?.id);
      return {
        id,
        zoneQuota: wholeNumber(a.zoneQuota ?? DEFAULT_ACCOUNT_ZONE_QUOTA, 1, `Account ${id}: zoneQuota`),
        zonesInUse: wholeNumber(a.zonesInUse, 0, `Account ${id}: zonesInUse`),
        maxOrganizations:
          a.maxOrganizations === undefined
            ? undefined
            : wholeNumber(a.maxOrganizations, 0, `Account ${id}: maxOrganizations`),
      };
    })
    .sort((a, b) => byId(a.id, b.id));
  for (let i = 1; i < accounts.length; i++)
    if (accounts[i - 1]?.id === accounts[i]?.id)
      throw invalidInput(`Account ${accounts[i]?.id} is listed twice.`);

  const organizationsIn = new Map<string, Set<string>>();
  const mine = new Set<string>();
  for (const p of input.placed) {
    if (typeof p !== 'object' || p === null) throw invalidInput('A placed organisation must be an object.');
    const org = validateOrganizationName(p.organization);
    const account = validateAccountId(p.account);
    if (p.source !== 'zone' && p.source !== 'record')
      throw invalidInput(`Placement of ${org}: source must be "zone" or "record", got ${String(p.source)}.`);
    if (org === organization) mine.add(account);
    let set = organizationsIn.get(account);
    if (!set) {
      set = new Set();
      organizationsIn.set(account, set);
    }
    set.add(org);
  }

  const headroom: AccountHeadroom[] = accounts.map((a) => {
    const zoneHeadroom = a.zoneQuota - a.zonesInUse;
    const budgetHeadroom =
      a.maxOrganizations === undefined ? null : a.maxOrganizations - (organizationsIn.get(a.id)?.size ?? 0);
    return {
      account: a.id,
      zoneHeadroom,
      budgetHeadroom,
      headroom: budgetHeadroom === null ? zoneHeadroom : Math.min(zoneHeadroom, budgetHeadroom),
    };
  });

  if (mine.size > 1) {
    const where = [...mine].sort(byId);
    return {
      outcome: 'refused',
      organization,
      reason: 'placed-in-several-accounts',
      accounts: where,
      headroom,
      message: `${organization} is placed in ${where.length} accounts (${where.join(', ')}); an organisation lives in one account: remove its zones or record from all but one.`,
    };
  }
  const [placedIn] = [...mine];
  if (placedIn !== undefined) {
    if (!accounts.some((a) => a.id === placedIn))
      return {
        outcome: 'refused',
        organization,
        reason: 'unknown-account',
        accounts: [placedIn],
        headroom,
        message: `${organization} is placed in account ${placedIn}, which is not configured; configure it (a placed organisation never moves).`,
      };
    return {
      outcome: 'placed',
      organization,
      account: placedIn,
      reason: 'already-placed',
      headroom,
      message: `${organization} is already placed in account ${placedIn}.`,
    };
  }

  let best: AccountHeadroom | undefined;
  // `headroom` is in id order, so a strict `>` keeps the smallest id among equals.
  for (const h of headroom)
    if (h.headroom >= 1 && (best === undefined || h.headroom > best.headroom)) best = h;
  if (best === undefined)
    return {
      outcome: 'refused',
      organization,
      reason: 'no-capacity',
      accounts: [],
      headroom,
      message: `No account has room for ${organization}'s zone within its zone quota and its Route 53 budget; add an account (or raise a quota).`,
    };
  return {
    outcome: 'placed',
    organization,
    account: best.account,
    reason: 'most-headroom',
    headroom,
    message: `${organization} goes to account ${best.account}, which has the most room (${best.headroom}).`,
  };
}
