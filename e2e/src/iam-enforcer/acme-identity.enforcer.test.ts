/**
 * The ACME identity zonekeeper creates for a cluster in cert-manager mode, on the wire: the facade
 * (production Route 53, IAM and Vault adapters against moto and the Vault fake) attaches a cluster with
 * `certManager`, and the key it put into the cluster's Route 53 credentials Secret — read back from the
 * cluster like cert-manager would — is used through the IAM enforcer. It can write
 * `_acme-challenge.www.<zone>` TXT the way cert-manager's solver does, and is refused an A record,
 * another name, and another organisation's zone, with nothing written. After deleteOrganization the key
 * is unknown to IAM.
 *
 * The cluster is a memory cluster (the Kubernetes API fake has no CRDs for cert-manager's Issuer); the
 * objects themselves are applied to a real kube-apiserver with cert-manager's CRDs in
 * packages/zonekeeper/src/cert-manager-mode.apiserver.test.ts.
 */

import {
  type Change,
  ChangeResourceRecordSetsCommand,
  CreateHostedZoneCommand,
  GetChangeCommand,
  ListHostedZonesCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { createMemoryCluster, type MemoryCluster } from '@zonekeeper/externaldns-deployer';
import { createIamIdentityProvider } from '@zonekeeper/iam-scoper/iam';
import { type MotoServer, startMoto } from '@zonekeeper/testkit/moto';
import { startVaultFake, type VaultFake } from '@zonekeeper/testkit/vault';
import { createVaultSecretStore } from '@zonekeeper/vault-keys/vault';
import { createRoute53Provider } from '@zonekeeper/zone-manager/route53';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryInventory, createZonekeeper, type Zonekeeper } from 'zonekeeper';
import { type IamEnforcer, startIamEnforcer } from './enforcer.js';

const ADMIN = { accessKeyId: 'test', secretAccessKey: 'test' };
const ZONE = 'acme.example.com';
const OTHER = 'globex.example.com';
let moto: MotoServer;
let vault: VaultFake;
let enforcer: IamEnforcer;
let zk: Zonekeeper;
let cluster: MemoryCluster;
let zoneA: string;
let zoneB: string;
let key: { accessKeyId: string; secretAccessKey: string };

const admin = () => new Route53Client({ endpoint: moto.endpoint, region: 'us-east-1', credentials: ADMIN });
const asAcme = () =>
  new Route53Client({ endpoint: enforcer.endpoint, region: 'us-east-1', credentials: key, maxAttempts: 1 });

/** One change as cert-manager's solver builds it. */
function solverChange(action: 'UPSERT' | 'DELETE', fqdn: string, token: string): Change {
  const value = `"${token}"`;
  return {
    Action: action,
    ResourceRecordSet: {
      Name: fqdn,
      Type: 'TXT',
      TTL: 10,
      MultiValueAnswer: true,
      SetIdentifier: value,
      ResourceRecords: [{ Value: value }],
    },
  };
}

const change = (zone: string, changes: Change[]) =>
  new ChangeResourceRecordSetsCommand({ HostedZoneId: zone, ChangeBatch: { Changes: changes } });

async function denied(promise: Promise<unknown>, name = 'AccessDenied'): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: { name?: string; $metadata?: { httpStatusCode?: number } }) => e,
  );
  expect(error?.name).toBe(name);
  expect(error?.$metadata?.httpStatusCode).toBe(403);
}

async function recordNames(zone: string): Promise<string[]> {
  const sets = await admin().send(new ListResourceRecordSetsCommand({ HostedZoneId: zone }));
  return (sets.ResourceRecordSets ?? []).map((s) => `${s.Name} ${s.Type}`).sort();
}

async function zoneIdOf(name: string): Promise<string> {
  const zones = await admin().send(new ListHostedZonesCommand({}));
  const id = zones.HostedZones?.find((z) => z.Name === `${name}.`)?.Id;
  if (!id) throw new Error(`no zone ${name} in moto`);
  return id.replace('/hostedzone/', '');
}

beforeAll(async () => {
  moto = await startMoto();
  vault = await startVaultFake();
  enforcer = await startIamEnforcer({
    target: moto.endpoint,
    iamEndpoint: moto.endpoint,
    adminCredentials: ADMIN,
  });
  await admin().send(new CreateHostedZoneCommand({ Name: 'example.com', CallerReference: 'parent' }));
  cluster = createMemoryCluster({ name: 'c1', namespaces: ['default', 'web'] });
  const aws = { endpoint: moto.endpoint, region: 'us-east-1', credentials: ADMIN };
  zk = createZonekeeper({
    baseDomain: 'example.com',
    dns: createRoute53Provider(aws),
    identity: createIamIdentityProvider(aws),
    secrets: createVaultSecretStore({ endpoint: vault.endpoint, token: vault.rootToken }),
    inventory: createMemoryInventory(),
    clusters: async (id) => {
      if (id !== 'c1') throw new Error(`no cluster ${id}`);
      return cluster;
    },
  });
  await zk.ensureOrganization('globex');
  await zk.attachCluster('acme', {
    clusterId: 'c1',
    certManager: { namespaces: ['web'], acme: { server: 'https://acme.invalid/directory' } },
  });
  zoneA = await zoneIdOf(ZONE);
  zoneB = await zoneIdOf(OTHER);
  const secret = cluster
    .objects('Secret')
    .find((o) => o.metadata.namespace === 'web' && o.metadata.name === 'zonekeeper-acme-route53');
  const data = (secret?.data ?? {}) as Record<string, string>;
  const decode = (v: string | undefined) => Buffer.from(v ?? '', 'base64').toString('utf8');
  key = { accessKeyId: decode(data['access-key-id']), secretAccessKey: decode(data['secret-access-key']) };
  expect(key.accessKeyId).toMatch(/^[A-Z0-9]{16,}$/);
}, 180_000);

afterAll(async () => {
  await enforcer?.stop();
  await vault?.stop();
  await moto?.stop();
});

describe('the ACME identity zonekeeper creates, on the wire', () => {
  it('writes _acme-challenge.www.<zone> TXT as cert-manager’s solver does, and deletes it', async () => {
    const r53 = asAcme();
    const fqdn = `_acme-challenge.www.${ZONE}.`;
    const upserted = await r53.send(change(zoneA, [solverChange('UPSERT', fqdn, 'token-1')]));
    const status = await r53.send(new GetChangeCommand({ Id: upserted.ChangeInfo?.Id as string }));
    expect(status.ChangeInfo?.Status).toBe('INSYNC');
    expect(await recordNames(zoneA)).toContain(`${fqdn} TXT`);
    await r53.send(change(zoneA, [solverChange('DELETE', fqdn, 'token-1')]));
    expect(await recordNames(zoneA)).not.toContain(`${fqdn} TXT`);
    expect(enforcer.denials()).toEqual([]);
  });

  it('is refused an A record, other names and another organisation’s zone; nothing is written', async () => {
    const r53 = asAcme();
    const before = { a: await recordNames(zoneA), b: await recordNames(zoneB) };
    enforcer.clearLog();
    const a = (name: string): Change => ({
      Action: 'UPSERT',
      ResourceRecordSet: { Name: name, Type: 'A', TTL: 60, ResourceRecords: [{ Value: '192.0.2.1' }] },
    });
    await denied(r53.send(change(zoneA, [a(`www.${ZONE}`)])));
    await denied(r53.send(change(zoneA, [a(`_acme-challenge.www.${ZONE}`)])));
    await denied(r53.send(change(zoneA, [solverChange('UPSERT', `www.${ZONE}.`, 't')])));
    await denied(r53.send(change(zoneA, [solverChange('UPSERT', `_extdns-a.www.${ZONE}.`, 't')])));
    await denied(r53.send(change(zoneB, [solverChange('UPSERT', `_acme-challenge.www.${OTHER}.`, 't')])));
    await denied(r53.send(change(zoneA, [solverChange('UPSERT', `_acme-challenge.www.${OTHER}.`, 't')])));
    expect(enforcer.count({ decision: 'denied' })).toBe(6);
    expect(enforcer.count({ decision: 'allowed' })).toBe(0);
    expect({ a: await recordNames(zoneA), b: await recordNames(zoneB) }).toEqual(before);
  });

  it('is unknown to IAM once the organisation is deleted', async () => {
    await zk.detachCluster('acme', 'c1');
    const gone = await zk.deleteOrganization('acme');
    expect(gone.deletedIdentities.some((u) => u.endsWith('.acme+acme'))).toBe(true);
    await denied(
      asAcme().send(change(zoneB, [solverChange('UPSERT', `_acme-challenge.www.${OTHER}.`, 't')])),
      'InvalidClientTokenId',
    );
  });
});
