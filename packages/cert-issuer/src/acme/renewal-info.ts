/**
 * ACME Renewal Information (ARI, RFC 9773): the CA suggests when a certificate should be renewed — a
 * window, which it moves into the past when it wants a certificate replaced now (e.g. after a
 * revocation) — and a renewal order names the certificate it replaces.
 *
 * ```
 *  acmeCertId (pure)            base64url(AKI keyIdentifier) "." base64url(serial, DER INTEGER bytes)
 *  fetchRenewalInfo (I/O)       GET <directory>.renewalInfo/<CertID> → window | not-offered | failed
 *  decideAcmeRenewal (pure)     now, certificate, renewal info, a random fraction → renew or not, why
 * ```
 *
 * The decision follows RFC 9773 §4.2: a time is picked uniformly inside the suggested window (the
 * random fraction is an input, so the function stays pure); the certificate is renewed once that time
 * is reached, or at once when the window has passed. Without usable renewal information (the CA offers
 * none, the request failed, the answer is invalid) it falls back to the lifetime fraction
 * (`renewalTime`: two thirds by default), deterministically, and says which case it was.
 *
 * @packageDocumentation
 */

import { type Agent, request as httpsRequest } from 'node:https';
import { type ErrorCode, invalidInput, isAbortError, type RetryClass } from '@zonekeeper/core';
import { renewalTime } from '../certificates.js';
import { children, readElement } from '../der.js';
import { acmeProblemError, parseAcmeProblem, parseRetryAfter } from './problems.js';

const AKI_OID = '2.5.29.35';

function base64url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url');
}

function pemToDer(pem: string): Uint8Array {
  const match = /-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/.exec(pem);
  if (!match) throw invalidInput('ARI: the certificate is not a PEM certificate.');
  return new Uint8Array(Buffer.from((match[1] as string).replace(/\s+/g, ''), 'base64'));
}

/** The certificate's AKI keyIdentifier and serial INTEGER contents, read from its DER. */
function certIdParts(der: Uint8Array): { keyIdentifier: Uint8Array; serial: Uint8Array } {
  const certificate = readElement(der, 0);
  const [tbsElement] = children(der, certificate);
  if (certificate.tag !== 0x30 || tbsElement?.tag !== 0x30) throw new Error('not a certificate');
  const tbs = children(der, tbsElement);
  const offset = tbs[0]?.tag === 0xa0 ? 1 : 0;
  const serial = tbs[offset];
  if (serial?.tag !== 0x02) throw new Error('no serial number');
  const wrapper = tbs.slice(offset + 6).find((e) => e.tag === 0xa3);
  const [list] = wrapper ? children(der, wrapper) : [];
  for (const ext of list ? children(der, list) : []) {
    const parts = children(der, ext);
    const id = parts[0];
    const value = parts[parts.length - 1];
    if (id?.tag !== 0x06 || value?.tag !== 0x04) continue;
    const oid = der.subarray(id.contentStart, id.end);
    // 2.5.29.35 encodes as 55 1d 23.
    if (!(oid.length === 3 && oid[0] === 0x55 && oid[1] === 0x1d && oid[2] === 0x23)) continue;
    const aki = readElement(der, value.contentStart, value.end);
    // AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING OPTIONAL, … }
    const keyIdentifier = children(der, aki).find((e) => e.tag === 0x80);
    if (aki.tag !== 0x30 || !keyIdentifier || keyIdentifier.end === keyIdentifier.contentStart) break;
    return {
      keyIdentifier: der.subarray(keyIdentifier.contentStart, keyIdentifier.end),
      serial: der.subarray(serial.contentStart, serial.end),
    };
  }
  throw new Error(`no authority key identifier (${AKI_OID}) with a keyIdentifier`);
}

/**
 * The ARI CertID of a certificate (RFC 9773 §4.1): the base64url (unpadded) keyIdentifier of its
 * Authority Key Identifier extension, a `.`, and the base64url of its serial number's DER INTEGER
 * contents (a leading zero byte kept when the high bit is set). Pure.
 * @throws `INVALID_INPUT` for a PEM that is not a certificate, or one without an AKI keyIdentifier.
 * @public
 */
export function acmeCertId(certificatePem: string): string {
  const der = pemToDer(certificatePem);
  try {
    const { keyIdentifier, serial } = certIdParts(der);
    return `${base64url(keyIdentifier)}.${base64url(serial)}`;
  } catch (error) {
    throw invalidInput(`ARI: no CertID for this certificate: ${(error as Error).message}.`);
  }
}

/** A suggested renewal window (RFC 9773 §4.2): start inclusive, end exclusive. @public */
export interface AcmeRenewalWindow {
  readonly start: Date;
  readonly end: Date;
}

/** Why renewal information could not be used. @public */
export type AcmeRenewalInfoFailure =
  /** The directory or the renewalInfo resource could not be reached (refused, reset, TLS, timeout). */
  | 'unreachable'
  /** The CA answered with an error status (a problem document, when it sent one). */
  | 'http-error'
  /** The answer is not a RenewalInfo object, or its window ends before it starts (§4.2: invalid). */
  | 'invalid-response'
  /** The certificate has no CertID (no Authority Key Identifier). */
  | 'no-cert-id';

/** What {@link fetchRenewalInfo} found. Secret-free. @public */
export type AcmeRenewalInfo =
  | {
      readonly status: 'window';
      readonly certId: string;
      readonly window: AcmeRenewalWindow;
      /** When to ask again (`Retry-After`, clamped to 1 minute … 1 day), if the CA said. */
      readonly retryAfter?: Date;
      /** The CA's `explanationURL`, if any (why the window is where it is). */
      readonly explanationUrl?: string;
    }
  /** The CA's directory has no `renewalInfo`: it does not offer ARI. */
  | { readonly status: 'not-offered' }
  | {
      readonly status: 'failed';
      readonly failure: AcmeRenewalInfoFailure;
      /** The error the failure maps to (ACME problems by {@link acmeProblemError}). */
      readonly code: ErrorCode;
      readonly retry: RetryClass;
      readonly message: string;
      readonly certId?: string;
      readonly httpStatus?: number;
      /** The short problem type, when the CA answered a problem document. */
      readonly acmeProblem?: string;
      readonly retryAfter?: Date;
    };

const MINUTE = 60_000;
const DAY = 86_400_000;

/** `Retry-After` (seconds or an HTTP date) as a time, clamped to 1 minute … 1 day from `now`. Pure. */
function retryAfterAt(header: unknown, now: Date): Date | undefined {
  const ms = parseRetryAfter(typeof header === 'string' ? header : undefined, now);
  if (ms === undefined) return undefined;
  return new Date(now.getTime() + Math.min(DAY, Math.max(MINUTE, ms)));
}

/**
 * Reads a RenewalInfo object (RFC 9773 §4.2): `suggestedWindow.start` and `.end` as RFC 3339 times, the
 * end after the start; `explanationURL` optional. `undefined` for anything else. Pure.
 * @public
 */
export function parseRenewalInfo(
  body: unknown,
): { readonly window: AcmeRenewalWindow; readonly explanationUrl?: string } | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const { suggestedWindow, explanationURL } = body as { suggestedWindow?: unknown; explanationURL?: unknown };
  if (typeof suggestedWindow !== 'object' || suggestedWindow === null) return undefined;
  const { start, end } = suggestedWindow as { start?: unknown; end?: unknown };
  const rfc3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
  if (typeof start !== 'string' || typeof end !== 'string' || !rfc3339.test(start) || !rfc3339.test(end))
    return undefined;
  const window = { start: new Date(start), end: new Date(end) };
  if (Number.isNaN(window.start.getTime()) || Number.isNaN(window.end.getTime())) return undefined;
  if (window.end.getTime() <= window.start.getTime()) return undefined;
  return {
    window,
    ...(typeof explanationURL === 'string' && /^https?:\/\//.test(explanationURL)
      ? { explanationUrl: explanationURL }
      : {}),
  };
}

/** Options of {@link fetchRenewalInfo}. @public */
export interface FetchRenewalInfoOptions {
  /** An HTTPS agent pinning the CA's TLS certificate (tests); default the system's trust. */
  readonly agent?: Agent;
  /** Per-request time limit (default 30 000 ms). */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  /** The time `Retry-After` counts from (the caller's clock). */
  readonly now: Date;
}

interface Answer {
  readonly status: number;
  readonly body: string;
  readonly retryAfter: unknown;
}

const MAX_BODY = 64 * 1024;
const USER_AGENT = 'zonekeeper-cert-issuer (renewal information)';

function get(url: string, options: FetchRenewalInfoOptions): Promise<Answer> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      {
        method: 'GET',
        // RFC 8555 §6.1: every request carries a User-Agent (Pebble refuses one without).
        headers: { accept: 'application/json', 'user-agent': USER_AGENT },
        timeout: timeoutMs,
        ...(options.agent === undefined ? {} : { agent: options.agent }),
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
          if (body.length > MAX_BODY) req.destroy(new Error(`answer larger than ${MAX_BODY} bytes`));
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body, retryAfter: res.headers['retry-after'] }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () =>
      req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })),
    );
    req.on('error', reject);
    req.end();
  });
}

function json(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** A failure for an answer with an error status, mapped like the CA's other problems. */
function httpFailure(what: string, answer: Answer, now: Date, certId?: string): AcmeRenewalInfo {
  const retryAfter = retryAfterAt(answer.retryAfter, now);
  const problem = parseAcmeProblem(json(answer.body), answer.status) ?? {
    type: 'about:blank',
    status: answer.status,
  };
  const error = acmeProblemError(problem, what);
  return {
    status: 'failed',
    failure: 'http-error',
    code: error.code,
    retry: error.retry,
    message: error.message,
    httpStatus: answer.status,
    ...(certId === undefined ? {} : { certId }),
    ...(problem.type === 'about:blank'
      ? {}
      : { acmeProblem: (error.details as { acmeProblem?: string }).acmeProblem as string }),
    ...(retryAfter === undefined ? {} : { retryAfter }),
  };
}

function unreachable(what: string, error: unknown, certId?: string): AcmeRenewalInfo {
  const code = (error as { code?: string }).code;
  const timedOut = code === 'ETIMEDOUT' || code === 'ECONNABORTED';
  return {
    status: 'failed',
    failure: 'unreachable',
    code: timedOut ? 'TIMEOUT' : 'UNAVAILABLE',
    retry: 'transient',
    message: `ACME: ${what}: ${timedOut ? 'the CA did not answer in time' : `${code ?? (error as Error).message ?? 'no answer'} talking to the CA`}.`,
    ...(certId === undefined ? {} : { certId }),
  };
}

function invalid(what: string, certId: string, detail: string): AcmeRenewalInfo {
  return {
    status: 'failed',
    failure: 'invalid-response',
    code: 'UNAVAILABLE',
    retry: 'transient',
    message: `ACME: ${what}: ${detail}.`,
    certId,
  };
}

/**
 * Asks the CA when to renew a certificate (RFC 9773 §4.2): reads the directory's `renewalInfo` URL and
 * GETs `<renewalInfo>/<CertID>` (unauthenticated, as the RFC allows), trusting `options.agent` when
 * given. Never throws for what the CA or the network does: every failure is a `failed` result with the
 * error code and retry class it maps to, so the caller falls back to its own schedule.
 * @throws `signal.reason` on abort — nothing else.
 * @public
 */
export async function fetchRenewalInfo(
  directoryUrl: string,
  certificatePem: string,
  options: FetchRenewalInfoOptions,
): Promise<AcmeRenewalInfo> {
  const what = 'asking for renewal information';
  let certId: string;
  try {
    certId = acmeCertId(certificatePem);
  } catch (error) {
    return {
      status: 'failed',
      failure: 'no-cert-id',
      code: 'INVALID_INPUT',
      retry: 'permanent',
      message: (error as Error).message,
    };
  }
  const guard = async <T>(fn: () => Promise<T>): Promise<T | AcmeRenewalInfo> => {
    try {
      return await fn();
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      if (isAbortError(error)) throw error;
      return unreachable(what, error, certId);
    }
  };
  const directory = await guard(() => get(directoryUrl, options));
  if ('status' in directory && typeof directory.status === 'string') return directory as AcmeRenewalInfo;
  const dir = directory as Answer;
  if (dir.status !== 200) return httpFailure(`${what} (the directory)`, dir, options.now, certId);
  const renewalInfoUrl = (json(dir.body) as { renewalInfo?: unknown } | undefined)?.renewalInfo;
  if (renewalInfoUrl === undefined) return { status: 'not-offered' };
  if (typeof renewalInfoUrl !== 'string' || !/^https:\/\//.test(renewalInfoUrl))
    return invalid(what, certId, 'the directory names no https renewalInfo URL');
  const answer = await guard(() => get(`${renewalInfoUrl.replace(/\/+$/, '')}/${certId}`, options));
  if ('status' in answer && typeof answer.status === 'string') return answer as AcmeRenewalInfo;
  const info = answer as Answer;
  if (info.status !== 200) return httpFailure(what, info, options.now, certId);
  const parsed = parseRenewalInfo(json(info.body));
  if (!parsed) return invalid(what, certId, 'the answer is not a valid RenewalInfo object');
  const retryAfter = retryAfterAt(info.retryAfter, options.now);
  return {
    status: 'window',
    certId,
    window: parsed.window,
    ...(retryAfter === undefined ? {} : { retryAfter }),
    ...(parsed.explanationUrl === undefined ? {} : { explanationUrl: parsed.explanationUrl }),
  };
}

/** Why {@link decideAcmeRenewal} renews or keeps a certificate. @public */
export type AcmeRenewalReason =
  /** Renew: the suggested window has already ended (the CA wants the certificate replaced now). */
  | 'ari-window-passed'
  /** Renew: the time picked inside the window has come. */
  | 'ari-time-reached'
  /** Keep: the time picked inside the window is still ahead. */
  | 'ari-time-ahead'
  /** Renew: no usable window, and the lifetime fraction (two thirds by default) has passed. */
  | 'lifetime-fraction-reached'
  /** Keep: no usable window, and the lifetime fraction is still ahead. */
  | 'lifetime-fraction-ahead';

/** What the decision was based on. @public */
export type AcmeRenewalBasis =
  /** The CA's suggested window. */
  | 'ari'
  /** The lifetime fraction: the CA does not offer ARI. */
  | 'ari-not-offered'
  /** The lifetime fraction: asking failed or the answer was invalid (see `failure`). */
  | 'ari-failed'
  /** The lifetime fraction: nobody asked (no renewal information given). */
  | 'ari-not-asked';

/** Input of {@link decideAcmeRenewal}. @public */
export interface AcmeRenewalDecisionInput {
  readonly now: Date;
  readonly certificate: { readonly notBefore: Date; readonly notAfter: Date };
  /** What {@link fetchRenewalInfo} found; absent: nobody asked. */
  readonly renewalInfo?: AcmeRenewalInfo;
  /** A uniform random number in [0, 1) that picks the time inside the window (injected randomness). */
  readonly randomFraction: number;
  /** The fallback: renew after `1 - renewBeforeFraction` of the lifetime (default 1/3: two thirds). */
  readonly renewBeforeFraction?: number;
}

/** The result of {@link decideAcmeRenewal}. JSON data (times as ISO strings). @public */
export interface AcmeRenewalDecision {
  readonly renew: boolean;
  readonly reason: AcmeRenewalReason;
  readonly basis: AcmeRenewalBasis;
  /** The time renewal is (or was) due: the time picked inside the window, or the fallback time. */
  readonly renewAt: string;
  /** The CA's window, when the decision followed it. */
  readonly window?: { readonly start: string; readonly end: string };
  /** When to ask the CA again (its `Retry-After`), when it said. */
  readonly checkAgainAt?: string;
  /** With basis `ari-failed`: what failed, and the error code it maps to. */
  readonly failure?: {
    readonly failure: AcmeRenewalInfoFailure;
    readonly code: ErrorCode;
    readonly retry: RetryClass;
    readonly message: string;
  };
}

/**
 * Decides whether a certificate is due for renewal (RFC 9773 §4.2): with a suggested window, a time is
 * picked at `start + randomFraction × (end − start)`; renewal is due once `now` reaches it, and at once
 * when the window has ended. Without a usable window, renewal is due at `renewalTime` (two thirds of
 * the lifetime by default) — the `basis` says whether the CA offers no ARI, asking failed, or nobody
 * asked. Pure: the same input gives the same decision.
 * @throws `INVALID_INPUT` for an invalid `now`, certificate dates, `randomFraction` outside [0, 1) or
 *   `renewBeforeFraction` outside (0, 1).
 * @public
 */
export function decideAcmeRenewal(input: AcmeRenewalDecisionInput): AcmeRenewalDecision {
  const { now, certificate, renewalInfo, randomFraction } = input;
  if (!(now instanceof Date) || Number.isNaN(now.getTime()))
    throw invalidInput('ARI: now must be a valid Date.');
  if (typeof randomFraction !== 'number' || !(randomFraction >= 0 && randomFraction < 1))
    throw invalidInput(`ARI: randomFraction must be a number in [0, 1), got ${String(randomFraction)}.`);
  const fallbackAt = renewalTime(
    certificate,
    input.renewBeforeFraction === undefined ? {} : { renewBeforeFraction: input.renewBeforeFraction },
  );
  if (renewalInfo?.status === 'window') {
    const start = renewalInfo.window.start.getTime();
    const end = renewalInfo.window.end.getTime();
    if (Number.isFinite(start) && Number.isFinite(end) && end > start) {
      const at = start + Math.floor(randomFraction * (end - start));
      const t = now.getTime();
      const reason: AcmeRenewalReason =
        t >= end ? 'ari-window-passed' : t >= at ? 'ari-time-reached' : 'ari-time-ahead';
      return {
        renew: reason !== 'ari-time-ahead',
        reason,
        basis: 'ari',
        renewAt: new Date(at).toISOString(),
        window: { start: new Date(start).toISOString(), end: new Date(end).toISOString() },
        ...(renewalInfo.retryAfter === undefined
          ? {}
          : { checkAgainAt: renewalInfo.retryAfter.toISOString() }),
      };
    }
  }
  const due = now.getTime() >= fallbackAt.getTime();
  const basis: AcmeRenewalBasis =
    renewalInfo === undefined
      ? 'ari-not-asked'
      : renewalInfo.status === 'not-offered'
        ? 'ari-not-offered'
        : 'ari-failed';
  return {
    renew: due,
    reason: due ? 'lifetime-fraction-reached' : 'lifetime-fraction-ahead',
    basis,
    renewAt: fallbackAt.toISOString(),
    ...(renewalInfo?.status === 'failed'
      ? {
          failure: {
            failure: renewalInfo.failure,
            code: renewalInfo.code,
            retry: renewalInfo.retry,
            message: renewalInfo.message,
          },
          ...(renewalInfo.retryAfter === undefined
            ? {}
            : { checkAgainAt: renewalInfo.retryAfter.toISOString() }),
        }
      : {}),
    ...(renewalInfo?.status === 'window'
      ? {
          failure: {
            failure: 'invalid-response' as const,
            code: 'UNAVAILABLE' as const,
            retry: 'transient' as const,
            message: 'ACME: the suggested window ends before it starts.',
          },
        }
      : {}),
  };
}
