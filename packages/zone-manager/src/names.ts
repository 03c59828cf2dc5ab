/**
 * Zone ids and record names as zonekeeper handles them: ids without the `/hostedzone/` prefix, names in
 * canonical form (lowercase, no trailing dot, `*` for a wildcard label), and the conversions to and
 * from the forms Route 53 sends and expects.
 *
 * @packageDocumentation
 */

import { invalidInput, normalizeHostedZoneId } from '@zonekeeper/core';

const CHANGE_ID = /^[A-Z0-9]{1,64}$/;

/**
 * Validates a hosted zone id and returns it without a `/hostedzone/` prefix. Ids are 1–32 uppercase
 * letters and digits (Route 53's look like `Z0123456789ABCDEFGHIJ`; moto's have no `Z`).
 * @throws ZonekeeperError `INVALID_INPUT` for anything else.
 * @public
 */
export function normalizeZoneId(input: unknown): string {
  return normalizeHostedZoneId(input, 'Zone id');
}

/**
 * Validates a change id and returns it without a `/change/` prefix.
 * @internal
 */
export function normalizeChangeId(input: unknown): string {
  if (typeof input !== 'string') throw invalidInput('Change id must be a string.');
  const id = input.startsWith('/change/') ? input.slice('/change/'.length) : input;
  if (!CHANGE_ID.test(id)) {
    throw invalidInput(
      `Change id ${JSON.stringify(input)} is not a Route 53 change id such as "C2682N5HXP0BZ4".`,
      {
        value: input,
      },
    );
  }
  return id;
}

/** Strips one API prefix such as `/hostedzone/` or `/change/`. @internal */
export function stripPrefix(id: string, prefix: string): string {
  return id.startsWith(prefix) ? id.slice(prefix.length) : id;
}

/**
 * The canonical form of a record or zone name as Route 53 returns it: `\ooo` octal escapes decoded
 * (`\052` becomes `*`), lowercased, without the trailing dot.
 * @public
 */
export function canonicalRecordName(wire: string): string {
  const decoded = wire.replace(/\\([0-7]{3})/g, (_, octal: string) =>
    String.fromCharCode(Number.parseInt(octal, 8)),
  );
  const trimmed = decoded.endsWith('.') ? decoded.slice(0, -1) : decoded;
  return trimmed.toLowerCase();
}

/**
 * The form Route 53 expects when writing a name: a trailing dot, and characters other than `a-z`, `0-9`,
 * `-`, `_` and `.` as `\ooo` octal escapes, except a whole left-most `*` label (a wildcard), which is
 * sent as `*`.
 * @public
 */
export function encodeRecordName(name: string): string {
  const labels = name.split('.');
  const encoded = labels.map((label, i) =>
    i === 0 && label === '*'
      ? '*'
      : label.replace(/[^a-z0-9_-]/g, (ch) => `\\${ch.charCodeAt(0).toString(8).padStart(3, '0')}`),
  );
  return `${encoded.join('.')}.`;
}

const RECORD_LABEL = /^(?:\*|[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)$/;

/**
 * Validates a record name given to a provider: canonical form, labels of `a-z`, `0-9`, `-` and `_`
 * (ExternalDNS and ACME use `_` prefixes), a `*` allowed only as the whole left-most label.
 * @throws ZonekeeperError `INVALID_INPUT`.
 * @internal
 */
export function validateRecordName(input: unknown): string {
  if (typeof input !== 'string') throw invalidInput('Record name must be a string.');
  const name = (input.endsWith('.') ? input.slice(0, -1) : input).toLowerCase();
  if (name.length === 0 || name.length > 253) {
    throw invalidInput(`Record name ${JSON.stringify(input)} must be 1–253 characters long.`, {
      value: input,
    });
  }
  const labels = name.split('.');
  for (const [i, label] of labels.entries()) {
    if (!RECORD_LABEL.test(label) || (label === '*' && i !== 0)) {
      throw invalidInput(
        `Record name ${JSON.stringify(input)}: label ${i + 1} (${JSON.stringify(label)}) is not a valid DNS label; use a-z, 0-9, "-", "_", and "*" only as the whole left-most label.`,
        { value: input },
      );
    }
  }
  return name;
}

/**
 * Compares two canonical names in Route 53's listing order: label by label from the right
 * (`com.example.www`), each label by code unit.
 * @internal
 */
export function compareDnsNames(a: string, b: string): number {
  const la = a.split('.').reverse();
  const lb = b.split('.').reverse();
  const n = Math.min(la.length, lb.length);
  for (let i = 0; i < n; i++) {
    const x = la[i] as string;
    const y = lb[i] as string;
    if (x !== y) return x < y ? -1 : 1;
  }
  return la.length - lb.length;
}

/** Name servers compared as a set: canonical names, sorted. @internal */
export function nameServerKey(values: readonly string[]): string {
  return [...new Set(values.map((v) => canonicalRecordName(v.trim())))].sort().join(' ');
}
