/**
 * The PowerDNS backend through the facade: `createZonekeeper({ powerdns })` provisions acme and globex
 * on a real PowerDNS (zones, delegations, one TSIG key each, stored first) and attaches acme's cluster,
 * a Kubernetes API fake, rendering ExternalDNS with `--provider=rfc2136` and acme's key. The real
 * ExternalDNS binary then writes an annotated Service's record over RFC 2136, `dig` resolves it, the
 * other organisation's key is refused, and offboarding (detach, delete) removes the zone and the key,
 * after which the old secret signs nothing.
 *
 * ```
 *  createZonekeeper({ powerdns }) ──HTTP API──► pdns_server ◄──RFC 2136 + TSIG(acme)── ExternalDNS (--once)
 *          └── attachCluster ──► Kubernetes API fake ◄──────────────────────────────────────┘
 * ```
 */

import { dig, type NsupdateKey, nsupdate } from '@zonekeeper/testkit/powerdns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACME, GLOBEX, type PowerDnsWorld, REF, startPowerDnsWorld } from '../powerdns-world.js';
import { errorLines } from '../world.js';

const LB_IP = '192.0.2.20';

let w: PowerDnsWorld;
const zk = () => {
  if (!w.zk) throw new Error('the world was not built by the facade');
  return w.zk;
};

beforeAll(async () => {
  w = await startPowerDnsWorld({ via: 'facade' });
});

afterAll(async () => {
  await w?.stop();
});

describe('createZonekeeper({ powerdns }) with the real ExternalDNS', { timeout: 120_000 }, () => {
  it("attachCluster deployed rfc2136 with acme's key, the secret only in the Secret", () => {
    const deployment = w.cluster.get({ apiVersion: 'apps/v1', kind: 'Deployment', ...REF });
    const text = JSON.stringify(deployment);
    expect(text).toContain('--provider=rfc2136');
    // The key name travels with the secret, in the Secret (decision 36).
    expect(text).toContain('EXTERNAL_DNS_RFC2136_TSIG_KEYNAME');
    const secret = w.cluster.get({
      apiVersion: 'v1',
      kind: 'Secret',
      namespace: REF.namespace,
      name: 'external-dns-rfc2136-tsig',
    }) as { data?: Record<string, string> } | undefined;
    expect(Buffer.from(secret?.data?.['tsig-keyname'] ?? '', 'base64').toString()).toBe(
      `zonekeeper-update.${ACME}`,
    );
    expect(text).toContain('EXTERNAL_DNS_RFC2136_TSIG_SECRET');
    expect(text).not.toContain((w.keys[ACME] as NsupdateKey).secret);
    expect(text).not.toContain((w.keys[GLOBEX] as NsupdateKey).secret);
  });

  it('an annotated Service resolves over DNS after one loop of the real binary', async () => {
    await w.service('web', `www.${ACME}`, LB_IP);
    const run = await w.runOnce();
    expect(errorLines(run)).toEqual([]);
    expect(run.exitCode).toBe(0);
    expect(run.lines.join('\n')).not.toContain((w.keys[ACME] as NsupdateKey).secret);
    const answer = await dig(w.server(), `www.${ACME}`, 'A');
    expect(answer.status).toBe('NOERROR');
    expect(answer.values).toEqual([LB_IP]);
  });

  it("globex's key, made by the same facade, cannot write acme's zone", async () => {
    const cross = await nsupdate(w.server(), {
      zone: ACME,
      key: w.keys[GLOBEX] as NsupdateKey,
      updates: [`add evil.${ACME} 60 A 203.0.113.66`],
    });
    expect(cross.ok).toBe(false);
    expect(['REFUSED', 'NOTAUTH']).toContain(cross.rcode);
    expect((await dig(w.server(), `evil.${ACME}`, 'A')).status).toBe('NXDOMAIN');
  });

  it('a warm ensureOrganization and attachCluster plan nothing', async () => {
    const ensured = await zk().ensureOrganization('acme');
    expect(ensured.plans.zone).toEqual([]);
    expect(ensured.plans.tsigKey).toEqual([]);
    const attached = await zk().attachCluster('acme', { clusterId: 'acme-prod' });
    expect(attached.plan).toEqual([]);
    expect(attached.tsigKeyName).toBe(`zonekeeper-update.${ACME}`);
  });

  it("offboarding removes acme's ExternalDNS, zone and key; the old secret signs nothing", async () => {
    await w.kubectl(['delete', 'service', 'web', '-n', 'default']);
    const detached = await zk().detachCluster('acme', 'acme-prod');
    expect(detached.dryRun).toBe(false);
    expect(w.cluster.get({ apiVersion: 'apps/v1', kind: 'Deployment', ...REF })).toBeUndefined();
    // The records ExternalDNS added stay (without AXFR it never deletes): deletion removes them with the zone.
    const deleted = await zk().deleteOrganization('acme');
    expect(deleted.deletedTsigKeys).toEqual([`zonekeeper-update.${ACME}`]);
    expect(await w.admin.getTsigKey(`zonekeeper-update.${ACME}`)).toBeUndefined();
    expect((await dig(w.server(), `www.${ACME}`, 'A')).status).not.toBe('NOERROR');
    const old = await nsupdate(w.server(), {
      zone: ACME,
      key: w.keys[ACME] as NsupdateKey,
      updates: [`add back.${ACME} 60 A 203.0.113.67`],
    });
    expect(old.ok).toBe(false);
    // globex is untouched: its key still works.
    const own = await nsupdate(w.server(), {
      zone: GLOBEX,
      key: w.keys[GLOBEX] as NsupdateKey,
      updates: [`add shop.${GLOBEX} 60 A 198.51.100.7`],
    });
    expect(own).toMatchObject({ ok: true, rcode: 'NOERROR' });
  });
});
