/**
 * The command on the PowerDNS backend (`--pdns-api-url`, the key from `ZONEKEEPER_PDNS_API_KEY`), on a
 * real `pdns_server` (the secret store and the cluster injected): organisations get a TSIG key, clusters
 * an rfc2136 ExternalDNS, deletion removes both. Bad or incomplete settings exit 2 before any request,
 * and the API key appears in no output.
 */

import { createMemoryCluster } from '@zonekeeper/externaldns-deployer';
import { type PowerDnsServer, startPowerDns } from '@zonekeeper/testkit/powerdns';
import { createMemorySecretStore, readTsigKey } from '@zonekeeper/vault-keys';
import { createPowerDnsAdmin, createPowerDnsProvider } from '@zonekeeper/zone-manager/powerdns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { everything, json, run } from './cli.test.support.js';
import type { CliEnv } from './settings.js';

const BASE = 'cli-pdns.test';
let pdns: PowerDnsServer;
let env: CliEnv;

beforeAll(async () => {
  pdns = await startPowerDns();
  const dns = createPowerDnsProvider({
    apiUrl: pdns.apiUrl,
    apiKey: pdns.apiKey,
    nameServers: ['ns1.pdns.test'],
  });
  await dns.createZone({ name: BASE, callerReference: `parent-${BASE}` });
  env = {
    ZONEKEEPER_BASE_DOMAIN: BASE,
    ZONEKEEPER_PDNS_API_URL: pdns.apiUrl,
    ZONEKEEPER_PDNS_API_KEY: pdns.apiKey,
    ZONEKEEPER_PDNS_NAME_SERVERS: 'ns1.pdns.test',
    ZONEKEEPER_PDNS_UPDATE_HOST: '127.0.0.1',
    ZONEKEEPER_PDNS_UPDATE_PORT: String(pdns.dnsPort),
  };
});
afterAll(() => pdns?.stop());

describe('zonekeeper --pdns-api-url', { timeout: 60_000 }, () => {
  it('org ensure, cluster attach, detach and org delete on PowerDNS', async () => {
    const secrets = createMemorySecretStore();
    const c1 = createMemoryCluster({ name: 'c1' });
    const deps = { secrets, clusters: { c1 } };
    const ensured = await run(
      ['org', 'ensure', 'acme', '--json', '--pdns-update-source', '127.0.0.1/32'],
      env,
      {
        deps,
      },
    );
    expect(ensured.code, ensured.stderr).toBe(0);
    expect(json(ensured).result.tsigKeyName).toBe(`zonekeeper-update.acme.${BASE}`);
    const stored = await readTsigKey(
      secrets,
      { organization: 'acme' },
      { prefix: `zonekeeper/platforms/${BASE}` },
    );
    expect(stored?.name).toBe(`zonekeeper-update.acme.${BASE}`);

    const attached = await run(['cluster', 'attach', 'acme', 'c1', '--json'], env, { deps });
    expect(attached.code, attached.stderr).toBe(0);
    const deployment = c1.objects('Deployment')[0];
    expect(JSON.stringify(deployment)).toContain('--provider=rfc2136');
    expect(JSON.stringify(deployment)).toContain(`--rfc2136-port=${pdns.dnsPort}`);
    expect(JSON.stringify(deployment)).not.toContain(stored?.secret);
    expect(json(attached).result.tsigKeyName).toBe(`zonekeeper-update.acme.${BASE}`);

    expect((await run(['cluster', 'detach', 'acme', 'c1', '--json'], env, { deps })).code).toBe(0);
    const deleted = await run(['org', 'delete', 'acme', '--json', '--yes'], env, { deps });
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(
      await createPowerDnsAdmin(
        createPowerDnsProvider({ apiUrl: pdns.apiUrl, apiKey: pdns.apiKey, nameServers: ['ns1.pdns.test'] })
          .api,
      ).getTsigKey(`zonekeeper-update.acme.${BASE}`),
    ).toBeUndefined();
    expect(everything()).not.toContain(stored?.secret);
  });

  it('credentials rotate: the TSIG key moves to its other name, in the store and the cluster; no secret printed', async () => {
    const secrets = createMemorySecretStore();
    const c2 = createMemoryCluster({ name: 'c2' });
    const deps = { secrets, clusters: { c2 } };
    expect((await run(['cluster', 'attach', 'hooli', 'c2', '--json'], env, { deps })).code).toBe(0);
    const layout = { prefix: `zonekeeper/platforms/${BASE}` };
    const before = await readTsigKey(secrets, { organization: 'hooli' }, layout);
    const rotated = await run(['credentials', 'rotate', 'hooli', '--json'], env, { deps });
    expect(rotated.code, rotated.stderr).toBe(0);
    const after = await readTsigKey(secrets, { organization: 'hooli' }, layout);
    expect(after?.name).toBe(`zonekeeper-update-b.hooli.${BASE}`);
    expect(json(rotated).result.tsigKey).toMatchObject({
      outcome: 'rotated',
      keyName: after?.name,
      previousKeyName: before?.name,
      clustersUpdated: ['c2'],
    });
    const secret = c2.objects('Secret').find((o) => o.metadata.name === 'external-dns-rfc2136-tsig');
    const keyName = (secret?.data as Record<string, string> | undefined)?.['tsig-keyname'] ?? '';
    expect(Buffer.from(keyName, 'base64').toString()).toBe(after?.name);
    const human = await run(['credentials', 'rotate', 'hooli'], env, { deps });
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toContain(`zonekeeper-update.hooli.${BASE}`);
    expect(human.stdout).toContain('rotated');
    const last = await readTsigKey(secrets, { organization: 'hooli' }, layout);
    for (const s of [before?.secret, after?.secret, last?.secret] as string[])
      expect(everything()).not.toContain(s);
  });

  it('org show names the TSIG key, doctor finds a swapped server key; no secret printed', async () => {
    const secrets = createMemorySecretStore();
    const deps = { secrets, clusters: {} };
    expect((await run(['org', 'ensure', 'globex', '--json'], env, { deps })).code).toBe(0);
    const name = `zonekeeper-update.globex.${BASE}`;
    const shown = await run(['org', 'show', 'globex', '--json'], env, { deps });
    expect(shown.code, shown.stderr).toBe(0);
    expect(json(shown).result.tsigKey).toMatchObject({
      name,
      onServer: true,
      matchesStored: true,
      updateKeysOk: true,
    });
    const human = await run(['org', 'show', 'globex'], env, { deps });
    expect(human.stdout).toContain(`${name} (hmac-sha256): ok`);
    const admin = createPowerDnsAdmin(
      createPowerDnsProvider({ apiUrl: pdns.apiUrl, apiKey: pdns.apiKey, nameServers: ['ns1.pdns.test'] })
        .api,
    );
    await admin.deleteTsigKey(name);
    const planted = await admin.createTsigKey({ name });
    const doctor = await run(['doctor', '--json'], env, { deps });
    expect(JSON.stringify(json(doctor).result.findings)).toContain('tsig-key-differs');
    const stored = await readTsigKey(
      secrets,
      { organization: 'globex' },
      { prefix: `zonekeeper/platforms/${BASE}` },
    );
    for (const s of [planted.secret, stored?.secret as string]) expect(everything()).not.toContain(s);
  });

  it('incomplete or misplaced PowerDNS settings exit 2 before any request', async () => {
    const deps = { secrets: createMemorySecretStore(), clusters: {} };
    const { ZONEKEEPER_PDNS_API_KEY: _k, ...noKey } = env;
    const { ZONEKEEPER_PDNS_NAME_SERVERS: _n, ...noNameServers } = env;
    const { ZONEKEEPER_PDNS_UPDATE_HOST: _h, ...noHost } = env;
    const cases: [readonly string[], CliEnv][] = [
      [['org', 'ensure', 'initech'], noKey],
      [['org', 'ensure', 'initech'], noNameServers],
      [['org', 'ensure', 'initech'], noHost],
      [['org', 'ensure', 'initech', '--pdns-update-port', '70000'], env],
      [['org', 'ensure', 'initech', '--identity-scope', 'cluster'], env],
      [['org', 'ensure', 'initech', '--pdns-api-key', pdns.apiKey], env],
      [['org', 'ensure', 'initech', '--pdns-update-host', '127.0.0.1'], { ZONEKEEPER_BASE_DOMAIN: BASE }],
      [['org', 'ensure', 'initech', '--pdns-api-url', 'ftp://127.0.0.1'], env],
    ];
    for (const [argv, e] of cases) {
      const r = await run(argv, e, { deps });
      expect(r.code, `${argv.join(' ')}: ${r.stderr}`).toBe(2);
    }
    // Nothing reached the server: no zone of acme.
    const dns = createPowerDnsProvider({
      apiUrl: pdns.apiUrl,
      apiKey: pdns.apiKey,
      nameServers: ['ns1.pdns.test'],
    });
    expect(await dns.findZonesByName(`initech.${BASE}`)).toEqual([]);
  });

  it('the API key is in no output', () => {
    expect(everything()).not.toContain(pdns.apiKey);
  });
});
