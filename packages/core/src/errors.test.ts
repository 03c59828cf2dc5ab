import { describe, expect, it } from 'vitest';
import {
  defaultRetryClass,
  ErrorCodes,
  hasErrorCode,
  invalidInput,
  isAbortError,
  isRetryable,
  isZonekeeperError,
  toZonekeeperError,
  ZonekeeperError,
} from './errors.js';

describe('ZonekeeperError', () => {
  it('carries code, default retry class, cause and details', () => {
    const cause = new Error('Rate exceeded');
    const e = new ZonekeeperError('THROTTLED', 'Route 53 throttled ListHostedZones.', {
      cause,
      retryAfterMs: 1500,
      details: { op: 'ListHostedZones' },
    });
    expect(e.name).toBe('ZonekeeperError');
    expect(e.code).toBe('THROTTLED');
    expect(e.retry).toBe('transient');
    expect(e.retryAfterMs).toBe(1500);
    expect(e.cause).toBe(cause);
    expect(e.details).toEqual({ op: 'ListHostedZones' });
    expect(e).toBeInstanceOf(Error);
  });

  it('lets the thrower override the retry class', () => {
    expect(new ZonekeeperError('CONFLICT', 'CAS mismatch', { retry: 'transient' }).retry).toBe('transient');
  });

  it('gives every code a default retry class', () => {
    for (const code of Object.values(ErrorCodes))
      expect(defaultRetryClass[code]).toMatch(/^(transient|pending|permanent|bug)$/);
    expect(defaultRetryClass.PENDING).toBe('pending');
    expect(defaultRetryClass.INTERNAL).toBe('bug');
    expect(defaultRetryClass.INVALID_INPUT).toBe('permanent');
  });

  it('serialises to JSON without the cause', () => {
    const e = new ZonekeeperError('NOT_OWNED', 'Zone Z1 is not managed by zonekeeper.', {
      cause: new Error('secret internals'),
    });
    expect(JSON.parse(JSON.stringify(e))).toEqual({
      name: 'ZonekeeperError',
      code: 'NOT_OWNED',
      retry: 'permanent',
      message: 'Zone Z1 is not managed by zonekeeper.',
    });
  });
});

describe('guards check name and code, not instanceof', () => {
  it('recognises a structurally identical error from another copy of the package', () => {
    const foreign = Object.assign(new Error('x'), {
      name: 'ZonekeeperError',
      code: 'NOT_FOUND',
      retry: 'permanent',
    });
    expect(isZonekeeperError(foreign)).toBe(true);
    expect(hasErrorCode(foreign, 'NOT_FOUND')).toBe(true);
    expect(hasErrorCode(foreign, ['CONFLICT', 'NOT_FOUND'])).toBe(true);
    expect(hasErrorCode(foreign, 'CONFLICT')).toBe(false);
  });

  it('rejects look-alikes with an unknown code, other names and non-objects', () => {
    expect(isZonekeeperError(Object.assign(new Error('x'), { name: 'ZonekeeperError', code: 'NOPE' }))).toBe(
      false,
    );
    expect(isZonekeeperError(Object.assign(new Error('x'), { code: 'NOT_FOUND' }))).toBe(false);
    expect(isZonekeeperError(null)).toBe(false);
    expect(isZonekeeperError('ZonekeeperError')).toBe(false);
  });

  it('isRetryable is true only for transient and pending zonekeeper errors', () => {
    expect(isRetryable(new ZonekeeperError('UNAVAILABLE', 'x'))).toBe(true);
    expect(isRetryable(new ZonekeeperError('PENDING', 'x'))).toBe(true);
    expect(isRetryable(new ZonekeeperError('INVALID_INPUT', 'x'))).toBe(false);
    expect(isRetryable(new ZonekeeperError('INTERNAL', 'x'))).toBe(false);
    expect(isRetryable(new Error('x'))).toBe(false);
  });

  it('isAbortError recognises the platform abort and timeout errors', async () => {
    const c = new AbortController();
    c.abort();
    expect(isAbortError(c.signal.reason)).toBe(true);
    const t = AbortSignal.timeout(1);
    await new Promise((r) => setTimeout(r, 20));
    expect(isAbortError(t.reason)).toBe(true);
    expect(isAbortError(new Error('x'))).toBe(false);
  });
});

describe('helpers', () => {
  it('invalidInput builds an INVALID_INPUT error', () => {
    const e = invalidInput('Organisation name must not be empty.', { field: 'organization' });
    expect(e.code).toBe('INVALID_INPUT');
    expect(e.retry).toBe('permanent');
    expect(e.details).toEqual({ field: 'organization' });
  });

  it('toZonekeeperError passes zonekeeper errors through and wraps anything else as INTERNAL', () => {
    const own = new ZonekeeperError('CONFLICT', 'x');
    expect(toZonekeeperError(own)).toBe(own);
    const raw = new TypeError('boom');
    const wrapped = toZonekeeperError(raw, 'Applying step create-zone');
    expect(wrapped.code).toBe('INTERNAL');
    expect(wrapped.message).toBe('Applying step create-zone: boom');
    expect(wrapped.cause).toBe(raw);
    expect(toZonekeeperError('plain string').message).toBe('Unexpected error: plain string');
  });
});
