/**
 * Delegation verified by DNS, not by API: ask the parent zone's authoritative servers for the child's
 * NS records, then ask every delegated server for the child's SOA, and judge the evidence.
 *
 * ```
 *  gather (I/O, bounded)                           assess (pure)
 *  parent servers:  <zone> NS, no recursion  ──►   not delegated / parent unreachable
 *  each NS host:    addresses (resolver, glue)      every server authoritative ............ ok
 *  each address:    <zone> SOA, no recursion  ──►   some servers not ..................... lame
 *                                                   none, and some say "not mine" ........ dangling
 *                                                   none, all silent / failing ........... unreachable
 *                                                   parent's NS ≠ expected ............... mismatch
 * ```
 *
 * A *dangling* delegation (the parent still points at servers that no longer serve the zone) and an
 * NS host name that does not resolve are takeover risks: whoever can create the zone on those servers
 * (on Route 53, any account) or register that host's domain answers for the organisation's names.
 *
 * @packageDocumentation
 */

import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import { type CallOptions, invalidInput, normalizeDomainName } from '@zonekeeper/core';
import { nameServerKey } from '../names.js';
import { DnsQueryTimeout, type DnsServerAddress, queryDns, type WireResponse } from './dns-query.js';

/** What one parent server said about the delegation. @public */
export type ParentServerStatus =
  /** A referral: the child's NS records in the authority section (the usual case). */
  | 'referral'
  /** An authoritative answer with the child's NS records (the server also hosts the child zone). */
  | 'answer'
  /** Authoritative, and no NS records for the child (NXDOMAIN or no data). */
  | 'no-delegation'
  /** Answered, but not authoritatively for the parent zone (a referral elsewhere, or no AA). */
  | 'not-authoritative'
  | 'refused'
  | 'servfail'
  | 'timeout'
  | 'error';

/** What one delegated server address said about the child's SOA. @public */
export type ChildServerStatus =
  /** An authoritative SOA of exactly the child zone. */
  | 'authoritative'
  /** REFUSED: the server does not serve the zone (PowerDNS, Route 53 for a deleted zone). */
  | 'refused'
  /** An answer without authority (a referral, an upward answer, a resolver's cached copy). */
  | 'not-authoritative'
  /** Authoritatively NXDOMAIN or no SOA: the server serves an ancestor zone, not this one. */
  | 'no-zone'
  | 'servfail'
  | 'timeout'
  | 'error'
  /** The NS host name has no address. */
  | 'unresolvable';

/** One query to a parent server. @public */
export interface ParentServerCheck {
  readonly server: DnsServerAddress;
  readonly status: ParentServerStatus;
  /** The NS host names it gave for the child (canonical, sorted). */
  readonly nameServers: readonly string[];
  /** Glue addresses it gave, by host name. */
  readonly glue: Readonly<Record<string, readonly string[]>>;
  readonly rcode?: string;
  readonly message?: string;
}

/** One delegated server (NS host) address and its answer. @public */
export interface ChildServerCheck {
  /** The NS host name. */
  readonly nameServer: string;
  /** The address queried; absent when the host did not resolve. */
  readonly server?: DnsServerAddress;
  readonly status: ChildServerStatus;
  /** The SOA serial, when authoritative. */
  readonly serial?: number;
  readonly rcode?: string;
  readonly message?: string;
}

/** What is wrong, one code per finding. @public */
export type DelegationProblemCode =
  | 'PARENT_UNREACHABLE'
  | 'PARENT_NOT_AUTHORITATIVE'
  | 'PARENT_SERVERS_DISAGREE'
  | 'NOT_DELEGATED'
  | 'NAME_SERVERS_DIFFER'
  | 'NAME_SERVER_UNRESOLVABLE'
  | 'SERVER_UNREACHABLE'
  | 'SERVER_REFUSED'
  | 'SERVER_NOT_AUTHORITATIVE'
  | 'SERVER_FAILED';

/** One finding. @public */
export interface DelegationProblem {
  readonly code: DelegationProblemCode;
  /** The NS host or server address concerned, when there is one. */
  readonly subject?: string;
  readonly message: string;
}

/** The verdict. @public */
export type DelegationStatus =
  | 'ok'
  | 'lame'
  | 'dangling'
  | 'mismatch'
  | 'not-delegated'
  | 'unreachable'
  | 'parent-unreachable';

/** What {@link verifyDelegation} found. JSON data. @public */
export interface DelegationReport {
  readonly zone: string;
  readonly status: DelegationStatus;
  /** True for a dangling delegation or an NS host that does not resolve: someone else could answer. */
  readonly takeoverRisk: boolean;
  /** The delegation's NS host names as the parent publishes them (canonical, sorted). */
  readonly nameServers: readonly string[];
  readonly problems: readonly DelegationProblem[];
  readonly parent: readonly ParentServerCheck[];
  readonly servers: readonly ChildServerCheck[];
}

/** The evidence {@link assessDelegation} judges. @public */
export interface DelegationEvidence {
  readonly zone: string;
  readonly expectedNameServers?: readonly string[];
  readonly parent: readonly ParentServerCheck[];
  readonly servers: readonly ChildServerCheck[];
}

/** Input of {@link verifyDelegation}. @public */
export interface VerifyDelegationInput {
  /** The child zone, e.g. `acme.example.com`. */
  readonly zone: string;
  /** Authoritative servers of the parent zone (1 to 13). */
  readonly parentServers: readonly DnsServerAddress[];
  /** The name servers the delegation should list (the child zone's own); checked when given. */
  readonly expectedNameServers?: readonly string[];
}

/** Options of {@link verifyDelegation}. @public */
export interface VerifyDelegationOptions extends CallOptions {
  /** Time per DNS attempt (default 2 000 ms). */
  readonly queryTimeoutMs?: number;
  /** UDP attempts per question (default 2). */
  readonly attempts?: number;
  /**
   * Upper bound of the whole check (default 15 000 ms). When it passes, unanswered queries count as
   * `timeout` and a report is returned; only `signal` makes the call reject.
   */
  readonly deadlineMs?: number;
  /**
   * Addresses of an NS host. Default: the glue the parent gave, else the system's resolvers
   * (`node:dns` Resolver, A and AAAA), port 53. Tests map host names to 127.0.0.1 and a port.
   */
  readonly resolveNameServer?: (host: string, options: CallOptions) => Promise<readonly DnsServerAddress[]>;
}

const MAX_SERVERS = 13;
const MAX_ADDRESSES = 4;

function describeServer(s: DnsServerAddress): string {
  return `${s.address}:${s.port ?? 53}`;
}

function parentCheck(server: DnsServerAddress, zone: string, r: WireResponse): ParentServerCheck {
  const nsIn = (list: WireResponse['answers']) =>
    [...new Set(list.filter((x) => x.type === 'NS' && x.name === zone).map((x) => String(x.data)))].sort();
  const glueFor = (hosts: readonly string[]) => {
    const glue: Record<string, string[]> = {};
    for (const a of r.additionals) {
      if ((a.type === 'A' || a.type === 'AAAA') && hosts.includes(a.name) && typeof a.data === 'string') {
        glue[a.name] = [...(glue[a.name] ?? []), a.data];
      }
    }
    return glue;
  };
  const base = { server, rcode: r.rcode };
  if (r.rcode === 'REFUSED') return { ...base, status: 'refused', nameServers: [], glue: {} };
  if (r.rcode === 'SERVFAIL') return { ...base, status: 'servfail', nameServers: [], glue: {} };
  if (r.rcode === 'NXDOMAIN') {
    return {
      ...base,
      status: r.authoritative ? 'no-delegation' : 'not-authoritative',
      nameServers: [],
      glue: {},
    };
  }
  if (r.rcode !== 'NOERROR') return { ...base, status: 'error', nameServers: [], glue: {} };
  const answered = nsIn(r.answers);
  if (answered.length > 0 && r.authoritative) {
    return { ...base, status: 'answer', nameServers: answered, glue: glueFor(answered) };
  }
  const referred = nsIn(r.authorities);
  if (referred.length > 0 && !r.authoritative) {
    return { ...base, status: 'referral', nameServers: referred, glue: glueFor(referred) };
  }
  if (r.authoritative) return { ...base, status: 'no-delegation', nameServers: [], glue: {} };
  return { ...base, status: 'not-authoritative', nameServers: [], glue: {} };
}

function childStatus(zone: string, r: WireResponse): { status: ChildServerStatus; serial?: number } {
  if (r.rcode === 'REFUSED') return { status: 'refused' };
  if (r.rcode === 'SERVFAIL') return { status: 'servfail' };
  if (!r.authoritative) return { status: 'not-authoritative' };
  if (r.rcode === 'NXDOMAIN') return { status: 'no-zone' };
  if (r.rcode !== 'NOERROR') return { status: 'error' };
  const soa = r.answers.find((a) => a.type === 'SOA' && a.name === zone);
  if (!soa || typeof soa.data !== 'object') return { status: 'no-zone' };
  return { status: 'authoritative', serial: soa.data.serial };
}

/**
 * Judges delegation evidence. Pure and deterministic (see the table in the module docs).
 * @public
 */
export function assessDelegation(evidence: DelegationEvidence): DelegationReport {
  const zone = evidence.zone;
  const problems: DelegationProblem[] = [];
  const usable = evidence.parent.filter((p) => p.status === 'referral' || p.status === 'answer');
  for (const p of evidence.parent) {
    const subject = describeServer(p.server);
    if (p.status === 'timeout' || p.status === 'error' || p.status === 'servfail') {
      problems.push({
        code: 'PARENT_UNREACHABLE',
        subject,
        message: `parent server ${subject} gave no usable answer (${p.status}).`,
      });
    } else if (p.status === 'refused' || p.status === 'not-authoritative') {
      problems.push({
        code: 'PARENT_NOT_AUTHORITATIVE',
        subject,
        message: `parent server ${subject} is not authoritative for the parent of ${zone} (${p.status}).`,
      });
    }
  }
  const sets = [...new Set(usable.map((p) => p.nameServers.join(' ')))];
  if (sets.length > 1) {
    problems.push({
      code: 'PARENT_SERVERS_DISAGREE',
      message: `the parent's servers publish different NS sets for ${zone}: ${sets.join(' | ')}.`,
    });
  }
  const nameServers = [...new Set(usable.flatMap((p) => p.nameServers))].sort();
  const report = (status: DelegationStatus): DelegationReport => ({
    zone,
    status,
    takeoverRisk: status === 'dangling' || problems.some((p) => p.code === 'NAME_SERVER_UNRESOLVABLE'),
    nameServers,
    problems,
    parent: evidence.parent,
    servers: evidence.servers,
  });
  if (usable.length === 0) {
    if (evidence.parent.some((p) => p.status === 'no-delegation')) {
      problems.push({ code: 'NOT_DELEGATED', message: `the parent zone has no NS records for ${zone}.` });
      return report('not-delegated');
    }
    return report('parent-unreachable');
  }

  const byHost = new Map<string, ChildServerCheck[]>();
  for (const s of evidence.servers) byHost.set(s.nameServer, [...(byHost.get(s.nameServer) ?? []), s]);
  let good = 0;
  let definitive = 0;
  for (const host of nameServers) {
    const checks = byHost.get(host) ?? [];
    if (checks.some((c) => c.status === 'authoritative')) good++;
    for (const c of checks) {
      const subject = c.server ? `${host} (${describeServer(c.server)})` : host;
      switch (c.status) {
        case 'authoritative':
          break;
        case 'unresolvable':
          definitive++;
          problems.push({
            code: 'NAME_SERVER_UNRESOLVABLE',
            subject,
            message: `name server ${host} has no address: if its domain can be registered, its owner answers for ${zone}.`,
          });
          break;
        case 'refused':
          definitive++;
          problems.push({
            code: 'SERVER_REFUSED',
            subject,
            message: `${subject} refuses queries for ${zone}: it does not serve the zone.`,
          });
          break;
        case 'not-authoritative':
        case 'no-zone':
          definitive++;
          problems.push({
            code: 'SERVER_NOT_AUTHORITATIVE',
            subject,
            message: `${subject} is not authoritative for ${zone} (${c.status}).`,
          });
          break;
        case 'timeout':
          problems.push({
            code: 'SERVER_UNREACHABLE',
            subject,
            message: `${subject} did not answer for ${zone}.`,
          });
          break;
        default:
          problems.push({
            code: 'SERVER_FAILED',
            subject,
            message: `${subject} failed to answer for ${zone} (${c.status}${c.rcode ? ` ${c.rcode}` : ''}).`,
          });
      }
    }
    if (checks.length === 0) {
      problems.push({
        code: 'SERVER_UNREACHABLE',
        subject: host,
        message: `name server ${host} was not checked before the deadline.`,
      });
    }
  }
  if (good === 0) return report(definitive > 0 ? 'dangling' : 'unreachable');
  if (good < nameServers.length) return report('lame');
  if (
    evidence.expectedNameServers !== undefined &&
    nameServerKey(evidence.expectedNameServers) !== nameServers.join(' ')
  ) {
    problems.push({
      code: 'NAME_SERVERS_DIFFER',
      message: `the parent delegates ${zone} to ${nameServers.join(', ')}, not to ${[...evidence.expectedNameServers].sort().join(', ')}.`,
    });
    return report('mismatch');
  }
  return report('ok');
}

function validateServer(s: DnsServerAddress, what: string): DnsServerAddress {
  if (typeof s?.address !== 'string' || isIP(s.address) === 0) {
    throw invalidInput(
      `verifyDelegation: ${what} address ${JSON.stringify(s?.address)} is not an IP address.`,
    );
  }
  if (s.port !== undefined && !(Number.isInteger(s.port) && s.port >= 1 && s.port <= 65_535)) {
    throw invalidInput(`verifyDelegation: ${what} port ${String(s.port)} is not a port number.`);
  }
  return s;
}

function positive(value: number | undefined, name: string, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (!(Number.isFinite(value) && value > 0 && value <= max)) {
    throw invalidInput(
      `verifyDelegation: ${name} must be a positive number up to ${max}, got ${String(value)}.`,
    );
  }
  return value;
}

async function systemResolve(
  host: string,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<DnsServerAddress[]> {
  const resolver = new Resolver({ timeout: timeoutMs, tries: 2 });
  const onAbort = () => resolver.cancel();
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    const [v4, v6] = await Promise.all([
      resolver.resolve4(host).catch(() => [] as string[]),
      resolver.resolve6(host).catch(() => [] as string[]),
    ]);
    return [...v4, ...v6].map((address) => ({ address }));
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/**
 * Verifies the delegation of `zone` over real DNS and returns a {@link DelegationReport}. Bounded:
 * every query has a time limit and the whole check a deadline, after which it reports what it has;
 * at most 13 NS hosts and 4 addresses each are checked, concurrently.
 *
 * @example
 * ```ts
 * const report = await verifyDelegation(
 *   { zone: 'acme.example.com', parentServers: [{ address: '192.0.2.53' }], expectedNameServers: zone.nameServers },
 *   { signal: AbortSignal.timeout(20_000) },
 * );
 * if (report.takeoverRisk) alert(report.problems);
 * ```
 * @throws ZonekeeperError `INVALID_INPUT` for a bad zone, server or option (before any query);
 * `signal.reason` when aborted.
 * @public
 */
export async function verifyDelegation(
  input: VerifyDelegationInput,
  options: VerifyDelegationOptions = {},
): Promise<DelegationReport> {
  const zone = normalizeDomainName(input.zone, 'Zone name');
  if (
    !Array.isArray(input.parentServers) ||
    input.parentServers.length < 1 ||
    input.parentServers.length > MAX_SERVERS
  ) {
    throw invalidInput(`verifyDelegation: give 1 to ${MAX_SERVERS} parent servers.`);
  }
  const parentServers = input.parentServers.map((s) => validateServer(s, 'parent server'));
  const expected = input.expectedNameServers?.map((n) => normalizeDomainName(n, 'Name server'));
  const timeoutMs = positive(options.queryTimeoutMs, 'queryTimeoutMs', 2_000, 60_000);
  const attempts = positive(options.attempts, 'attempts', 2, 5);
  if (!Number.isInteger(attempts)) throw invalidInput('verifyDelegation: attempts must be an integer.');
  const deadlineMs = positive(options.deadlineMs, 'deadlineMs', 15_000, 300_000);
  options.signal?.throwIfAborted();

  const deadline = AbortSignal.timeout(deadlineMs);
  const signal = options.signal === undefined ? deadline : AbortSignal.any([options.signal, deadline]);
  const rethrowAbort = () => {
    if (options.signal?.aborted) throw options.signal.reason;
  };
  const ask = async (server: DnsServerAddress, type: 'NS' | 'SOA') => {
    try {
      return { response: await queryDns(server, { name: zone, type }, { timeoutMs, attempts, signal }) };
    } catch (error) {
      rethrowAbort();
      if (error instanceof DnsQueryTimeout || deadline.aborted) return { failure: 'timeout' as const };
      return { failure: 'error' as const, message: error instanceof Error ? error.message : String(error) };
    }
  };

  const parent: ParentServerCheck[] = await Promise.all(
    parentServers.map(async (server): Promise<ParentServerCheck> => {
      const r = await ask(server, 'NS');
      if ('response' in r) return parentCheck(server, zone, r.response);
      return {
        server,
        status: r.failure,
        nameServers: [],
        glue: {},
        ...(r.message === undefined ? {} : { message: r.message }),
      };
    }),
  );
  rethrowAbort();
  const usable = parent.filter((p) => p.status === 'referral' || p.status === 'answer');
  const hosts = [...new Set(usable.flatMap((p) => p.nameServers))].sort().slice(0, MAX_SERVERS);
  const glue = (host: string) =>
    [...new Set(usable.flatMap((p) => p.glue[host] ?? []))].map((address) => ({ address }));

  const servers = (
    await Promise.all(
      hosts.map(async (host): Promise<ChildServerCheck[]> => {
        let addresses: readonly DnsServerAddress[];
        try {
          addresses = options.resolveNameServer
            ? await options.resolveNameServer(host, { signal })
            : glue(host).length > 0
              ? glue(host)
              : await systemResolve(host, timeoutMs, signal);
        } catch (error) {
          rethrowAbort();
          if (deadline.aborted) return [];
          return [
            {
              nameServer: host,
              status: 'error',
              message: error instanceof Error ? error.message : String(error),
            },
          ];
        }
        const valid = addresses.filter((a) => isIP(a.address) !== 0).slice(0, MAX_ADDRESSES);
        if (valid.length === 0) return [{ nameServer: host, status: 'unresolvable' }];
        return Promise.all(
          valid.map(async (server): Promise<ChildServerCheck> => {
            const r = await ask(server, 'SOA');
            if (!('response' in r)) {
              return {
                nameServer: host,
                server,
                status: r.failure,
                ...(r.message === undefined ? {} : { message: r.message }),
              };
            }
            const s = childStatus(zone, r.response);
            return { nameServer: host, server, rcode: r.response.rcode, ...s };
          }),
        );
      }),
    )
  ).flat();
  rethrowAbort();
  return assessDelegation({
    zone,
    ...(expected === undefined ? {} : { expectedNameServers: expected }),
    parent,
    servers,
  });
}
