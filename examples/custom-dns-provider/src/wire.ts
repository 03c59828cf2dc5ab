/**
 * The JSON shapes of the example DNS service's REST API (snake_case, as such APIs usually are). Shared
 * by the provider and the in-process fake.
 */

/** A zone as the API returns it. */
export interface WireZone {
  readonly id: string;
  readonly name: string;
  /** The idempotency token the zone was created with (our CallerReference). */
  readonly reference: string;
  readonly comment?: string;
  readonly record_count?: number;
  readonly private: boolean;
}

/** A submitted change. */
export interface WireChange {
  readonly id: string;
  readonly status: 'pending' | 'done';
  /** ISO 8601. */
  readonly submitted_at: string;
}

/** A record set. */
export interface WireRecord {
  readonly name: string;
  readonly type: string;
  readonly ttl?: number;
  readonly values: readonly string[];
  readonly alias?: { readonly zone_id: string; readonly dns_name: string; readonly evaluate_health: boolean };
  readonly set_id?: string;
  readonly extra?: Readonly<Record<string, unknown>>;
}

/** Where the next page of records starts. */
export interface WireRecordCursor {
  readonly name: string;
  readonly type: string;
  readonly set_id?: string;
}

/** The body of every error response. */
export interface WireError {
  readonly error: { readonly code: string; readonly message: string };
}
