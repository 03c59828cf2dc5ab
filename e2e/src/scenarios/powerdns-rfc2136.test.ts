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

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  applyExternalDns,
  externalDnsArgs,
  renderExternalDns,
  resolveExternalDnsOptions,
} from '@zonekeeper/externaldns-deployer';
import { createKubernetesCluster } from '@zonekeeper/externaldns-deployer/kubernetes';
import { type KubernetesFake, startKubernetesFake } from '@zonekeeper/kube-apiserver-fake';
import {
  dig,
  type NsupdateKey,
  nsupdate,
  type PowerDnsServer,
  startPowerDns,
} from '@zonekeeper/testkit/powerdns';
import { createMemorySecretStore, readTsigKey, writeTsigKey } from '@zonekeeper/vault-keys';
import {
  createPowerDnsAdmin,
  createPowerDnsProvider,
  ensureOrganizationTsigKey,
  type PowerDnsProvider,
  type TsigKeyStore,
} from '@zonekeeper/zone-manager/powerdns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ExternalDnsRun, runExternalDnsOnce } from '../external-dns/pod.js';
import { errorLines, runKubectl } from '../world.js';

const PARENT = 'example.com';
const ACME = 'acme.example.com';
const GLOBEX = 'globex.example.com';
const LB_IP = '192.0.2.10';
const REF = { namespace: 'external-dns', name: 'external-dns' } as const;

let pdns: PowerDnsServer;
let dns: PowerDnsProvider;
let fake: KubernetesFake;
let dir: string;
const keys: Record<string, NsupdateKey> = {};

const server = () => ({ port: pdns.dnsPort });
const kubectl = async (args: readonly string[], stdin?: string) =>
  runKubectl(await fake.writeKubeconfig(dir), args, stdin);

/** Every record of a zone as the API lists it, one line each, sorted. */
async function records(zone: string): Promise<string[]> {
  const [found] = await dns.findZonesByName(zone);
  if (!found) throw new Error(`no zone ${zone}`);
  const page = await dns.listRecords(found.id, { maxItems: 300 });
  return page.recordSets.map((r) => `${r.name} ${r.type} ${(r.values ?? []).join(' ')}`).sort();
}

async function service(name: string, hostnames: string, ip: string): Promise<void> {
  await kubectl(
    ['apply', '-f', '-'],
    `
apiVersion: v1
kind: Service
metadata:
  name: ${name}
  namespace: default
  annotations:
    external-dns.kubernetes.io/hostname: ${hostnames}
spec:
  type: LoadBalancer
  ports: [{ port: 443 }]
`,
  );
  await kubectl([
    'patch',
    'service',
    name,
    '-n',
    'default',
    '--subresource=status',
    '--type=merge',
    '-p',
    JSON.stringify({ status: { loadBalancer: { ingress: [{ ip }] } } }),
  ]);
}

function runOnce(
  options: { tamper?: (args: readonly string[]) => readonly string[] } = {},
): Promise<ExternalDnsRun> {
  return runExternalDnsOnce({ cluster: fake }, REF, options);
}

beforeAll(async () => {
  pdns = await startPowerDns();
  dns = createPowerDnsProvider({ apiUrl: pdns.apiUrl, apiKey: pdns.apiKey, nameServers: ['ns1.pdns.test'] });
  const admin = createPowerDnsAdmin(dns.api);
  await dns.createZone({ name: PARENT, callerReference: 'platform-parent' });
  // Each organisation's identity: its key created over the API, kept in the secret store, alone
  // allowed to update its zone.
  const secrets = createMemorySecretStore();
  const store: TsigKeyStore = {
    read: (organization, o) => readTsigKey(secrets, { organization }, o),
    write: (organization, key, o) => writeTsigKey(secrets, { organization }, key, o),
  };
  for (const [organization, zone] of [
    ['acme', ACME],
    ['globex', GLOBEX],
  ] as const) {
    await dns.createZone({ name: zone, callerReference: `org-${zone}` });
    await ensureOrganizationTsigKey(
      { admin, store },
      { organization, zoneName: zone, updateSources: ['127.0.0.0/8'] },
    );
    const key = await readTsigKey(secrets, { organization });
    if (!key) throw new Error(`no stored key for ${organization}`);
    keys[zone] = { name: key.name, algorithm: key.algorithm, secret: key.secret };
  }
  dir = await mkdtemp(join(tmpdir(), 'zk-e2e-pdns-'));
  fake = await startKubernetesFake({ rolloutDelayMs: 0 });
  const acmeKey = keys[ACME] as NsupdateKey;
  const objects = renderExternalDns({
    clusterId: 'acme-prod',
    organization: 'acme',
    zoneName: ACME,
    createNamespace: true,
    rfc2136: {
      host: '127.0.0.1',
      port: pdns.dnsPort,
      tsigKey: { name: acmeKey.name, algorithm: 'hmac-sha256', secret: acmeKey.secret },
    },
  });
  await applyExternalDns(
    createKubernetesCluster({ name: 'acme-prod', kubeconfigYaml: fake.kubeconfig().yaml }),
    objects,
  );
});

afterAll(async () => {
  await fake?.stop();
  await pdns?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('ExternalDNS with rfc2136 and a per-organisation TSIG key on PowerDNS', { timeout: 120_000 }, () => {
  it('the Deployment in the cluster carries no secret: it comes from the Secret through the environment', () => {
    const deployment = fake.get({ apiVersion: 'apps/v1', kind: 'Deployment', ...REF });
    const text = JSON.stringify(deployment);
    expect(text).not.toContain((keys[ACME] as NsupdateKey).secret);
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
    expect(run.lines.join('\n')).not.toContain((keys[ACME] as NsupdateKey).secret);
    expect(run.args.join(' ')).not.toContain((keys[ACME] as NsupdateKey).secret);
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
        key: keys[ACME] as NsupdateKey,
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
      key: keys[GLOBEX] as NsupdateKey,
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
