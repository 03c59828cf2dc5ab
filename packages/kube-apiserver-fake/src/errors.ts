/**
 * `Status` objects, with the reasons, codes and messages the real API server sends.
 * @internal
 */

import type { JsonObject } from './json.js';

/** One `details.causes[]` entry. */
export interface StatusCause {
  readonly reason: string;
  readonly message: string;
  readonly field?: string;
}

/** An error answered as a `Status` with an HTTP code. */
export class StatusError extends Error {
  override readonly name = 'StatusError';
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: {
      readonly name?: string;
      readonly group?: string;
      readonly kind?: string;
      readonly uid?: string;
      readonly causes?: readonly StatusCause[];
    },
  ) {
    super(message);
  }

  /** The `Status` body. */
  toStatus(): JsonObject {
    const status: JsonObject = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
    };
    if (this.reason) status.reason = this.reason;
    if (this.details) {
      const d: JsonObject = {};
      // StatusDetails fields are omitempty: an empty name is not sent.
      if (this.details.name) d.name = this.details.name;
      if (this.details.group) d.group = this.details.group;
      if (this.details.kind !== undefined) d.kind = this.details.kind;
      if (this.details.uid !== undefined) d.uid = this.details.uid;
      if (this.details.causes && this.details.causes.length > 0) {
        d.causes = this.details.causes.map((c) => {
          const cause: JsonObject = { reason: c.reason, message: c.message };
          if (c.field !== undefined) cause.field = c.field;
          return cause;
        });
      }
      status.details = d;
    }
    status.code = this.code;
    return status;
  }
}

/** `group/resource` as the API server prints it: `deployments.apps`, or `secrets` for the core group. */
export function qualifiedResource(group: string, resource: string): string {
  return group ? `${resource}.${group}` : resource;
}

/** 404 `<resource> "<name>" not found`. */
export function notFound(group: string, resource: string, name: string): StatusError {
  return new StatusError(404, 'NotFound', `${qualifiedResource(group, resource)} "${name}" not found`, {
    name,
    group,
    kind: resource,
  });
}

/** 409 `<resource> "<name>" already exists`. */
export function alreadyExists(
  group: string,
  resource: string,
  name: string,
  beingDeleted = false,
): StatusError {
  const prefix = beingDeleted ? 'object is being deleted: ' : '';
  return new StatusError(
    409,
    'AlreadyExists',
    `${prefix}${qualifiedResource(group, resource)} "${name}" already exists`,
    {
      name,
      group,
      kind: resource,
    },
  );
}

/** 409 optimistic-concurrency conflict. */
export function conflict(group: string, resource: string, name: string, why?: string): StatusError {
  return new StatusError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualifiedResource(group, resource)} "${name}": ${
      why ?? 'the object has been modified; please apply your changes to the latest version and try again'
    }`,
    { name, group, kind: resource },
  );
}

/** One field error of a 422 Invalid. */
export interface FieldError {
  readonly type:
    | 'FieldValueRequired'
    | 'FieldValueInvalid'
    | 'FieldValueForbidden'
    | 'FieldValueNotSupported'
    | 'FieldValueDuplicate'
    | 'FieldValueTooLong';
  readonly field: string;
  readonly detail?: string;
  readonly value?: unknown;
  readonly supported?: readonly string[];
}

/** A value already rendered the way Go's `%#v` would print it. */
export class GoValue {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

/** Go-like rendering of a value in a field error. */
export function goValue(value: unknown): string {
  if (value instanceof GoValue) return value.text;
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return `[]interface {}{${value.map(goValue).join(', ')}}`;
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.every(([, v]) => typeof v === 'string')) {
    return `map[string]string{${entries
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`)
      .join(', ')}}`;
  }
  return JSON.stringify(value);
}

function errorBody(e: FieldError): string {
  switch (e.type) {
    case 'FieldValueRequired':
      return e.detail ? `Required value: ${e.detail}` : 'Required value';
    case 'FieldValueForbidden':
      return e.detail ? `Forbidden: ${e.detail}` : 'Forbidden';
    case 'FieldValueNotSupported':
      return `Unsupported value: ${goValue(e.value)}${
        e.supported ? `: supported values: ${e.supported.map((s) => JSON.stringify(s)).join(', ')}` : ''
      }`;
    case 'FieldValueDuplicate':
      return `Duplicate value: ${goValue(e.value)}`;
    case 'FieldValueTooLong':
      return `Too long: ${e.detail ?? ''}`;
    default:
      return `Invalid value: ${goValue(e.value)}${e.detail ? `: ${e.detail}` : ''}`;
  }
}

/** 422 `<Kind>.<group> "<name>" is invalid: <field errors>` with `details.causes`. */
export function invalid(
  group: string,
  kind: string,
  name: string,
  errors: readonly FieldError[],
): StatusError {
  const qualifiedKind = group ? `${kind}.${group}` : kind;
  const parts = errors.map((e) => `${e.field}: ${errorBody(e)}`);
  const joined = parts.length === 1 ? (parts[0] as string) : `[${parts.join(', ')}]`;
  return new StatusError(422, 'Invalid', `${qualifiedKind} "${name}" is invalid: ${joined}`, {
    name,
    group,
    kind,
    causes: errors.map((e) => ({ reason: e.type, message: errorBody(e), field: e.field })),
  });
}

/** 400 BadRequest. */
export function badRequest(message: string): StatusError {
  return new StatusError(400, 'BadRequest', message);
}

/** 403 for creating content in a Terminating namespace. */
export function namespaceTerminating(
  group: string,
  resource: string,
  name: string,
  namespace: string,
): StatusError {
  const message = `unable to create new content in namespace ${namespace} because it is being terminated`;
  return new StatusError(
    403,
    'Forbidden',
    `${qualifiedResource(group, resource)} "${name}" is forbidden: ${message}`,
    {
      name,
      group,
      kind: resource,
      causes: [
        {
          reason: 'NamespaceTerminating',
          message: `namespace ${namespace} is being terminated`,
          field: 'metadata.namespace',
        },
      ],
    },
  );
}

/** 401. */
export function unauthorized(): StatusError {
  return new StatusError(401, 'Unauthorized', 'Unauthorized');
}

/** 405. */
export function methodNotAllowed(): StatusError {
  return new StatusError(
    405,
    'MethodNotAllowed',
    'the server does not allow this method on the requested resource',
  );
}

/** 404 for paths the server does not serve. */
export function pathNotFound(): StatusError {
  return new StatusError(404, 'NotFound', 'the server could not find the requested resource');
}

/** 415 for patch types the resource does not accept. */
export function unsupportedMediaType(accepted: readonly string[]): StatusError {
  return new StatusError(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`,
  );
}

/** 406 when no acceptable representation exists. */
export function notAcceptable(): StatusError {
  return new StatusError(
    406,
    'NotAcceptable',
    'only the following media types are accepted: application/json, application/yaml',
  );
}

/** 500. */
export function internalError(message: string): StatusError {
  return new StatusError(500, 'InternalError', `Internal error occurred: ${message}`, {
    causes: [{ reason: 'UnexpectedServerResponse', message }],
  });
}
