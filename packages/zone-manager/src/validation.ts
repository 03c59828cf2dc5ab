/**
 * Shape checks of port inputs shared by every provider, so that malformed input is `INVALID_INPUT`
 * before any remote call.
 *
 * @packageDocumentation
 */

import { invalidInput, ROUTE53_RECORD_TYPES } from '@zonekeeper/core';
import { normalizeZoneId, validateRecordName } from './names.js';
import type { RecordChange, RecordSet, Tags } from './ports.js';

const RECORD_TYPES: ReadonlySet<string> = new Set(ROUTE53_RECORD_TYPES);
const ACTIONS = new Set(['CREATE', 'UPSERT', 'DELETE']);
const MAX_TTL = 2_147_483_647;

/** Validates one record set and returns it with a canonical name. @internal */
export function validateRecordSet(input: RecordSet, who: string): RecordSet {
  if (typeof input !== 'object' || input === null)
    throw invalidInput(`${who}: a record set must be an object.`);
  const name = validateRecordName(input.name);
  if (typeof input.type !== 'string' || !RECORD_TYPES.has(input.type)) {
    throw invalidInput(
      `${who}: record type ${JSON.stringify(input.type)} is not supported; use an uppercase type such as "A" or "TXT".`,
      {
        name,
      },
    );
  }
  if (
    !Array.isArray(input.values) ||
    !input.values.every((v) => typeof v === 'string' && v.length > 0 && v.length <= 4000)
  ) {
    throw invalidInput(
      `${who}: values of ${name} ${input.type} must be non-empty strings of at most 4000 characters.`,
      { name },
    );
  }
  const alias = input.aliasTarget !== undefined;
  if (
    alias
      ? input.ttl !== undefined || input.values.length > 0
      : input.ttl === undefined || input.values.length === 0
  ) {
    throw invalidInput(
      `${who}: ${name} ${input.type} needs exactly one of an alias target, or a TTL with at least one value.`,
      { name },
    );
  }
  if (input.ttl !== undefined && !(Number.isInteger(input.ttl) && input.ttl >= 0 && input.ttl <= MAX_TTL)) {
    throw invalidInput(`${who}: TTL of ${name} ${input.type} must be an integer from 0 to ${MAX_TTL}.`, {
      name,
    });
  }
  if (
    input.setIdentifier !== undefined &&
    (typeof input.setIdentifier !== 'string' ||
      input.setIdentifier.length === 0 ||
      input.setIdentifier.length > 128)
  ) {
    throw invalidInput(`${who}: setIdentifier of ${name} ${input.type} must be 1–128 characters.`, { name });
  }
  return { ...input, name };
}

/** Validates a change batch (1 or more changes, known actions, valid record sets). @internal */
export function validateChangeInput(batch: readonly RecordChange[], who: string): readonly RecordChange[] {
  if (!Array.isArray(batch) || batch.length === 0) {
    throw invalidInput(`${who}: a change batch needs at least one change.`);
  }
  return batch.map((c) => {
    if (typeof c !== 'object' || c === null || !ACTIONS.has(c.action)) {
      throw invalidInput(
        `${who}: change action must be CREATE, UPSERT or DELETE, got ${JSON.stringify(c?.action)}.`,
      );
    }
    return { action: c.action, recordSet: validateRecordSet(c.recordSet, who) };
  });
}

/** Validates the ids of one `ListTagsForResources` call (1–10 zone ids). @internal */
export function validateTagIds(zoneIds: readonly string[], who: string): readonly string[] {
  if (!Array.isArray(zoneIds) || zoneIds.length < 1 || zoneIds.length > 10) {
    throw invalidInput(
      `${who}: tags are read for 1 to 10 zones per call, got ${Array.isArray(zoneIds) ? zoneIds.length : 'no list'}.`,
    );
  }
  return zoneIds.map((id) => normalizeZoneId(id));
}

/** Validates a tag change: keys 1–128 characters, values at most 256, at most 10 of each. @internal */
export function validateTagChange(
  change: { readonly add?: Tags; readonly remove?: readonly string[] },
  who: string,
): { readonly add: Tags; readonly remove: readonly string[] } {
  const add = change?.add ?? {};
  const remove = change?.remove ?? [];
  const entries = Object.entries(add);
  if (entries.length > 10 || remove.length > 10) {
    throw invalidInput(`${who}: at most 10 tags can be added and 10 removed per call.`);
  }
  for (const [k, v] of entries) {
    if (k.length < 1 || k.length > 128 || typeof v !== 'string' || v.length > 256) {
      throw invalidInput(
        `${who}: tag ${JSON.stringify(k)} needs a key of 1–128 characters and a value of at most 256.`,
      );
    }
  }
  for (const k of remove) {
    if (typeof k !== 'string' || k.length < 1 || k.length > 128) {
      throw invalidInput(`${who}: tag keys to remove must be 1–128 characters.`);
    }
  }
  return { add, remove };
}
