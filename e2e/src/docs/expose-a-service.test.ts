/**
 * docs/expose-a-service.md, executed: every ```yaml block of the guide is applied with kubectl to the
 * cluster (the Kubernetes API fake) after the platform attached it the way the guide says, the load
 * balancers get addresses, and the real ExternalDNS publishes them. The records and log lines the guide
 * quotes are checked here.
 */

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT } from '../external-dns/binary.js';
import { desiredChanges, ELB_HOSTNAME, errorLines, startWorld, type World } from '../world.js';

const GUIDE = join(REPO_ROOT, 'docs', 'expose-a-service.md');
/** What the Ingress controller reports: not an AWS load balancer, so the guide promises a CNAME. */
const INGRESS_HOSTNAME = 'ingress-nginx.lb.example.net';
let world: World;
let guide: string;

function blocks(markdown: string, language: string): string[] {
  return [...markdown.matchAll(new RegExp(`^\`\`\`${language}\\n([\\s\\S]*?)^\`\`\`$`, 'gm'))].map(
    (m) => m[1] as string,
  );
}

beforeAll(async () => {
  guide = await readFile(GUIDE, 'utf8');
  world = await startWorld();
});

afterAll(async () => {
  await world?.stop();
});

describe('docs/expose-a-service.md', { timeout: 180_000 }, () => {
  it('has YAML that applies and that ExternalDNS publishes as the guide says', async () => {
    const yamlBlocks = blocks(guide, 'yaml');
    expect(yamlBlocks.length).toBeGreaterThanOrEqual(4);
    const documents = yamlBlocks.flatMap((b) =>
      parseAllDocuments(b).map((d) => d.toJS() as { kind: string }),
    );
    // The guide's Namespace first (the TLS Secret goes into it), then the attach the guide describes:
    // `zonekeeper cluster attach acme prod-eu --cert web:shop:web.acme.example.com,shop.acme.example.com`.
    await world.kubectl('prod-eu', ['apply', '-f', '-'], yamlBlocks[0]);
    expect(guide).toContain(
      'zonekeeper cluster attach acme prod-eu --cert web:shop:web.acme.example.com,shop.acme.example.com',
    );
    await world.zk.attachCluster('acme', {
      clusterId: 'prod-eu',
      certificates: [
        { name: 'web', namespace: 'shop', dnsNames: ['web.acme.example.com', 'shop.acme.example.com'] },
      ],
    });
    for (const block of yamlBlocks) await world.kubectl('prod-eu', ['apply', '-f', '-'], block);
    expect(documents.map((d) => d.kind)).toEqual([
      'Namespace',
      'Service',
      'Deployment',
      'Ingress',
      'Service',
    ]);

    // The TLS Secret the Deployment mounts is there, with the three keys the guide names.
    const fake = await world.cluster('prod-eu');
    const tls = fake.get({ apiVersion: 'v1', kind: 'Secret', namespace: 'shop', name: 'web' }) as unknown as {
      type: string;
      data: Record<string, string>;
    };
    expect(tls.type).toBe('kubernetes.io/tls');
    expect(Object.keys(tls.data).sort()).toEqual(['ca.crt', 'tls.crt', 'tls.key']);

    await world.setLoadBalancer('prod-eu', 'service', 'shop', 'web', ELB_HOSTNAME);
    await world.setLoadBalancer('prod-eu', 'service', 'shop', 'front', ELB_HOSTNAME);
    await world.setLoadBalancer('prod-eu', 'ingress', 'shop', 'shop', INGRESS_HOSTNAME);
    // The guide's status check, verbatim.
    const check = /^kubectl -n shop get service web -o jsonpath='([^']+)'$/m.exec(guide);
    expect(check).not.toBeNull();
    expect(
      await world.kubectl('prod-eu', ['-n', 'shop', 'get', 'service', 'web', '-o', `jsonpath=${check?.[1]}`]),
    ).toBe(ELB_HOSTNAME);

    const run = await world.runOnce('prod-eu');
    expect(errorLines(run)).toEqual([]);
    expect(world.enforcer.denials()).toEqual([]);
    const records = await world.records('acme.example.com');
    const owner = (resource: string) =>
      `"heritage=external-dns,external-dns/owner=prod-eu,external-dns/resource=${resource}"`;
    expect(records).toEqual(
      expect.arrayContaining([
        `web.acme.example.com. A ALIAS ${ELB_HOSTNAME}`,
        `web.acme.example.com. AAAA ALIAS ${ELB_HOSTNAME}`,
        `_extdns-a.web.acme.example.com. TXT ${owner('service/shop/web')}`,
        `_extdns-aaaa.web.acme.example.com. TXT ${owner('service/shop/web')}`,
        `shop.acme.example.com. CNAME ${INGRESS_HOSTNAME}`,
        `_extdns-cname.shop.acme.example.com. TXT ${owner('ingress/shop/shop')}`,
        `acme.example.com. A ALIAS ${ELB_HOSTNAME}`,
        `_extdns-a.acme.example.com. TXT ${owner('service/shop/front')}`,
        `*.apps.acme.example.com. A ALIAS ${ELB_HOSTNAME}`,
      ]),
    );
    // The guide's table, row by row.
    for (const row of [
      '`web.acme.example.com.`              | A    | ALIAS',
      '`_extdns-a.web.acme.example.com.`    | TXT  | `"heritage=external-dns,external-dns/owner=prod-eu,external-dns/resource=service/shop/web"`',
    ]) {
      expect(guide).toContain(row);
    }
    // The log lines the guide quotes are lines ExternalDNS printed.
    const quoted =
      blocks(guide, 'text')[0]
        ?.split('\n')
        .filter((l) => l !== '') ?? [];
    expect(quoted.length).toBe(4);
    for (const line of quoted) {
      const pattern = new RegExp(
        line
          .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
          .replace(/Z…/g, '[A-Z0-9]+')
          .replace(/msg="\d+ record/, 'msg="\\d+ record')
          .replace(/^level=/, 'level='),
      );
      const source = line.includes('All records are already up to date')
        ? (await world.runOnce('prod-eu')).lines
        : run.lines;
      expect(
        source.some((l) => pattern.test(l)),
        line,
      ).toBe(true);
    }
    expect(desiredChanges(run)).toContain('CREATE web.acme.example.com A');
  });

  it('removes the names once the objects are deleted, with policy sync', async () => {
    await world.zk.attachCluster('acme', {
      clusterId: 'prod-eu',
      certificates: [
        { name: 'web', namespace: 'shop', dnsNames: ['web.acme.example.com', 'shop.acme.example.com'] },
      ],
      externalDns: { policy: 'sync' },
    });
    await world.kubectl('prod-eu', ['-n', 'shop', 'delete', 'service', 'web', 'front']);
    await world.kubectl('prod-eu', ['-n', 'shop', 'delete', 'ingress', 'shop']);
    const run = await world.runOnce('prod-eu');
    expect(errorLines(run)).toEqual([]);
    expect((await world.records('acme.example.com')).map((r) => r.split(' ')[1])).toEqual(['NS', 'SOA']);
  });
});
