import { createSocket, type Socket } from 'node:dgram';
import { hasErrorCode } from '@zonekeeper/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PowerDnsBackend, startPowerDnsBackend } from '../powerdns/pdns.test.support.js';
import type { PowerDnsProvider } from '../powerdns/provider.js';
import { ensureOrganizationZone } from '../zones.js';
import type { DnsServerAddress } from './dns-query.js';
import {
  assessDelegation,
  type ChildServerCheck,
  type ParentServerCheck,
  verifyDelegation,
} from './verify.js';

/**
 * Two real PowerDNS servers: P serves the parent zone `deleg.test` (name server ns1.p.test), C serves
 * the organisations' zones (ns1.c.test, ns2.c.test). A UDP socket that never answers stands in for a
 * dead server (ns.silent.test). Host names map to 127.0.0.1 and each server's port.
 */
let p: PowerDnsBackend;
let c: PowerDnsBackend;
let parentDns: PowerDnsProvider;
let childDns: PowerDnsProvider;
let silent: Socket;
let parentZoneId: string;
const PARENT = 'deleg.test';
const CHILD_NS = ['ns1.c.test', 'ns2.c.test'];

const hosts = (): Record<string, DnsServerAddress[]> => ({
  'ns1.p.test': [{ address: '127.0.0.1', port: p.server.dnsPort }],
  'ns1.c.test': [{ address: '127.0.0.1', port: c.server.dnsPort }],
  'ns2.c.test': [{ address: '127.0.0.1', port: c.server.dnsPort }],
  'ns.silent.test': [{ address: '127.0.0.1', port: silent.address().port }],
});
const resolveNameServer = async (host: string) => hosts()[host] ?? [];
const parentServers = () => [{ address: '127.0.0.1', port: p.server.dnsPort }];
const fast = { queryTimeoutMs: 300, attempts: 1, resolveNameServer } as const;

async function delegate(label: string, nameServers: readonly string[]): Promise<string> {
  const zone = `${label}.${PARENT}`;
  await parentDns.changeRecords(parentZoneId, [
    {
      action: 'UPSERT',
      recordSet: { name: zone, type: 'NS', ttl: 60, values: nameServers.map((n) => `${n}.`) },
    },
  ]);
  return zone;
}

beforeAll(async () => {
  [p, c] = await Promise.all([startPowerDnsBackend(), startPowerDnsBackend()]);
  parentDns = p.provider({ nameServers: ['ns1.p.test'] });
  childDns = c.provider({ nameServers: CHILD_NS });
  parentZoneId = (await parentDns.createZone({ name: PARENT, callerReference: 'parent' })).zone.id;
  silent = createSocket('udp4');
  await new Promise<void>((r) => silent.bind(0, '127.0.0.1', () => r()));
});
afterAll(async () => {
  silent?.close();
  await Promise.all([p?.stop(), c?.stop()]);
});

describe('verifyDelegation over real DNS (two PowerDNS servers)', () => {
  it('reports a correct delegation as ok: referral from the parent, authoritative SOA from every server', async () => {
    const created = await childDns.createZone({ name: `good.${PARENT}`, callerReference: 'good' });
    const zone = await delegate('good', CHILD_NS);
    const report = await verifyDelegation(
      { zone, parentServers: parentServers(), expectedNameServers: created.nameServers },
      fast,
    );
    expect(report).toMatchObject({
      zone,
      status: 'ok',
      takeoverRisk: false,
      nameServers: CHILD_NS,
      problems: [],
    });
    expect(report.parent.map((x) => x.status)).toEqual(['referral']);
    expect(report.servers.map((s) => [s.nameServer, s.status])).toEqual([
      ['ns1.c.test', 'authoritative'],
      ['ns2.c.test', 'authoritative'],
    ]);
    expect(report.servers[0]?.serial).toBeGreaterThan(0);
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
  });

  it('reports a lame delegation: one listed server does not serve the zone', async () => {
    await childDns.createZone({ name: `lame.${PARENT}`, callerReference: 'lame' });
    const zone = await delegate('lame', ['ns1.c.test', 'ns1.p.test']);
    const report = await verifyDelegation({ zone, parentServers: parentServers() }, fast);
    expect(report).toMatchObject({ status: 'lame', takeoverRisk: false });
    expect(report.problems.map((x) => [x.code, x.subject])).toEqual([
      ['SERVER_NOT_AUTHORITATIVE', `ns1.p.test (127.0.0.1:${p.server.dnsPort})`],
    ]);
  });

  it('reports a dangling delegation (a takeover risk) once the zone is gone from its servers', async () => {
    const created = await childDns.createZone({ name: `gone.${PARENT}`, callerReference: 'gone' });
    const zone = await delegate('gone', CHILD_NS);
    expect((await verifyDelegation({ zone, parentServers: parentServers() }, fast)).status).toBe('ok');
    await childDns.deleteZone(created.zone.id);
    const report = await verifyDelegation({ zone, parentServers: parentServers() }, fast);
    expect(report).toMatchObject({ status: 'dangling', takeoverRisk: true });
    expect(report.servers.map((s) => s.status)).toEqual(['refused', 'refused']);
    expect(new Set(report.problems.map((x) => x.code))).toEqual(new Set(['SERVER_REFUSED']));
  });

  it('reports a server that does not answer, within its time limits', async () => {
    await childDns.createZone({ name: `quiet.${PARENT}`, callerReference: 'quiet' });
    const mixed = await delegate('quiet', ['ns1.c.test', 'ns.silent.test']);
    const started = Date.now();
    const report = await verifyDelegation({ zone: mixed, parentServers: parentServers() }, fast);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(report.status).toBe('lame');
    expect(report.problems.map((x) => x.code)).toEqual(['SERVER_UNREACHABLE']);
    const dead = await delegate('dead', ['ns.silent.test']);
    const deadReport = await verifyDelegation({ zone: dead, parentServers: parentServers() }, fast);
    expect(deadReport).toMatchObject({ status: 'unreachable', takeoverRisk: false });
    const noParent = await verifyDelegation(
      { zone: dead, parentServers: [{ address: '127.0.0.1', port: silent.address().port }] },
      { ...fast, attempts: 2 },
    );
    expect(noParent.status).toBe('parent-unreachable');
    expect(noParent.parent.map((x) => x.status)).toEqual(['timeout']);
  });

  it('stops at the deadline with a report, and rejects with signal.reason when aborted', async () => {
    const dead = await delegate('slow', ['ns.silent.test']);
    const started = Date.now();
    const report = await verifyDelegation(
      { zone: dead, parentServers: parentServers() },
      { resolveNameServer, queryTimeoutMs: 5_000, attempts: 3, deadlineMs: 400 },
    );
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(report.status).toBe('unreachable');
    const controller = new AbortController();
    const aborted = verifyDelegation(
      { zone: dead, parentServers: parentServers() },
      { resolveNameServer, queryTimeoutMs: 5_000, attempts: 3, signal: controller.signal },
    );
    setTimeout(() => controller.abort(), 100);
    const t0 = Date.now();
    expect(await aborted.catch((e: unknown) => e)).toBe(controller.signal.reason);
    expect(Date.now() - t0).toBeLessThan(1_000);
  }, 30_000);

  it('reports a missing delegation, an NS host that does not resolve, and a delegation to other servers', async () => {
    await childDns.createZone({ name: `none.${PARENT}`, callerReference: 'none' });
    const none = await verifyDelegation({ zone: `none.${PARENT}`, parentServers: parentServers() }, fast);
    expect(none).toMatchObject({ status: 'not-delegated', problems: [{ code: 'NOT_DELEGATED' }] });

    await childDns.createZone({ name: `typo.${PARENT}`, callerReference: 'typo' });
    const typo = await delegate('typo', ['ns1.c.test', 'ns1.c-typo.test']);
    const typoReport = await verifyDelegation({ zone: typo, parentServers: parentServers() }, fast);
    expect(typoReport).toMatchObject({ status: 'lame', takeoverRisk: true });
    expect(typoReport.problems.map((x) => x.code)).toEqual(['NAME_SERVER_UNRESOLVABLE']);

    const created = await childDns.createZone({ name: `moved.${PARENT}`, callerReference: 'moved' });
    const moved = await delegate('moved', ['ns1.c.test']);
    const movedReport = await verifyDelegation(
      { zone: moved, parentServers: parentServers(), expectedNameServers: created.nameServers },
      fast,
    );
    expect(movedReport).toMatchObject({ status: 'mismatch', problems: [{ code: 'NAME_SERVERS_DIFFER' }] });
  });

  it('accepts an authoritative answer when one server hosts parent and child (ensureOrganizationZone on PowerDNS)', async () => {
    const dns = c.provider({ nameServers: ['ns1.c.test'] });
    await dns.createZone({ name: 'base.test', callerReference: 'base' });
    const ensured = await ensureOrganizationZone({ organization: 'acme', baseDomain: 'base.test' }, { dns });
    expect(ensured.plan.steps.map((s) => s.op)).toEqual(['create-zone', 'tag-zone', 'upsert-delegation']);
    const report = await verifyDelegation(
      {
        zone: 'acme.base.test',
        parentServers: [{ address: '127.0.0.1', port: c.server.dnsPort }],
        expectedNameServers: ensured.zone?.nameServers ?? [],
      },
      fast,
    );
    expect(report).toMatchObject({ status: 'ok', nameServers: ['ns1.c.test'] });
    expect(report.parent.map((x) => x.status)).toEqual(['answer']);
  });

  it('rejects bad input with INVALID_INPUT before any query', async () => {
    for (const [input, options] of [
      [{ zone: 'bad zone', parentServers: parentServers() }, {}],
      [{ zone: 'x.test', parentServers: [] }, {}],
      [{ zone: 'x.test', parentServers: [{ address: 'ns1.p.test' }] }, {}],
      [{ zone: 'x.test', parentServers: [{ address: '127.0.0.1', port: 70_000 }] }, {}],
      [{ zone: 'x.test', parentServers: parentServers() }, { queryTimeoutMs: 0 }],
      [{ zone: 'x.test', parentServers: parentServers() }, { attempts: 1.5 }],
    ] as const) {
      const error = await verifyDelegation(input as never, options).catch((e: unknown) => e);
      expect(hasErrorCode(error, 'INVALID_INPUT'), JSON.stringify(input)).toBe(true);
    }
  });
});

describe('assessDelegation', () => {
  const server = { address: '192.0.2.1' };
  const referral = (nameServers: string[]): ParentServerCheck => ({
    server,
    status: 'referral',
    nameServers,
    glue: {},
  });
  const child = (nameServer: string, status: ChildServerCheck['status']): ChildServerCheck => ({
    nameServer,
    server: { address: '192.0.2.2' },
    status,
  });
  const cases: [string, Parameters<typeof assessDelegation>[0], string, boolean][] = [
    [
      'every server authoritative',
      {
        zone: 'a.test',
        parent: [referral(['n1', 'n2'])],
        servers: [child('n1', 'authoritative'), child('n2', 'authoritative')],
      },
      'ok',
      false,
    ],
    [
      'one of two refuses',
      {
        zone: 'a.test',
        parent: [referral(['n1', 'n2'])],
        servers: [child('n1', 'authoritative'), child('n2', 'refused')],
      },
      'lame',
      false,
    ],
    [
      'all refuse',
      { zone: 'a.test', parent: [referral(['n1'])], servers: [child('n1', 'refused')] },
      'dangling',
      true,
    ],
    [
      'all silent',
      { zone: 'a.test', parent: [referral(['n1'])], servers: [child('n1', 'timeout')] },
      'unreachable',
      false,
    ],
    [
      'silent and not authoritative',
      {
        zone: 'a.test',
        parent: [referral(['n1', 'n2'])],
        servers: [child('n1', 'timeout'), child('n2', 'not-authoritative')],
      },
      'dangling',
      true,
    ],
    [
      'parent refuses',
      { zone: 'a.test', parent: [{ server, status: 'refused', nameServers: [], glue: {} }], servers: [] },
      'parent-unreachable',
      false,
    ],
    [
      'parent says no',
      {
        zone: 'a.test',
        parent: [{ server, status: 'no-delegation', nameServers: [], glue: {} }],
        servers: [],
      },
      'not-delegated',
      false,
    ],
    [
      'NS host unresolvable beside a good one',
      {
        zone: 'a.test',
        parent: [referral(['n1', 'n2'])],
        servers: [child('n1', 'authoritative'), { nameServer: 'n2', status: 'unresolvable' }],
      },
      'lame',
      true,
    ],
  ];
  it.for(cases)('%s', ([, evidence, status, risk]) => {
    const report = assessDelegation(evidence);
    expect(report.status).toBe(status);
    expect(report.takeoverRisk).toBe(risk);
    expect(assessDelegation(evidence)).toEqual(report);
  });
});
