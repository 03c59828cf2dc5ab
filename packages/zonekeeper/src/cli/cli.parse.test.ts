/**
 * Argument parsing and validation: every bad flag, argument or environment value exits 2 with a message
 * before anything is sent. AWS, Vault and the cluster all point at one tripwire HTTP server that counts
 * every connection it gets; it must get none.
 */

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { planFleetBudget } from '../fleet/budget.js';
import { json, run } from './cli.test.support.js';

let tripwire: Server;
let connections = 0;
let dir: string;
let env: Record<string, string>;

beforeAll(async () => {
  tripwire = createServer((socket) => {
    connections += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => tripwire.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(tripwire.address() as { port: number }).port}`;
  dir = await mkdtemp(join(tmpdir(), 'zonekeeper-cli-parse-'));
  const kubeconfig = join(dir, 'kubeconfig');
  await writeFile(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{name: prod-1, cluster: {server: "${url}"}}]`,
      'users: [{name: prod-1, user: {token: not-a-real-token}}]',
      'contexts: [{name: prod-1, context: {cluster: prod-1, user: prod-1}}]',
      'current-context: prod-1',
      '',
    ].join('\n'),
  );
  await writeFile(join(dir, 'inventory.json'), '[]');
  env = {
    ZONEKEEPER_BASE_DOMAIN: 'example.com',
    AWS_ENDPOINT_URL: url,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    VAULT_ADDR: url,
    VAULT_TOKEN: 'hvs.tripwire',
    KUBECONFIG: kubeconfig,
    HOME: dir,
  };
});

afterAll(async () => {
  await new Promise<void>((resolve) => tripwire?.close(() => resolve()));
  if (dir) await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
  connections = 0;
});

describe('usage errors (commander): exit 2', () => {
  it.each([
    [['org', 'ensure'], /missing required argument 'org'/],
    [['org', 'ensure', 'a', 'b'], /too many arguments/],
    [['org', 'ensure', 'acme', '--force'], /unknown option '--force'/],
    [['cluster', 'attach', 'acme'], /missing required argument 'cluster'/],
    [['cert', 'issue', 'www.acme.example.com'], /required option '--org <org>' not specified/],
    [['gc', 'collect'], /unknown command 'collect'/],
    [['org'], /Usage: zonekeeper org/],
    [[], /Usage: zonekeeper/],
    [['--vault-token', 'x', 'org', 'ensure', 'acme'], /unknown option '--vault-token'/],
  ])('zonekeeper %j', async (argv, message) => {
    const r = await run(argv, env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(connections).toBe(0);
  });

  it('with --json a usage error is still one JSON document on stdout', async () => {
    const r = await run(['org', 'ensure', '--json'], env);
    expect(r.code).toBe(2);
    expect(json(r)).toMatchObject({ ok: false, exitCode: 2, error: { code: 'INVALID_INPUT' } });
  });

  it('--help and --version exit 0 on stdout', async () => {
    const help = await run(['cluster', 'attach', '--help'], env);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--cert <name:namespace:hosts>/);
    expect(help.stdout).toMatch(/--policy <policy> +ExternalDNS --policy: upsert-only, sync, create-only/);
    const version = await run(['--version'], env);
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe('invalid input: exit 2 with the message, nothing sent', () => {
  const inventory = () => join(dir, 'inventory.json');
  it.each([
    [['org', 'ensure', 'Acme'], /Organisation name "Acme" contains uppercase letters/],
    [['org', 'ensure', '--', '-acme'], /"-acme" starts or ends with "-"/],
    [['org', 'ensure', 'acme', '--base-domain', 'localhost'], /at least two labels/],
    [['org', 'ensure', 'acme', '--aws-endpoint', 'ftp://x'], /http:\/\/ or https:\/\//],
    [
      ['org', 'ensure', 'acme', '--requests-per-second', 'fast'],
      /--requests-per-second must be a positive number/,
    ],
    [['org', 'ensure', 'acme', '--identity-scope', 'team'], /--identity-scope must be/],
    [['org', 'ensure', 'acme', '--region', 'EU West'], /not a region name/],
    [['cluster', 'attach', 'acme', 'Prod_1'], /Cluster id "Prod_1"/],
    [['cluster', 'attach', 'acme', 'prod-1', '--cert', 'web'], /must be <name>:<namespace>:<host>/],
    [
      ['cluster', 'attach', 'acme', 'prod-1', '--cert', 'Web:default:www.acme.example.com'],
      /Certificate name "Web"/,
    ],
    [
      [
        'cluster',
        'attach',
        'acme',
        'prod-1',
        '--cert',
        'web:default:a.acme.example.com',
        '--cert',
        'web:x:b.acme.example.com',
      ],
      /certificate web twice/,
    ],
    [['cluster', 'attach', 'acme', 'prod-1', '--namespace', 'Kube_System'], /Namespace "Kube_System"/],
    [['cluster', 'attach', 'acme', 'prod-1', '--certificates', 'vault'], /--certificates must be/],
    [
      ['cluster', 'attach', 'acme', 'prod-1', '--cert-manager-namespace', 'web'],
      /need --certificates cert-manager/,
    ],
    [
      ['cluster', 'attach', 'acme', 'prod-1', '--certificates', 'cert-manager', '--trust-bundle'],
      /need the tenant namespaces/,
    ],
    [
      [
        'cluster',
        'attach',
        'acme',
        'prod-1',
        '--certificates',
        'cert-manager',
        '--cert-manager-namespace',
        'Web',
      ],
      /certManager\.namespaces\[0\]/,
    ],
    [
      [
        'cluster',
        'attach',
        'acme',
        'prod-1',
        '--certificates',
        'cert-manager',
        '--cert-manager-namespace',
        'web',
        '--acme-server',
        'http://acme.test/directory',
      ],
      /https:\/\//,
    ],
    [
      [
        'cluster',
        'attach',
        'acme',
        'prod-1',
        '--certificates',
        'cert-manager',
        '--cert-manager-namespace',
        'web',
        '--no-acme',
      ],
      /an ACME issuer, a CA issuer/,
    ],
    [
      ['cluster', 'attach', 'acme', 'prod-1', '--external-dns-arg=--policy=sync'],
      /sets --policy, which the renderer manages/,
    ],
    [
      ['cluster', 'attach', 'acme', 'prod-1', '--external-dns-arg=--aws-assume-role=arn:aws:iam::1:role/x'],
      /sets --aws-assume-role, which zonekeeper does not allow/,
    ],
    [
      ['cluster', 'attach', 'acme', 'prod-1', '--annotation-prefix', 'external-dns.kubernetes.io'],
      /annotationPrefix "external-dns\.kubernetes\.io" must be a lowercase DNS subdomain followed by "\/"/,
    ],
    [
      ['cluster', 'attach', 'acme', 'prod-1', '--zones-cache-duration', 'forever'],
      /zonesCacheDuration "forever"/,
    ],
    [['cluster', 'attach', 'acme', 'prod-1', '--txt-prefix', 'A B'], /txtPrefix "A B" must be/],
    [
      ['cluster', 'attach', 'acme', 'prod-1', '--rollout-timeout', '-5'],
      /--rollout-timeout must be a positive number/,
    ],
    [['cluster', 'attach', 'acme', 'prod-1', '--context', 'prod-1'], /<cluster>=<context>/],
    [
      ['cluster', 'attach', 'acme', 'prod-1', '--context', 'prod-1=nope'],
      /context "nope" for cluster prod-1/,
    ],
    [
      ['cluster', 'attach', 'acme', 'prod-1', '--fleet-budget', '/nonexistent/plan.json'],
      /cannot be read \(ENOENT\)/,
    ],
    [['cluster', 'detach', 'acme', 'prod_1'], /Cluster id "prod_1"/],
    [['credentials', 'rotate', 'ACME'], /Organisation name "ACME"/],
    [
      ['gc', 'plan', '--inventory', 'x.json', '--now', 'yesterday'],
      /--now "yesterday" is not an ISO 8601 instant/,
    ],
    [['gc', 'run', '--now', '2025-03-01T00:00'], /a time needs "Z" or an offset/],
    [['gc', 'run', '--inventory', 'does-not-exist.json'], /cannot be read \(ENOENT\)/],
    [['cert', 'issue', 'www.acme.example.com', '--org', 'acme', '--validity-days', '1000'], /at most 397/],
    [
      ['cert', 'issue', 'www.acme.example.com', '--org', 'acme', '--key-algorithm', 'DSA'],
      /--key-algorithm must be one of/,
    ],
    [['cert', 'issue', '10.0.0.1', '--org', 'acme'], /is an IP address/],
    [['cert', 'issue', '*.example.com', '--org', 'acme'], /not within the organisation's zone/],
    [['cert', 'issue', 'www.acme.example.com', '--org', 'acme', '--name', 'a.b'], /Certificate name "a.b"/],
  ])('zonekeeper %j', async (argv, message) => {
    const r = await run(argv, env, { cwd: dir });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
    expect(connections).toBe(0);
  });

  it('a missing base domain is named with its flag and variable', async () => {
    const { ZONEKEEPER_BASE_DOMAIN: _b, ...rest } = env;
    const r = await run(['org', 'ensure', 'acme'], rest);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--base-domain <domain> or set ZONEKEEPER_BASE_DOMAIN/);
  });

  it('the Vault token is never a flag; a missing one is named with its variable', async () => {
    const { VAULT_TOKEN: _t, ...rest } = env;
    const r = await run(['gc', 'plan', '--inventory', inventory()], rest);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/VAULT_TOKEN is not set/);
    expect(connections).toBe(0);
  });

  it('an inventory that is not a list of valid records is refused before anything is read', async () => {
    const file = join(dir, 'bad-inventory.json');
    for (const [content, message] of [
      ['{"clusters": []}', /must be a JSON array/],
      ['[{"organization": "acme", "clusterId": "c1"}]', /running must be a boolean/],
      [
        '[{"organization": "acme", "clusterId": "c1", "running": true}, {"organization": "acme", "clusterId": "c1", "running": false}]',
        /lists acme\/c1 twice/,
      ],
      [
        '[{"organization": "Acme", "clusterId": "c1", "running": true}]',
        /record 1: Organisation name "Acme"/,
      ],
    ] as const) {
      await writeFile(file, content);
      const r = await run(['gc', 'run', '--inventory', file], env);
      expect(r.code, content).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    expect(connections).toBe(0);
  });

  it('a --fleet-budget file that is not a plan this release can render is refused before anything is sent', async () => {
    const plan = planFleetBudget({ organizations: 10, clustersPerOrganization: 2, recordSetsPerZone: 20 });
    if (plan.outcome !== 'fits') throw new Error(plan.message);
    const file = join(dir, 'plan.json');
    for (const [content, extra, message] of [
      ['{"outcome": "fits", ', [], /is not JSON/],
      ['[]', [], /must hold a plan of planFleetBudget/],
      [
        '{"outcome": "impossible", "reasons": ["no-zone-room"], "message": "no room"}',
        [],
        /no number of accounts holds: no room/,
      ],
      [
        JSON.stringify({ ...plan, settings: { ...plan.settings, externalDnsVersion: 'v0.21.0' } }),
        [],
        /planned for ExternalDNS "v0.21.0"/,
      ],
      [JSON.stringify(plan), ['--interval', '5m'], /leave out externalDns.interval/],
      [
        JSON.stringify({ ...plan.settings, batchChangeSize: 1 }),
        [],
        /batchChangeSize must be an integer from 4/,
      ],
    ] as const) {
      await writeFile(file, content);
      const r = await run(['cluster', 'attach', 'acme', 'prod-1', '--fleet-budget', file, ...extra], env);
      expect(r.code, content).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    expect(connections).toBe(0);
  });

  it('an already aborted signal exits 130 without doing anything', async () => {
    const r = await run(['org', 'ensure', 'acme'], env, { signal: AbortSignal.abort() });
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/interrupted/);
    expect(connections).toBe(0);
  });
});
