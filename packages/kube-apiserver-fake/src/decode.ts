/**
 * Decoding a request body into a built-in type the way the real API server does, beyond JSON types:
 *
 * - **Unknown fields** are dropped (built-in types are Go structs). `fieldValidation=Strict` rejects
 *   them with 400 `strict decoding error: unknown field "…"`, `Warn` (the default) answers a
 *   `Warning: 299` header per field, `Ignore` drops them silently. Server-side apply rejects them
 *   whatever `fieldValidation` says (500 `… field not declared in schema`), because the apply
 *   configuration is typed against the schema.
 * - **Quantities** are parsed and re-encoded canonically ({@link canonicalQuantity}); one that does
 *   not parse fails the decode.
 * - **MicroTimes** (`Lease` `acquireTime`/`renewTime`) must be RFC 3339 with exactly six fractional
 *   digits, and are stored in UTC.
 * @internal
 */

import { badRequest, invalid, StatusError } from './errors.js';
import { isObject, type Json, type JsonObject } from './json.js';
import { isKnownField } from './known-fields.js';
import { canonicalQuantity, QuantityError } from './quantity.js';
import type { ResourceDefinition } from './resources.js';
import type { Schema } from './schema.js';

/** The `fieldValidation` query parameter. */
export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

/** Parses `fieldValidation` (absent or empty: `Warn`). @throws StatusError 422 for other values. */
export function parseFieldValidation(value: string | undefined, optionsKind: string): FieldValidation {
  if (value === undefined || value === '') return 'Warn';
  if (value === 'Strict' || value === 'Warn' || value === 'Ignore') return value;
  throw invalid('meta.k8s.io', optionsKind, '', [
    {
      type: 'FieldValueNotSupported',
      field: 'fieldValidation',
      value,
      supported: ['', 'Ignore', 'Strict', 'Warn'],
    },
  ]);
}

/** A value that fails to decode. */
class DecodeError extends Error {}

const MICRO_LAYOUT = '2006-01-02T15:04:05.000000Z07:00';

function timeError(value: string, rest: string, element: string): DecodeError {
  return new DecodeError(
    `parsing time ${JSON.stringify(value)} as ${JSON.stringify(MICRO_LAYOUT)}: cannot parse ${JSON.stringify(rest)} as ${JSON.stringify(element)}`,
  );
}

/** Parses a `metav1.MicroTime` as Go's `time.Parse(RFC3339Micro)` does; returns it in UTC. */
export function parseMicroTime(value: string): string {
  let rest = value;
  const fields: number[] = [];
  const number = (digits: number, element: string, fixed: boolean): void => {
    const m = (fixed ? new RegExp(`^\\d{${digits}}`) : /^\d{1,2}/).exec(rest);
    if (!m) throw timeError(value, rest, element);
    fields.push(Number(m[0]));
    rest = rest.slice(m[0].length);
  };
  const literal = (text: string): void => {
    if (!rest.startsWith(text)) throw timeError(value, rest, text);
    rest = rest.slice(text.length);
  };
  number(4, '2006', true);
  literal('-');
  number(2, '01', true);
  literal('-');
  number(2, '02', true);
  literal('T');
  number(2, '15', false);
  literal(':');
  number(2, '04', true);
  literal(':');
  number(2, '05', true);
  const frac = /^[.,]\d{6}/.exec(rest);
  if (!frac) throw timeError(value, rest, '.000000');
  rest = rest.slice(7);
  let offsetMinutes = 0;
  if (rest.startsWith('Z')) rest = rest.slice(1);
  else {
    const z = /^([+-])(\d{2}):(\d{2})/.exec(rest);
    if (!z) throw timeError(value, rest, 'Z07:00');
    offsetMinutes = (z[1] === '-' ? -1 : 1) * (Number(z[2]) * 60 + Number(z[3]));
    rest = rest.slice(6);
  }
  if (rest !== '')
    throw new DecodeError(`parsing time ${JSON.stringify(value)}: extra text: ${JSON.stringify(rest)}`);
  const [year, month, day, hour, minute, second] = fields as [number, number, number, number, number, number];
  const range = (what: string) =>
    new DecodeError(`parsing time ${JSON.stringify(value)}: ${what} out of range`);
  if (month < 1 || month > 12) throw range('month');
  if (hour > 23) throw range('hour');
  if (minute > 59) throw range('minute');
  if (second > 59) throw range('second');
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day < 1 || day > daysInMonth) throw range('day');
  const utc = new Date(Date.UTC(year, month - 1, day, hour, minute, second) - offsetMinutes * 60_000);
  utc.setUTCFullYear(utc.getUTCFullYear()); // keep years < 100 as given
  return `${utc.toISOString().slice(0, 19)}${(frac[0] as string).replace(',', '.')}Z`;
}

interface Walk {
  /** Unknown fields, in document order, as the strict decoder names them (`spec.x`, `a[0].b`). */
  readonly unknown: string[];
  /** The first unknown field as server-side apply names it (`.spec.x`, `.a[name="c"].b`). */
  firstApplyPath?: string;
}

function listItemKey(schema: Schema, item: Json, index: number): string {
  if (schema.kind === 'list' && schema.listType === 'map' && schema.keys && isObject(item)) {
    const parts = schema.keys
      .filter((k) => item[k] !== undefined)
      .map((k) => `${k}=${JSON.stringify(item[k])}`);
    if (parts.length > 0) return `[${parts.join(',')}]`;
  }
  return `[${index}]`;
}

/** Walks `value` against `schema`: drops unknown fields, canonicalises quantities and times. */
function walk(value: Json, schema: Schema, path: string, applyPath: string, out: Walk): Json {
  if (value === null) return value;
  switch (schema.kind) {
    case 'scalar':
      if (schema.type === 'quantity') {
        try {
          return canonicalQuantity(value, schema.resourceList ? { resourceList: true } : {});
        } catch (error) {
          if (error instanceof QuantityError) throw new DecodeError(error.message);
          throw error;
        }
      }
      if (schema.type === 'micro-time' && typeof value === 'string') return parseMicroTime(value);
      return value;
    case 'list':
      if (!Array.isArray(value)) return value;
      return value.map((item, i) =>
        walk(item, schema.items, `${path}[${i}]`, `${applyPath}${listItemKey(schema, item, i)}`, out),
      );
    case 'map':
      if (!isObject(value)) return value;
      for (const [k, v] of Object.entries(value))
        value[k] = walk(v, schema.values, `${path}.${k}`, `${applyPath}.${k}`, out);
      return value;
    case 'struct':
      if (!isObject(value)) return value;
      for (const [k, v] of Object.entries(value)) {
        const p = path ? `${path}.${k}` : k;
        if (!isKnownField(schema, k)) {
          out.unknown.push(p);
          out.firstApplyPath ??= `${applyPath}.${k}`;
          delete value[k];
          continue;
        }
        const field = schema.fields[k];
        if (field) value[k] = walk(v, field, p, `${applyPath}.${k}`, out);
      }
      return value;
    default:
      return value;
  }
}

/** The text of `GroupVersionKind.String()`: `apps/v1, Kind=Deployment`, `/v1, Kind=ConfigMap`. */
function gvkString(def: ResourceDefinition): string {
  return `${def.group}/${def.version}, Kind=${def.kind}`;
}

/**
 * Decodes a create/update body in place: unknown fields dropped (or rejected under `Strict`),
 * quantities and MicroTimes canonicalised. Returns the warnings to send (`Warn`).
 * @throws StatusError 400 for a value that does not decode or (Strict) an unknown field.
 */
export function decodeObject(def: ResourceDefinition, o: JsonObject, validation: FieldValidation): string[] {
  const out: Walk = { unknown: [] };
  try {
    walk(o, def.schema, '', '', out);
  } catch (error) {
    if (error instanceof DecodeError)
      throw badRequest(
        `${def.kind} in version "${def.version}" cannot be handled as a ${def.kind}: ${error.message}`,
      );
    throw error;
  }
  if (out.unknown.length === 0 || validation === 'Ignore') return [];
  const messages = out.unknown.map((p) => `unknown field ${JSON.stringify(p)}`);
  if (validation === 'Strict') {
    throw badRequest(
      `${def.kind} in version "${def.version}" cannot be handled as a ${def.kind}: strict decoding error: ${messages.join(', ')}`,
    );
  }
  return messages;
}

/**
 * Checks and canonicalises a server-side apply configuration in place.
 * @throws StatusError 500 for an unknown field (`failed to create typed patch object`) or a value that
 * does not decode (`failed to convert new object`), as the real server answers. `where` is
 * `namespace/name` as the configuration gives them.
 */
export function decodeApplyConfiguration(def: ResourceDefinition, config: JsonObject, where: string): void {
  const out: Walk = { unknown: [] };
  try {
    walk(config, def.schema, '', '', out);
  } catch (error) {
    if (error instanceof DecodeError)
      throw new StatusError(
        500,
        '',
        `failed to convert new object (${where}; ${gvkString(def)}) to proper version: unable to convert unstructured object to ${gvkString(def)}: ${error.message}`,
      );
    throw error;
  }
  if (out.firstApplyPath !== undefined) {
    throw new StatusError(
      500,
      '',
      `failed to create typed patch object (${where}; ${gvkString(def)}): ${out.firstApplyPath}: field not declared in schema`,
    );
  }
}

/** Go's `json.Marshal` of a map: keys sorted at every level. */
function sortedJson(value: Json): string {
  const sort = (v: Json): Json =>
    Array.isArray(v)
      ? v.map(sort)
      : isObject(v)
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, sort(v[k] as Json)]),
          )
        : v;
  return JSON.stringify(sort(value));
}

/**
 * Checks the result of a JSON, merge or strategic merge patch: unknown fields are dropped (with
 * warnings), or under `Strict` a 422 naming the patched object, as the real server answers.
 */
export function decodePatched(
  def: ResourceDefinition,
  patched: JsonObject,
  validation: FieldValidation,
): string[] {
  const copy = JSON.parse(JSON.stringify(patched)) as JsonObject;
  const out: Walk = { unknown: [] };
  try {
    walk(patched, def.schema, '', '', out);
  } catch (error) {
    if (error instanceof DecodeError)
      throw badRequest(
        `${def.kind} in version "${def.version}" cannot be handled as a ${def.kind}: ${error.message}`,
      );
    throw error;
  }
  if (out.unknown.length === 0 || validation === 'Ignore') return [];
  const messages = out.unknown.map((p) => `unknown field ${JSON.stringify(p)}`);
  if (validation === 'Strict') {
    const detail = `strict decoding error: ${messages.join(', ')}`;
    const value = JSON.stringify(sortedJson(copy));
    throw new StatusError(422, 'Invalid', ` "" is invalid: patch: Invalid value: ${value}: ${detail}`, {
      name: '',
      causes: [
        { reason: 'FieldValueInvalid', message: `Invalid value: ${value}: ${detail}`, field: 'patch' },
      ],
    });
  }
  return messages;
}
