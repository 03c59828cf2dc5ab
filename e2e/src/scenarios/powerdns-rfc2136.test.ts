/**
 * Organisations on a real PowerDNS, each with its own TSIG key: an annotated LoadBalancer Service on
 * acme's cluster becomes a record that `dig` resolves, written by the real ExternalDNS binary over
 * RFC 2136 with acme's key (`--provider=rfc2136`, rendered by externaldns-deployer, the secret read
 * from the Secret through the environment). Acme's key cannot touch globex's zone: `nsupdate` with it
 * is refused by the server, and a hostile annotation naming a globex host writes nothing, even when
 * the Deployment is tampered with to aim ExternalDNS at globex's zone.
 *
 * ```
 *  kubectl ──► Kubernetes API fake ◄── ExternalDNS (--once) ──RFC 2136 + TSIG(acme)──► pdns_server
 *                                                                          dig / nsupdate ──┘
 * ```
 */

import { externalDnsArgs, resolveExternalDnsOptions } from '@zonekeeper/externaldns-deployer';
import { dig, type NsupdateKey, nsupdate } from '@zonekeeper/testkit/powerdns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExternalDnsRun } from '../external-dns/pod.js';
import { ACME, GLOBEX, PARENT, type PowerDnsWorld, REF, startPowerDnsWorld } from '../powerdns-world.js';
import { errorLines } from '../world.js';

const LB_IP = '192.0.2.10';

let w: PowerDnsWorld;
const server = () => w.server();
const records = (zone: string) => w.records(zone);
const service = (name: string, hostnames: string, ip: string) => w.service(name, hostnames, ip);
const runOnce = (
  options: { tamper?: (args: readonly string[]) => readonly string[] } = {},
): Promise<ExternalDnsRun> => w.runOnce(options);

beforeAll(async () => {
  w = await startPowerDnsWorld();
});

afterAll(async () => {
  await w?.stop();
});

describe('ExternalDNS with rfc2136 and a per-organisation TSIG key on PowerDNS', { timeout: 120_000 }, () => {
  it('the Deployment in the cluster carries no secret: it comes from the Secret through the environment', () => {
    const deployment = w.cluster.get({ apiVersion: 'apps/v1', kind: 'Deployment', ...REF });
    const text = JSON.stringify(deployment);
    expect(text).not.toContain((w.keys[ACME] as NsupdateKey).secret);
    expect(text).toContain('EXTERNAL_DNS_RFC2136_TSIG_SECRET');
    expect(text).toContain('--provider=rfc2136');
  });

  it("an annotated LoadBalancer Service on acme's cluster resolves over DNS after one loop", async () => {
    await service('web', `www.${ACME}`, LB_IP);
    const run = await runOnce();
    expect(errorLines(run)).toEqual([]);
    expect(run.exitCode).toBe(0);
    expect(run.lines.some((l) => l.includes('Adding RR') && l.includes(`www.${ACME}`))).toBe(true);
    // The secret never reaches the log (ExternalDNS masks secure flags, and it is not an argument).
    expect(run.lines.join('\n')).not.toContain((w.keys[ACME] as NsupdateKey).secret);
    expect(run.args.join(' ')).not.toContain((w.keys[ACME] as NsupdateKey).secret);
    const answer = await dig(server(), `www.${ACME}`, 'A');
    expect(answer.status).toBe('NOERROR');
    expect(answer.authoritative).toBe(true);
    expect(answer.values).toEqual([LB_IP]);
    // …with its ownership record, named by the default TXT prefix, inside acme's zone.
    const txt = await dig(server(), `_extdns-a.www.${ACME}`, 'TXT');
    expect(txt.values.join(' ')).toContain('external-dns/owner=acme-prod');
  });

  it("nsupdate with acme's key against globex's zone (and the parent) is refused, and nothing changes", async () => {
    const before = { globex: await records(GLOBEX), parent: await records(PARENT) };
    for (const zone of [GLOBEX, PARENT]) {
      const result = await nsupdate(server(), {
        zone,
        key: w.keys[ACME] as NsupdateKey,
        updates: [`add evil.${zone} 60 A 203.0.113.66`],
      });
      expect(result.ok, zone).toBe(false);
      expect(['REFUSED', 'NOTAUTH'], zone).toContain(result.rcode);
      expect((await dig(server(), `evil.${zone}`, 'A')).status, zone).toBe('NXDOMAIN');
    }
    expect({ globex: await records(GLOBEX), parent: await records(PARENT) }).toEqual(before);
    // globex's own key still works: the refusal is about the key, not a broken zone.
    const own = await nsupdate(server(), {
      zone: GLOBEX,
      key: w.keys[GLOBEX] as NsupdateKey,
      updates: [`add shop.${GLOBEX} 60 A 198.51.100.7`],
    });
    expect(own).toMatchObject({ ok: true, rcode: 'NOERROR' });
    expect((await dig(server(), `shop.${GLOBEX}`, 'A')).values).toEqual(['198.51.100.7']);
  });

  describe("a hostile annotation on acme's cluster naming hosts in globex's zone and the parent", () => {
    let before: { acme: string[]; globex: string[]; parent: string[] };
    beforeAll(async () => {
      await service('takeover', `www.${GLOBEX},shop.${GLOBEX},${PARENT}`, '203.0.113.66');
      before = { acme: await records(ACME), globex: await records(GLOBEX), parent: await records(PARENT) };
    });

    it('writes nothing with the rendered Deployment (the names are outside its domain filter)', async () => {
      const run = await runOnce();
      expect(errorLines(run)).toEqual([]);
      expect(run.lines.filter((l) => l.includes('Adding RR') && l.includes(GLOBEX))).toEqual([]);
      expect({
        acme: await records(ACME),
        globex: await records(GLOBEX),
        parent: await records(PARENT),
      }).toEqual(before);
      expect((await dig(server(), `shop.${GLOBEX}`, 'A')).values).toEqual(['198.51.100.7']);
    });

    it("writes nothing when the Deployment is tampered to aim at globex's zone: the server refuses acme's key", async () => {
      const run = await runOnce({
        tamper: (args) => [
          ...args.filter((a) => !a.startsWith('--domain-filter=') && !a.startsWith('--rfc2136-zone=')),
          `--rfc2136-zone=${GLOBEX}`,
          `--rfc2136-zone=${PARENT}`,
        ],
      });
      // ExternalDNS tried, and the server said no.
      expect(run.lines.some((l) => l.includes('Adding RR') && l.includes(GLOBEX))).toBe(true);
      expect(run.lines.some((l) => /RFC2136 create record failed.*(REFUSED|NOTAUTH)/i.test(l))).toBe(true);
      expect({ globex: await records(GLOBEX), parent: await records(PARENT) }).toEqual({
        globex: before.globex,
        parent: before.parent,
      });
      expect((await dig(server(), `www.${GLOBEX}`, 'A')).status).toBe('NXDOMAIN');
      expect((await dig(server(), `shop.${GLOBEX}`, 'A')).values).toEqual(['198.51.100.7']);
      expect((await dig(server(), PARENT, 'A')).values).toEqual([]);
    });
  });

  it('the real binary knows every flag the renderer writes', async () => {
    const { execFile } = await import('node:child_process');
    const { externalDnsBinary } = await import('../external-dns/binary.js');
    const binary = await externalDnsBinary();
    const help = await new Promise<string>((resolve, reject) =>
      execFile(binary, ['--help'], (error, stdout, stderr) =>
        error && !stdout && !stderr ? reject(error) : resolve(`${stdout}${stderr}`),
      ),
    );
    const args = externalDnsArgs(
      resolveExternalDnsOptions({
        clusterId: 'c',
        organization: 'o',
        zoneName: ACME,
        rfc2136: { host: '127.0.0.1', axfr: true, tsigKey: { name: 'k.acme.example.com', secret: 'AAAA' } },
      }),
    );
    for (const flag of new Set(args.map((a) => a.split('=')[0] as string)))
      expect(help, flag).toContain(flag);
    expect(help).toContain('--rfc2136-tsig-secret');
  });
});
