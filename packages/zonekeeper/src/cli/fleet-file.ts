/**
 * The fleet file of `--fleet <file>` (env `ZONEKEEPER_FLEET_FILE`): the AWS accounts one `zonekeeper`
 * command works across, read and checked before any client is built, so a bad file exits 2 with
 * nothing sent anywhere.
 *
 * ```json
 * {
 *   "parent": { "account": "111111111111" },
 *   "accounts": [
 *     { "id": "111111111111" },
 *     { "id": "222222222222", "roleArn": "arn:aws:iam::222222222222:role/zonekeeper", "zoneQuota": 500 }
 *   ]
 * }
 * ```
 *
 * An account with `roleArn` is reached through STS `AssumeRole` with the environment's credentials
 * (the SDK's default chain); one without acts with those credentials themselves. Each account gets its
 * own Route 53 rate limiter (`requestsPerSecond`, default `--requests-per-second`, else 10).
 *
 * @packageDocumentation
 */

import { readFile } from 'node:fs/promises';
import { type CallOptions, invalidInput } from '@zonekeeper/core';
import { validateAccountId } from '../fleet/placement.js';

/** One account of a fleet file. */
export interface FleetFileAccount {
  readonly id: string;
  /** The role assumed in the account (`arn:aws:iam::<id>:role/…`); absent: the environment's credentials. */
  readonly roleArn?: string;
  /** `ExternalId` of the `AssumeRole` call, when the role's trust asks for one. */
  readonly externalId?: string;
  readonly zoneQuota?: number;
  readonly maxOrganizations?: number;
  readonly secretPrefix?: string;
  /** Route 53 requests per second zonekeeper may use in this account (its own limiter). */
  readonly requestsPerSecond?: number;
}

/** A parsed, checked fleet file. */
export interface FleetFile {
  /** Absolute path of the file (for messages). */
  readonly file: string;
  readonly accounts: readonly FleetFileAccount[];
  readonly parent?: { readonly account: string; readonly zoneId?: string };
}

const ACCOUNT_KEYS = new Set([
  'id',
  'roleArn',
  'externalId',
  'zoneQuota',
  'maxOrganizations',
  'secretPrefix',
  'requestsPerSecond',
]);
const ROLE_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):role\/[\w+=,.@/-]{1,512}$/;
const SECRET_PREFIX = /^[A-Za-z0-9._-]+(?:\/[A-Za-z0-9._-]+)*$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Parses and checks a fleet file's text: a JSON object with `accounts` (at least one, ids unique) and an
 * optional `parent`. Unknown keys are refused (a misspelt `zoneQuta` would otherwise be ignored).
 * @throws `INVALID_INPUT` naming the file and the field.
 */
export function parseFleetFile(text: string, file: string): FleetFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw invalidInput(
      `Fleet file ${file} is not valid JSON (${error instanceof Error ? error.message : String(error)}).`,
    );
  }
  const where = (what: string) => `Fleet file ${file}: ${what}`;
  if (!isObject(parsed))
    throw invalidInput(where('must be a JSON object with "accounts" (and optionally "parent").'));
  for (const key of Object.keys(parsed))
    if (key !== 'accounts' && key !== 'parent')
      throw invalidInput(where(`unknown key ${JSON.stringify(key)} (known: accounts, parent).`));
  const list = parsed.accounts;
  if (!Array.isArray(list) || list.length === 0)
    throw invalidInput(where('"accounts" must be a non-empty array.'));
  const ids = new Set<string>();
  const accounts = list.map((raw, i): FleetFileAccount => {
    const at = (what: string) => where(`accounts[${i}]: ${what}`);
    if (!isObject(raw)) throw invalidInput(at('must be an object with an "id".'));
    for (const key of Object.keys(raw))
      if (!ACCOUNT_KEYS.has(key))
        throw invalidInput(
          at(`unknown key ${JSON.stringify(key)} (known: ${[...ACCOUNT_KEYS].join(', ')}).`),
        );
    let id: string;
    try {
      id = validateAccountId(raw.id);
    } catch (error) {
      throw invalidInput(at((error as Error).message));
    }
    if (ids.has(id)) throw invalidInput(at(`account ${id} is listed twice.`));
    ids.add(id);
    const out: Record<string, unknown> = { id };
    if (raw.roleArn !== undefined) {
      const m = typeof raw.roleArn === 'string' ? ROLE_ARN.exec(raw.roleArn) : null;
      if (!m) throw invalidInput(at('roleArn must be arn:aws:iam::<12 digits>:role/<name>.'));
      if (/^\d{12}$/.test(id) && m[1] !== id)
        throw invalidInput(at(`roleArn ${String(raw.roleArn)} is a role of account ${m[1]}, not ${id}.`));
      out.roleArn = raw.roleArn;
    }
    if (raw.externalId !== undefined) {
      if (raw.roleArn === undefined) throw invalidInput(at('externalId needs a roleArn.'));
      if (typeof raw.externalId !== 'string' || !/^[\w+=,.@:/-]{2,1224}$/.test(raw.externalId))
        throw invalidInput(at('externalId must be 2–1224 characters of letters, digits and +=,.@:/-.'));
      out.externalId = raw.externalId;
    }
    for (const [key, min] of [
      ['zoneQuota', 1],
      ['maxOrganizations', 0],
    ] as const) {
      const v = raw[key];
      if (v === undefined) continue;
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min)
        throw invalidInput(at(`${key} must be an integer ≥ ${min}, got ${JSON.stringify(v)}.`));
      out[key] = v;
    }
    if (raw.requestsPerSecond !== undefined) {
      const v = raw.requestsPerSecond;
      if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v > 1_000)
        throw invalidInput(at(`requestsPerSecond must be a number in (0, 1000], got ${JSON.stringify(v)}.`));
      out.requestsPerSecond = v;
    }
    if (raw.secretPrefix !== undefined) {
      if (typeof raw.secretPrefix !== 'string' || !SECRET_PREFIX.test(raw.secretPrefix))
        throw invalidInput(
          at('secretPrefix must be a secret path (e.g. "zonekeeper/platforms/example.com").'),
        );
      out.secretPrefix = raw.secretPrefix;
    }
    return out as unknown as FleetFileAccount;
  });
  let parent: FleetFile['parent'];
  if (parsed.parent !== undefined) {
    const p = parsed.parent;
    if (!isObject(p)) throw invalidInput(where('"parent" must be an object with "account".'));
    for (const key of Object.keys(p))
      if (key !== 'account' && key !== 'zoneId')
        throw invalidInput(where(`parent: unknown key ${JSON.stringify(key)} (known: account, zoneId).`));
    if (typeof p.account !== 'string' || !ids.has(p.account))
      throw invalidInput(where(`parent.account ${JSON.stringify(p.account)} is not one of the accounts.`));
    if (p.zoneId !== undefined && (typeof p.zoneId !== 'string' || !/^[A-Za-z0-9]{1,32}$/.test(p.zoneId)))
      throw invalidInput(
        where('parent.zoneId is not a Route 53 hosted zone id (e.g. "Z0123456789ABCDEFGHIJ").'),
      );
    parent = { account: p.account, ...(p.zoneId === undefined ? {} : { zoneId: p.zoneId as string }) };
  }
  return { file, accounts, ...(parent === undefined ? {} : { parent }) };
}

/** Reads and checks a fleet file (see {@link parseFleetFile}). */
export async function loadFleetFile(file: string, options: CallOptions = {}): Promise<FleetFile> {
  let text: string;
  try {
    text = await readFile(file, { encoding: 'utf8', ...(options.signal ? { signal: options.signal } : {}) });
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    const code = (error as { code?: unknown }).code;
    throw invalidInput(`Fleet file ${file} cannot be read (${typeof code === 'string' ? code : 'error'}).`);
  }
  return parseFleetFile(text, file);
}
