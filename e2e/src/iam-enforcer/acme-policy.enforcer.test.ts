/**
 * The ACME identity's TXT-only policy (`buildAcmeChallengePolicy`) enforced on the wire: an IAM user in
 * moto carrying it makes, with the real AWS SDK, exactly the calls cert-manager v1.21's Route 53 DNS-01
 * solver makes when its `Issuer` names the hosted zone (`pkg/issuer/acme/dns/route53`: an UPSERT of one
 * TXT set with TTL 10, `MultiValueAnswer` and the quoted value as `SetIdentifier`, `GetChange` until
 * INSYNC, then the DELETE of the same set) — all allowed — and gets Route 53's `AccessDenied` for
 * everything else an attacker holding the key would try, with nothing written.
 */

import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  IAMClient,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import {
  type Change,
  ChangeResourceRecordSetsCommand,
  CreateHostedZoneCommand,
  GetChangeCommand,
  ListHostedZonesByNameCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { buildAcmeChallengePolicy, minifyPolicy } from '@zonekeeper/iam-scoper';
import { type MotoServer, startMoto } from '@zonekeeper/testkit/moto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type IamEnforcer, startIamEnforcer } from './enforcer.js';

const ADMIN = { accessKeyId: 'test', secretAccessKey: 'test' };
const ZONE = 'acme.example.com';
let moto: MotoServer;
let enforcer: IamEnforcer;
let zoneA: string;
let zoneB: string;
let acmeKey: { accessKeyId: string; secretAccessKey: string };

const admin = () => new Route53Client({ endpoint: moto.endpoint, region: 'us-east-1', credentials: ADMIN });
const asAcme = () =>
  new Route53Client({
    endpoint: enforcer.endpoint,
    region: 'us-east-1',
    credentials: acmeKey,
    maxAttempts: 1,
  });

/** One change as cert-manager's solver builds it (`newTXTRecordSet`). */
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

function change(zone: string, changes: Change[]) {
  return new ChangeResourceRecordSetsCommand({
    HostedZoneId: zone,
    ChangeBatch: { Comment: 'Managed by cert-manager', Changes: changes },
  });
}

const simple = (name: string, type: 'A' | 'TXT' | 'CNAME' | 'NS', value: string): Change => ({
  Action: 'UPSERT',
  ResourceRecordSet: { Name: name, Type: type, TTL: 60, ResourceRecords: [{ Value: value }] },
});

async function denied(promise: Promise<unknown>): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: { name?: string; $metadata?: { httpStatusCode?: number } }) => e,
  );
  expect(error?.name).toBe('AccessDenied');
  expect(error?.$metadata?.httpStatusCode).toBe(403);
}

async function recordNames(zone: string): Promise<string[]> {
  const sets = await admin().send(new ListResourceRecordSetsCommand({ HostedZoneId: zone }));
  return (sets.ResourceRecordSets ?? []).map((s) => `${s.Name} ${s.Type}`);
}

beforeAll(async () => {
  moto = await startMoto();
  enforcer = await startIamEnforcer({
    target: moto.endpoint,
    iamEndpoint: moto.endpoint,
    adminCredentials: ADMIN,
  });
  const create = async (name: string) =>
    (
      await admin().send(new CreateHostedZoneCommand({ Name: name, CallerReference: name }))
    ).HostedZone?.Id?.replace('/hostedzone/', '') as string;
  zoneA = await create(ZONE);
  zoneB = await create('globex.example.com');
  const iam = new IAMClient({ endpoint: moto.endpoint, region: 'us-east-1', credentials: ADMIN });
  await iam.send(new CreateUserCommand({ UserName: 'acme-acme', Path: '/zonekeeper/' }));
  await iam.send(
    new PutUserPolicyCommand({
      UserName: 'acme-acme',
      PolicyName: 'acme-challenge',
      PolicyDocument: minifyPolicy(buildAcmeChallengePolicy({ zoneId: zoneA, zoneName: ZONE })),
    }),
  );
  const key = await iam.send(new CreateAccessKeyCommand({ UserName: 'acme-acme' }));
  acmeKey = {
    accessKeyId: key.AccessKey?.AccessKeyId as string,
    secretAccessKey: key.AccessKey?.SecretAccessKey as string,
  };
}, 120_000);

afterAll(async () => {
  await enforcer?.stop();
  await moto?.stop();
});

describe('the ACME identity on the wire', () => {
  it('does what cert-manager’s solver does: UPSERT the challenge TXT, GetChange, DELETE it', async () => {
    const r53 = asAcme();
    for (const fqdn of [
      `_acme-challenge.${ZONE}.`,
      `_acme-challenge.www.${ZONE}.`,
      `_acme-challenge.a.b.${ZONE}.`,
    ]) {
      const upserted = await r53.send(change(zoneA, [solverChange('UPSERT', fqdn, 'token-1')]));
      const id = upserted.ChangeInfo?.Id as string;
      const status = await r53.send(new GetChangeCommand({ Id: id }));
      expect(status.ChangeInfo?.Status).toBe('INSYNC');
      expect(await recordNames(zoneA)).toContain(`${fqdn} TXT`);
      await r53.send(change(zoneA, [solverChange('DELETE', fqdn, 'token-1')]));
      expect(await recordNames(zoneA)).not.toContain(`${fqdn} TXT`);
    }
    expect(enforcer.denials()).toEqual([]);
  });

  it('is denied everything else, and nothing is written', async () => {
    const r53 = asAcme();
    const before = { a: await recordNames(zoneA), b: await recordNames(zoneB) };
    enforcer.clearLog();
    await denied(r53.send(change(zoneA, [simple(`www.${ZONE}`, 'A', '192.0.2.1')])));
    await denied(r53.send(change(zoneA, [simple(`_acme-challenge.${ZONE}`, 'A', '192.0.2.1')])));
    await denied(
      r53.send(change(zoneA, [simple(`_acme-challenge.www.${ZONE}`, 'CNAME', 'elsewhere.example.net')])),
    );
    await denied(r53.send(change(zoneA, [simple(`_acme-challenge.${ZONE}`, 'NS', 'ns.example.net')])));
    await denied(r53.send(change(zoneA, [simple(ZONE, 'TXT', '"v=spf1 -all"')])));
    await denied(
      r53.send(change(zoneA, [simple(`_extdns-a.www.${ZONE}`, 'TXT', '"heritage=external-dns"')])),
    );
    await denied(r53.send(change(zoneA, [simple(`www._acme-challenge.${ZONE}`, 'TXT', '"x"')])));
    // One allowed change does not carry a forbidden one through.
    await denied(
      r53.send(
        change(zoneA, [
          solverChange('UPSERT', `_acme-challenge.${ZONE}.`, 't'),
          simple(`www.${ZONE}`, 'A', '192.0.2.1'),
        ]),
      ),
    );
    // Another organisation: its zone, with its own challenge names or ours.
    await denied(
      r53.send(change(zoneB, [solverChange('UPSERT', '_acme-challenge.globex.example.com.', 't')])),
    );
    await denied(r53.send(change(zoneB, [solverChange('UPSERT', `_acme-challenge.${ZONE}.`, 't')])));
    await denied(
      r53.send(change(zoneA, [solverChange('UPSERT', '_acme-challenge.globex.example.com.', 't')])),
    );
    // Reads it never needs.
    await denied(r53.send(new ListHostedZonesByNameCommand({ DNSName: ZONE })));
    await denied(r53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneA })));
    expect(enforcer.count({ decision: 'denied' })).toBe(13);
    expect(enforcer.count({ decision: 'allowed' })).toBe(0);
    expect({ a: await recordNames(zoneA), b: await recordNames(zoneB) }).toEqual(before);
  });
});
