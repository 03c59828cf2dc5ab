/**
 * Vault's wire conventions, shared by every engine of the fake: JSON values, the response envelope,
 * error bodies, Go-style time stamps and durations, and Go's boolean and integer parsing.
 *
 * Internal to `@zonekeeper/testkit/vault`; nothing here is exported from the package.
 *
 * @packageDocumentation
 */

/** A JSON value as parsed from a request body. */
export type Json = null | boolean | number | string | Json[] | JsonObject;
/** A JSON object. */
export interface JsonObject {
  [key: string]: Json;
}

/** True for a plain JSON object (not an array, not null). */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A deep copy of a JSON value (stored data never shares objects with requests or callers). */
export function cloneJson<T extends Json>(value: T): T {
  return structuredClone(value);
}

/**
 * An error answered as `{"errors":[…]}` with an HTTP status. Thrown by engines and caught by the
 * request handler, which turns it into the response.
 */
export class VaultHttpError extends Error {
  readonly status: number;
  readonly errors: readonly string[];
  constructor(status: number, errors: readonly string[]) {
    super(errors[0] ?? `Status ${status}`);
    this.name = 'VaultHttpError';
    this.status = status;
    this.errors = errors;
  }
}

/** A 400 with one message, the usual "logical.ErrorResponse + ErrInvalidRequest" answer. */
export function badRequest(message: string): VaultHttpError {
  return new VaultHttpError(400, [message]);
}

/**
 * Formats errors the way `hashicorp/go-multierror` does, which is how Vault reports several wrapped
 * errors in one string (`1 error occurred:\n\t* permission denied\n\n`).
 */
export function multiError(messages: readonly string[]): string {
  const points = messages.map((m) => `* ${m}`).join('\n\t');
  return messages.length === 1
    ? `1 error occurred:\n\t${points}\n\n`
    : `${messages.length} errors occurred:\n\t${points}\n\n`;
}

/** A point in time with nanosecond digits below the millisecond, like Go's `time.Time`. */
export interface Stamp {
  /** Milliseconds since the epoch. */
  readonly ms: number;
  /** Nanoseconds within the millisecond, 0…999 999. */
  readonly subMs: number;
}

/** Formats a stamp as Go's `time.RFC3339Nano` in UTC: nine fraction digits at most, trailing zeros trimmed. */
export function formatStamp(stamp: Stamp): string {
  const iso = new Date(stamp.ms).toISOString(); // 2024-01-02T03:04:05.678Z
  const fraction = `${iso.slice(20, 23)}${String(stamp.subMs).padStart(6, '0')}`.replace(/0+$/, '');
  return `${iso.slice(0, 19)}${fraction === '' ? '' : `.${fraction}`}Z`;
}

/** The stamp `seconds` later (Go adds durations at nanosecond precision, so the sub-ms digits stay). */
export function addSeconds(stamp: Stamp, seconds: number): Stamp {
  return { ms: stamp.ms + seconds * 1000, subMs: stamp.subMs };
}

/** Compares two stamps: negative if a is earlier. */
export function compareStamps(a: Stamp, b: Stamp): number {
  return a.ms === b.ms ? a.subMs - b.subMs : a.ms - b.ms;
}

/** Formats whole seconds like Go's `time.Duration.String()`: `0s`, `45s`, `1m30s`, `3h25m19s`, `-1s`. */
export function formatGoDuration(totalSeconds: number): string {
  if (totalSeconds === 0) return '0s';
  if (totalSeconds < 0) return `-${formatGoDuration(-totalSeconds)}`;
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  if (hours > 0) return `${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${minutes}m${seconds}s`;
  return `${seconds}s`;
}

const durationUnits: Readonly<Record<string, number>> = {
  ns: 1e-9,
  us: 1e-6,
  µs: 1e-6,
  μs: 1e-6,
  ms: 1e-3,
  s: 1,
  m: 60,
  h: 3600,
  d: 86_400,
};

/**
 * Parses a duration the way Vault's `TypeDurationSecond` fields do: a JSON number or a string of
 * digits is seconds; otherwise a Go duration string (`90s`, `1h30m`, `1.5h`, `2d`). Returns whole
 * seconds (truncated toward zero), or `undefined` when the value is not a duration.
 */
export function parseDurationSeconds(value: Json | undefined): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? Math.trunc(value) : undefined;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (text === '') return 0;
  if (/^[-+]?\d+$/.test(text)) return Number.parseInt(text, 10);
  const sign = text.startsWith('-') ? -1 : 1;
  let rest = text.replace(/^[-+]/, '');
  if (rest === '0') return 0;
  let total = 0;
  const part = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h|d)/;
  if (rest === '') return undefined;
  while (rest !== '') {
    const match = part.exec(rest);
    if (match === null) return undefined;
    const [whole, amount = '', unit = ''] = match;
    total += Number(amount) * (durationUnits[unit] ?? Number.NaN);
    rest = rest.slice(whole.length);
  }
  return Number.isFinite(total) ? sign * Math.trunc(total + 1e-9) : undefined;
}

/** Go's `strconv.ParseBool`: `1 t T TRUE true True` / `0 f F FALSE false False`, else `undefined`. */
export function parseGoBool(text: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return false;
  return undefined;
}

/** A request field typed `TypeBool`: a JSON boolean or a string Go can parse; else `undefined`. */
export function fieldBool(value: Json | undefined): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') return parseGoBool(value);
  if (typeof value === 'number') return value !== 0;
  return undefined;
}

/** A request field typed `TypeInt`: a JSON number or a numeric string, truncated; else `undefined`. */
export function fieldInt(value: Json | undefined): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? Math.trunc(value) : undefined;
  if (typeof value === 'string' && /^\s*[-+]?\d+(\.\d+)?\s*$/.test(value)) return Math.trunc(Number(value));
  return undefined;
}

/** The error Vault's field parser reports for a value of the wrong type. */
export function fieldError(name: string, value: Json | undefined, type: string): VaultHttpError {
  return badRequest(
    `error converting input ${JSON.stringify(value ?? null)} for field "${name}": cannot parse as ${type}`,
  );
}

/**
 * A copy of a JSON value with every object's keys in sorted order, as Go's `encoding/json` writes maps
 * (Vault's `data` is a `map[string]interface{}`, so clients always see sorted keys).
 */
export function sortKeysDeep<T extends Json>(value: T): T {
  if (Array.isArray(value)) return value.map((item) => sortKeysDeep(item)) as T;
  if (!isJsonObject(value)) return value;
  const out: JsonObject = {};
  for (const key of Object.keys(value).sort()) out[key] = sortKeysDeep(value[key] ?? null);
  return out as T;
}

/** Everything a JSON response carries besides `data`, with Vault's defaults. */
export interface EnvelopeFields {
  readonly data?: JsonObject | null;
  readonly warnings?: readonly string[] | null;
  readonly auth?: JsonObject | null;
  readonly leaseId?: string;
  readonly leaseDuration?: number;
  readonly renewable?: boolean;
}

/**
 * Vault's response envelope, in Vault's field order. `mountType` is the type of the mount that served
 * the request (`kv`, `system`, `token`), or `""` for bodies an engine renders itself (the 404 of a
 * deleted version).
 */
export function envelope(requestId: string, fields: EnvelopeFields, mountType: string): JsonObject {
  return {
    request_id: requestId,
    lease_id: fields.leaseId ?? '',
    renewable: fields.renewable ?? false,
    lease_duration: fields.leaseDuration ?? 0,
    data: fields.data ? sortKeysDeep(fields.data) : null,
    wrap_info: null,
    warnings: fields.warnings && fields.warnings.length > 0 ? [...fields.warnings] : null,
    auth: fields.auth ?? null,
    mount_type: mountType,
  };
}
