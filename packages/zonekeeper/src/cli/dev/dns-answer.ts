/**
 * What the local backend's DNS server answers: a pure function from the hosted zones (as the DNS port
 * lists them) and one question to an authoritative answer, the way Route 53's name servers answer for
 * the zones they host. No sockets, no clock: `dns-server.ts` gathers the zones and encodes the answer.
 *
 * The rules, in order (RFC 1034 §4.3.2, simplified to what Route 53 hosts):
 *
 * 1. The zone is the deepest hosted zone whose name is the question's name or an ancestor of it (a
 *    server hosting a parent and its delegated child answers from the child). None → `REFUSED`.
 * 2. A delegation inside that zone (an `NS` set below the apex, on the name or an ancestor) whose child
 *    is not hosted here → a referral: no answer, the `NS` set as authority, not authoritative.
 * 3. The name's records of the asked type (an alias record answers with its target's records when the
 *    target is in a hosted zone, and with nothing otherwise — a load balancer's name is not ours).
 * 4. A `CNAME` at the name answers any other type, followed through hosted zones (at most 8 links).
 * 5. No record at the name: the wildcard `*.<closest encloser>` answers in its place, owned by the name.
 * 6. The name exists (records, or records below it) but not the type → `NOERROR` with the zone's `SOA`
 *    (no data); it does not exist → `NXDOMAIN` with the `SOA`.
 *
 * @internal
 * @packageDocumentation
 */

import type { RecordSet } from '@zonekeeper/zone-manager';

/** A hosted zone and all its record sets, names canonical (lowercase, no trailing dot). */
export interface DevDnsZone {
  readonly name: string;
  readonly records: readonly RecordSet[];
}

/** One question: a name (any case, trailing dot allowed) and a record type (`A`, `TXT`, …). */
export interface DevDnsQuestion {
  readonly name: string;
  readonly type: string;
}

/** One record of an answer, its value in presentation form as Route 53 presents it. */
export interface DevDnsRecord {
  readonly name: string;
  readonly type: string;
  readonly ttl: number;
  readonly value: string;
}

/** Why the answer is what it is. */
export type DevDnsReason =
  | 'answer'
  | 'cname'
  | 'wildcard'
  | 'no-data'
  | 'no-name'
  | 'referral'
  | 'not-hosted';

/** The answer to one question. */
export interface DevDnsAnswer {
  readonly rcode: 'NOERROR' | 'NXDOMAIN' | 'REFUSED';
  readonly authoritative: boolean;
  readonly answers: readonly DevDnsRecord[];
  readonly authorities: readonly DevDnsRecord[];
  readonly reason: DevDnsReason;
}

/** The TTL of an alias record's answer when its target has none (Route 53 uses the target's). */
const ALIAS_TTL = 60;
const MAX_CNAME_LINKS = 8;

function canonical(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

function isAtOrBelow(name: string, ancestor: string): boolean {
  return name === ancestor || name.endsWith(`.${ancestor}`);
}

/** The deepest hosted zone holding `name`, if any. */
function zoneOf(zones: readonly DevDnsZone[], name: string): DevDnsZone | undefined {
  let best: DevDnsZone | undefined;
  for (const zone of zones) {
    const zoneName = canonical(zone.name);
    if (isAtOrBelow(name, zoneName) && (best === undefined || zoneName.length > canonical(best.name).length))
      best = zone;
  }
  return best;
}

function recordsOf(set: RecordSet, owner: string): DevDnsRecord[] {
  return set.values.map((value) => ({ name: owner, type: set.type, ttl: set.ttl ?? ALIAS_TTL, value }));
}

function soaOf(zone: DevDnsZone): DevDnsRecord[] {
  const apex = canonical(zone.name);
  const soa = zone.records.find((r) => r.type === 'SOA' && canonical(r.name) === apex);
  return soa === undefined ? [] : recordsOf(soa, apex);
}

/** The names of the zone that exist: with records, or with records below them (empty non-terminals). */
function existingNames(zone: DevDnsZone): Set<string> {
  const apex = canonical(zone.name);
  const names = new Set<string>([apex]);
  for (const r of zone.records) {
    let name = canonical(r.name);
    while (isAtOrBelow(name, apex) && !names.has(name)) {
      names.add(name);
      name = name.slice(name.indexOf('.') + 1);
    }
  }
  return names;
}

/** A delegation point (non-apex NS) at or above `name` in `zone`, deepest first. */
function delegationOf(zone: DevDnsZone, name: string): RecordSet | undefined {
  const apex = canonical(zone.name);
  let best: RecordSet | undefined;
  for (const r of zone.records) {
    const owner = canonical(r.name);
    if (r.type !== 'NS' || owner === apex || !isAtOrBelow(name, owner)) continue;
    if (best === undefined || owner.length > canonical(best.name).length) best = r;
  }
  return best;
}

/**
 * The records of `type` for `name`, with their synthesis reason, following CNAMEs and in-zone aliases
 * (`depth` counts the links taken).
 */
function lookup(zones: readonly DevDnsZone[], name: string, type: string, depth: number): DevDnsAnswer {
  const zone = zoneOf(zones, name);
  if (zone === undefined)
    return { rcode: 'REFUSED', authoritative: false, answers: [], authorities: [], reason: 'not-hosted' };
  const delegation = delegationOf(zone, name);
  if (delegation !== undefined && !(type === 'NS' && canonical(delegation.name) === name))
    return {
      rcode: 'NOERROR',
      authoritative: false,
      answers: [],
      authorities: recordsOf(delegation, canonical(delegation.name)),
      reason: 'referral',
    };

  const at = (owner: string) => zone.records.filter((r) => canonical(r.name) === owner);
  let sets = at(name);
  let reason: DevDnsReason = 'answer';
  const names = existingNames(zone);
  if (sets.length === 0 && !names.has(name)) {
    // The closest encloser: the deepest existing ancestor; its wildcard stands for the name.
    let encloser = name.slice(name.indexOf('.') + 1);
    while (!names.has(encloser)) encloser = encloser.slice(encloser.indexOf('.') + 1);
    sets = at(`*.${encloser}`);
    reason = 'wildcard';
    if (sets.length === 0)
      return {
        rcode: 'NXDOMAIN',
        authoritative: true,
        answers: [],
        authorities: soaOf(zone),
        reason: 'no-name',
      };
  }

  const matching = sets.filter((s) => s.type === type);
  if (matching.length > 0) {
    const answers: DevDnsRecord[] = [];
    for (const set of matching) {
      if (set.aliasTarget === undefined) answers.push(...recordsOf(set, name));
      else if (depth < MAX_CNAME_LINKS) {
        const target = lookup(zones, canonical(set.aliasTarget.dnsName), type, depth + 1);
        answers.push(...target.answers.map((r) => ({ ...r, name })));
      }
    }
    if (answers.length > 0)
      return { rcode: 'NOERROR', authoritative: true, answers, authorities: [], reason };
  }
  const cname = sets.find((s) => s.type === 'CNAME');
  if (cname !== undefined && type !== 'CNAME') {
    const own = recordsOf(cname, name);
    const target = own[0]?.value;
    if (target === undefined || depth >= MAX_CNAME_LINKS)
      return { rcode: 'NOERROR', authoritative: true, answers: own, authorities: [], reason: 'cname' };
    const next = lookup(zones, canonical(target), type, depth + 1);
    return {
      rcode: next.rcode === 'REFUSED' ? 'NOERROR' : next.rcode,
      authoritative: true,
      answers: [...own, ...next.answers],
      authorities: next.rcode === 'REFUSED' ? [] : next.authorities,
      reason: 'cname',
    };
  }
  return { rcode: 'NOERROR', authoritative: true, answers: [], authorities: soaOf(zone), reason: 'no-data' };
}

/** The authoritative answer to `question` from `zones` (see the module notes for the rules). */
export function answerQuestion(zones: readonly DevDnsZone[], question: DevDnsQuestion): DevDnsAnswer {
  return lookup(zones, canonical(question.name), question.type.toUpperCase(), 0);
}
