/**
 * Several AWS accounts on moto: moto keeps one backend per account and answers a request in the
 * account of the credentials that signed it — STS `AssumeRole` into `arn:aws:iam::<account>:role/…`
 * returns credentials whose calls land in `<account>`. Two organisations placed through assumed roles
 * (Route 53 and IAM with each account's credentials, each account with its own limiter), Vault on the
 * testkit fake for the placement records; each zone and identity exists in its account only, and both
 * delegations are in the parent zone of the first account.
 */

import { IAMClient, ListUsersCommand } from '@aws-sdk/client-iam';
import {
  GetHostedZoneCommand,
  ListHostedZonesByNameCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { createIamIdentityProvider } from '@zonekeeper/iam-scoper/iam';
import { type MotoServer, startMoto } from '@zonekeeper/testkit/moto';
import { startVaultFake, type VaultFake } from '@zonekeeper/testkit/vault';
import { createVaultSecretStore } from '@zonekeeper/vault-keys/vault';
import { createRoute53Provider, createRoute53RateLimiter } from '@zonekeeper/zone-manager/route53';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFleet, type Fleet } from './accounts.js';

const BASE = 'example.com';
const ROOT = { accessKeyId: 'test', secretAccessKey: 'test' };
const ACCOUNTS = ['111111111111', '222222222222'] as const;
const region = 'us-east-1';

let moto: MotoServer;
let vault: VaultFake;
let fleet: Fleet;
const credentialsOf = new Map<
  string,
  { accessKeyId: string; secretAccessKey: string; sessionToken: string }
>();

async function assume(account: string) {
  const sts = new STSClient({ region, endpoint: moto.endpoint, credentials: ROOT });
  const out = await sts.send(
    new AssumeRoleCommand({
      RoleArn: `arn:aws:iam::${account}:role/zonekeeper`,
      RoleSessionName: 'zonekeeper',
    }),
  );
  sts.destroy();
  const c = out.Credentials;
  if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken)
    throw new Error('AssumeRole returned no credentials');
  return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken };
}

function creds(account: string) {
  const c = credentialsOf.get(account);
  if (!c) throw new Error(`no credentials for ${account}`);
  return c;
}

function route53Of(account: string | 'default'): Route53Client {
  const credentials = account === 'default' ? ROOT : creds(account);
  return new Route53Client({ region, endpoint: moto.endpoint, credentials, maxAttempts: 1 });
}

/** The parent zone's NS values for a name, and the name servers of that zone in its account. */
async function delegationOf(
  name: string,
  zoneAccount: string,
): Promise<{ parent: string[]; zone: string[] }> {
  const parentClient = route53Of(ACCOUNTS[0]);
  const zoneClient = route53Of(zoneAccount);
  try {
    const [parentZone] =
      (await parentClient.send(new ListHostedZonesByNameCommand({ DNSName: BASE }))).HostedZones ?? [];
    const records = await parentClient.send(
      new ListResourceRecordSetsCommand({
        HostedZoneId: parentZone?.Id,
        StartRecordName: name,
        StartRecordType: 'NS',
      }),
    );
    const ns = (records.ResourceRecordSets ?? []).find((r) => r.Name === `${name}.` && r.Type === 'NS');
    const [zone] =
      (await zoneClient.send(new ListHostedZonesByNameCommand({ DNSName: name }))).HostedZones ?? [];
    const details = await zoneClient.send(new GetHostedZoneCommand({ Id: zone?.Id }));
    const strip = (v: string) => v.replace(/\.$/, '');
    return {
      parent: (ns?.ResourceRecords ?? []).map((r) => strip(r.Value ?? '')).sort(),
      zone: (details.DelegationSet?.NameServers ?? []).map(strip).sort(),
    };
  } finally {
    parentClient.destroy();
    zoneClient.destroy();
  }
}

async function zonesNamed(account: string | 'default', name: string): Promise<string[]> {
  const r53 = route53Of(account);
  const out = await r53.send(new ListHostedZonesByNameCommand({ DNSName: name }));
  r53.destroy();
  return (out.HostedZones ?? []).map((z) => z.Name ?? '').filter((n) => n === `${name}.`);
}

async function usersOf(account: string): Promise<string[]> {
  const iam = new IAMClient({ region, endpoint: moto.endpoint, credentials: creds(account) });
  const out = await iam.send(new ListUsersCommand({}));
  iam.destroy();
  return (out.Users ?? []).map((u) => u.UserName ?? '');
}

beforeAll(async () => {
  moto = await startMoto();
  vault = await startVaultFake();
  for (const account of ACCOUNTS) credentialsOf.set(account, await assume(account));
  const accounts = ACCOUNTS.map((id) => {
    const credentials = creds(id);
    return {
      id,
      roleArn: `arn:aws:iam::${id}:role/zonekeeper`,
      dns: createRoute53Provider({
        endpoint: moto.endpoint,
        credentials,
        rateLimiter: createRoute53RateLimiter({ requestsPerSecond: 1_000 }),
      }),
      identity: createIamIdentityProvider({ endpoint: moto.endpoint, credentials }),
    };
  });
  await accounts[0]?.dns.createZone({ name: BASE, callerReference: 'fleet-parent', comment: 'parent' });
  fleet = createFleet({
    baseDomain: BASE,
    secrets: createVaultSecretStore({ endpoint: vault.endpoint, token: vault.rootToken }),
    parent: { account: ACCOUNTS[0] },
    accounts,
  });
});

afterAll(async () => {
  await vault?.stop();
  await moto?.stop();
});

describe('createFleet on moto with two accounts through assumed roles', () => {
  it('the assumed roles’ credentials act in their accounts', async () => {
    for (const account of ACCOUNTS) {
      const sts = new STSClient({ region, endpoint: moto.endpoint, credentials: creds(account) });
      expect((await sts.send(new GetCallerIdentityCommand({}))).Account).toBe(account);
      sts.destroy();
    }
  });

  it('places two organisations in two accounts; each zone and identity exists only in its account', async () => {
    // Headroom: 111… holds the parent zone (499), 222… is empty (500).
    expect((await fleet.ensureOrganization('acme')).account).toBe(ACCOUNTS[1]);
    // Now 499 each: the tie goes to the smaller id.
    expect((await fleet.ensureOrganization('globex')).account).toBe(ACCOUNTS[0]);

    expect(await zonesNamed(ACCOUNTS[1], 'acme.example.com')).toEqual(['acme.example.com.']);
    expect(await zonesNamed(ACCOUNTS[0], 'acme.example.com')).toEqual([]);
    expect(await zonesNamed(ACCOUNTS[0], 'globex.example.com')).toEqual(['globex.example.com.']);
    expect(await zonesNamed(ACCOUNTS[1], 'globex.example.com')).toEqual([]);
    expect(await zonesNamed('default', 'acme.example.com')).toEqual([]);
    expect(await zonesNamed(ACCOUNTS[1], BASE)).toEqual([]);

    expect((await usersOf(ACCOUNTS[1])).some((u) => u.includes('acme'))).toBe(true);
    expect((await usersOf(ACCOUNTS[0])).some((u) => u.includes('acme'))).toBe(false);
    expect((await usersOf(ACCOUNTS[0])).some((u) => u.includes('globex'))).toBe(true);

    // Both delegations are in the parent zone of 111…, and acme's names the name servers of its zone in 222….
    for (const [org, account] of [
      ['acme', ACCOUNTS[1]],
      ['globex', ACCOUNTS[0]],
    ] as const) {
      const d = await delegationOf(`${org}.${BASE}`, account);
      expect(d.parent).toHaveLength(4);
      expect(d.parent).toEqual(d.zone);
    }
    const acme = await fleet.describeOrganization('acme');
    expect(acme.account).toBe(ACCOUNTS[1]);
    const audit = await fleet.auditFleet();
    expect(audit.accounts.map((a) => a.account)).toEqual([...ACCOUNTS]);
    for (const a of audit.accounts) {
      expect('result' in a).toBe(true);
      if ('result' in a)
        expect(
          a.result.findings.filter((f) => f.severity === 'error').map((f) => `${f.reason} ${f.subject}`),
        ).toEqual([]);
    }
  });

  it('re-running keeps both where they are (no second zone in the other account)', async () => {
    expect((await fleet.ensureOrganization('acme')).account).toBe(ACCOUNTS[1]);
    expect((await fleet.ensureOrganization('globex')).account).toBe(ACCOUNTS[0]);
    expect(await zonesNamed(ACCOUNTS[0], 'acme.example.com')).toEqual([]);
    expect(await zonesNamed(ACCOUNTS[1], 'globex.example.com')).toEqual([]);
  });
});
