/**
 * One TXT question to one authoritative server, over the same bounded, cancellable wire code as
 * `verifyDelegation` (`dns-packet`, UDP with EDNS, TCP when truncated, no recursion asked): what an
 * ACME DNS-01 client needs to know before it tells the CA to look — does this server already answer
 * the challenge record?
 *
 * @packageDocumentation
 */

import { type CallOptions, invalidInput } from '@zonekeeper/core';
import { DnsQueryTimeout, type DnsServerAddress, queryDns } from './dns-query.js';

/** What one server said about a TXT name. @public */
export type TxtLookupStatus =
  /** An authoritative answer with TXT records of the name. */
  | 'answer'
  /** Authoritative: the name exists, without TXT records (or only a CNAME). */
  | 'no-data'
  /** Authoritative: no such name. */
  | 'nxdomain'
  /** REFUSED: the server does not serve the zone. */
  | 'refused'
  /** An answer without the `aa` flag (a referral, a resolver's copy). */
  | 'not-authoritative'
  | 'servfail'
  | 'timeout'
  | 'error';

/** The answer of {@link lookupTxt}. JSON data. @public */
export interface TxtLookup {
  readonly server: DnsServerAddress;
  readonly status: TxtLookupStatus;
  /** The TXT values of the name (each record's strings concatenated), sorted; empty unless `answer`. */
  readonly values: readonly string[];
  readonly rcode?: string;
  readonly message?: string;
}

/** Options of {@link lookupTxt}. @public */
export interface LookupTxtOptions extends CallOptions {
  /** Time per attempt (default 2 000 ms). */
  readonly timeoutMs?: number;
  /** UDP attempts (default 2). */
  readonly attempts?: number;
}

/**
 * Asks `server` for the TXT records of `name` without recursion. Never rejects for what the server
 * says or does not say (timeouts and socket errors are statuses); rejects with `signal.reason` on
 * abort and `INVALID_INPUT` for a bad name.
 * @public
 */
export async function lookupTxt(
  server: DnsServerAddress,
  name: string,
  options: LookupTxtOptions = {},
): Promise<TxtLookup> {
  const qname = typeof name === 'string' ? name.toLowerCase().replace(/\.$/, '') : '';
  // Underscore labels (`_acme-challenge`) are fine in a TXT owner name; hostnames rules are not.
  if (qname.length > 253 || !/^[a-z0-9_-]{1,63}(\.[a-z0-9_-]{1,63})+$/.test(qname))
    throw invalidInput(`TXT name ${JSON.stringify(name)} is not a DNS name.`);
  try {
    const r = await queryDns(
      server,
      { name: qname, type: 'TXT' },
      {
        timeoutMs: options.timeoutMs ?? 2_000,
        attempts: options.attempts ?? 2,
        ...(options.signal ? { signal: options.signal } : {}),
      },
    );
    const base = { server, rcode: r.rcode };
    if (r.rcode === 'REFUSED') return { ...base, status: 'refused', values: [] };
    if (r.rcode === 'SERVFAIL') return { ...base, status: 'servfail', values: [] };
    if (!r.authoritative) return { ...base, status: 'not-authoritative', values: [] };
    if (r.rcode === 'NXDOMAIN') return { ...base, status: 'nxdomain', values: [] };
    if (r.rcode !== 'NOERROR') return { ...base, status: 'error', values: [] };
    const values = r.answers
      .filter((a) => a.type === 'TXT' && a.name === qname)
      .map((a) => String(a.data))
      .sort();
    return { ...base, status: values.length > 0 ? 'answer' : 'no-data', values };
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    if (error instanceof DnsQueryTimeout)
      return { server, status: 'timeout', values: [], message: error.message };
    return { server, status: 'error', values: [], message: (error as Error).message };
  }
}
