/**
 * The enforcer against moto, driven by the real AWS SDK: an IAM user carrying zonekeeper's zone policy
 * (`buildZonePolicy`) may do exactly what the policy says on the wire, and gets Route 53's own
 * `AccessDenied` otherwise.
 */

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  DeleteAccessKeyCommand,
  IAMClient,
  PutUserPolicyCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import {
  ChangeResourceRecordSetsCommand,
  type ChangeResourceRecordSetsCommandInput,
  CreateHostedZoneCommand,
  ListHostedZonesCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { buildZonePolicy, clusterRecordNames, minifyPolicy } from '@zonekeeper/iam-scoper';
import { type MotoServer, startMoto } from '@zonekeeper/testkit/moto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type IamEnforcer, startIamEnforcer } from './enforcer.js';

const ADMIN = { accessKeyId: 'test', secretAccessKey: 'test' };
let moto: MotoServer;
let enforcer: IamEnforcer;
let zoneA: string;
let zoneB: string;
let orgKey: { accessKeyId: string; secretAccessKey: string };
let clusterKey: { accessKeyId: string; secretAccessKey: string };

const admin = () => ({ endpoint: moto.endpoint, region: 'us-east-1', credentials: ADMIN });
const route53As = (credentials: { accessKeyId: string; secretAccessKey: string }) =>
  new Route53Client({ endpoint: enforcer.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });

async function userWithPolicy(name: string, policy: string) {
  const iam = new IAMClient(admin());
  await iam.send(new CreateUserCommand({ UserName: name, Path: '/zonekeeper/' }));
  await iam.send(new PutUserPolicyCommand({ UserName: name, PolicyName: 'zone', PolicyDocument: policy }));
  const key = await iam.send(new CreateAccessKeyCommand({ UserName: name }));
  return {
    accessKeyId: key.AccessKey?.AccessKeyId as string,
    secretAccessKey: key.AccessKey?.SecretAccessKey as string,
  };
}

function upsert(
  zone: string,
  name: string,
  type: 'A' | 'TXT' | 'NS',
  value: string,
): ChangeResourceRecordSetsCommandInput {
  return {
    HostedZoneId: zone,
    ChangeBatch: {
      Changes: [
        {
          Action: 'UPSERT',
          ResourceRecordSet: { Name: name, Type: type, TTL: 60, ResourceRecords: [{ Value: value }] },
        },
      ],
    },
  };
}

async function failure(
  promise: Promise<unknown>,
): Promise<{ name: string; status: number; message: string }> {
  try {
    await promise;
  } catch (error) {
    const e = error as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, status: e.$metadata?.httpStatusCode ?? 0, message: e.message };
  }
  throw new Error('expected the call to fail');
}

beforeAll(async () => {
  moto = await startMoto();
  enforcer = await startIamEnforcer({
    target: moto.endpoint,
    iamEndpoint: moto.endpoint,
    adminCredentials: ADMIN,
  });
  const r53 = new Route53Client(admin());
  const create = async (name: string) =>
    (
      await r53.send(new CreateHostedZoneCommand({ Name: name, CallerReference: name }))
    ).HostedZone?.Id?.replace('/hostedzone/', '') as string;
  zoneA = await create('acme.example.com');
  zoneB = await create('globex.example.com');
  orgKey = await userWithPolicy(
    'org-acme',
    minifyPolicy(buildZonePolicy({ zoneId: zoneA, zoneName: 'acme.example.com' })),
  );
  clusterKey = await userWithPolicy(
    'cluster-c1',
    minifyPolicy(
      buildZonePolicy({
        zoneId: zoneA,
        zoneName: 'acme.example.com',
        recordNames: clusterRecordNames('acme.example.com', 'c1'),
      }),
    ),
  );
});

afterAll(async () => {
  await enforcer?.stop();
  await moto?.stop();
});

describe('an organisation identity', () => {
  it('lists zones, reads its zone and changes records in it (apex, wildcard, TXT)', async () => {
    const r53 = route53As(orgKey);
    expect((await r53.send(new ListHostedZonesCommand({}))).HostedZones?.length).toBe(2);
    await r53.send(
      new ChangeResourceRecordSetsCommand(upsert(zoneA, 'web.acme.example.com', 'A', '192.0.2.1')),
    );
    await r53.send(new ChangeResourceRecordSetsCommand(upsert(zoneA, 'acme.example.com', 'A', '192.0.2.2')));
    await r53.send(
      new ChangeResourceRecordSetsCommand(upsert(zoneA, '*.apps.acme.example.com', 'A', '192.0.2.3')),
    );
    await r53.send(
      new ChangeResourceRecordSetsCommand(upsert(zoneA, '_extdns-a.acme.example.com', 'TXT', '"x"')),
    );
    const sets = await r53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneA }));
    expect(sets.ResourceRecordSets?.map((s) => `${s.Name} ${s.Type}`)).toEqual(
      expect.arrayContaining([
        'web.acme.example.com. A',
        'acme.example.com. A',
        '_extdns-a.acme.example.com. TXT',
      ]),
    );
    expect(enforcer.denials()).toEqual([]);
  });

  it("gets Route 53's AccessDenied for another zone, for NS records and for reading another zone", async () => {
    enforcer.clearLog();
    const r53 = route53As(orgKey);
    const other = await failure(
      r53.send(
        new ChangeResourceRecordSetsCommand(upsert(zoneB, 'web.globex.example.com', 'A', '192.0.2.9')),
      ),
    );
    expect(other).toMatchObject({ name: 'AccessDenied', status: 403 });
    expect(other.message).toBe(
      `User: arn:aws:iam::123456789012:user/zonekeeper/org-acme is not authorized to perform: route53:ChangeResourceRecordSets on resource: arn:aws:route53:::hostedzone/${zoneB} because no identity-based policy allows the route53:ChangeResourceRecordSets action`,
    );
    const ns = await failure(
      r53.send(
        new ChangeResourceRecordSetsCommand(upsert(zoneA, 'sub.acme.example.com', 'NS', 'ns.evil.test')),
      ),
    );
    expect(ns).toMatchObject({ name: 'AccessDenied', status: 403 });
    const read = await failure(r53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneB })));
    expect(read).toMatchObject({ name: 'AccessDenied', status: 403 });
    expect(enforcer.denials().map((d) => `${d.operation} ${d.result}`)).toEqual([
      'ChangeResourceRecordSets ImplicitlyDenied',
      'ChangeResourceRecordSets ImplicitlyDenied',
      'ListResourceRecordSets ImplicitlyDenied',
    ]);
    expect(enforcer.denials()[1]?.changes).toEqual([
      { action: 'UPSERT', name: 'sub.acme.example.com', type: 'NS' },
    ]);
    // Nothing denied reached moto.
    const sets = await new Route53Client(admin()).send(
      new ListResourceRecordSetsCommand({ HostedZoneId: zoneB }),
    );
    expect(sets.ResourceRecordSets?.map((s) => s.Type)).toEqual(['NS', 'SOA']);
  });
});

describe('a cluster identity (clusterRecordNames)', () => {
  it('writes c1.<zone> and below, and nothing else in the zone', async () => {
    enforcer.clearLog();
    const r53 = route53As(clusterKey);
    await r53.send(
      new ChangeResourceRecordSetsCommand(upsert(zoneA, 'c1.acme.example.com', 'A', '192.0.2.4')),
    );
    await r53.send(
      new ChangeResourceRecordSetsCommand(upsert(zoneA, '_extdns-a.c1.acme.example.com', 'TXT', '"x"')),
    );
    await r53.send(
      new ChangeResourceRecordSetsCommand(upsert(zoneA, '*.c1.acme.example.com', 'A', '192.0.2.5')),
    );
    expect(enforcer.denials()).toEqual([]);
    // The ownership TXT without a record-type prefix lies outside the scope.
    const outside = await failure(
      r53.send(new ChangeResourceRecordSetsCommand(upsert(zoneA, 'a-c1.acme.example.com', 'TXT', '"x"'))),
    );
    expect(outside).toMatchObject({ name: 'AccessDenied', status: 403 });
    const sibling = await failure(
      r53.send(new ChangeResourceRecordSetsCommand(upsert(zoneA, 'web.acme.example.com', 'A', '192.0.2.6'))),
    );
    expect(sibling).toMatchObject({ name: 'AccessDenied', status: 403 });
    expect(enforcer.count({ decision: 'denied' })).toBe(2);
  });
});

describe('keys', () => {
  it('answers InvalidClientTokenId for unknown, deleted and inactive keys', async () => {
    const unknown = await failure(
      route53As({ accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'x' }).send(
        new ListHostedZonesCommand({}),
      ),
    );
    expect(unknown).toMatchObject({ name: 'InvalidClientTokenId', status: 403 });
    const iam = new IAMClient(admin());
    const second = await iam.send(new CreateAccessKeyCommand({ UserName: 'org-acme' }));
    const key = {
      accessKeyId: second.AccessKey?.AccessKeyId as string,
      secretAccessKey: second.AccessKey?.SecretAccessKey as string,
    };
    await route53As(key).send(new ListHostedZonesCommand({}));
    await iam.send(
      new UpdateAccessKeyCommand({ UserName: 'org-acme', AccessKeyId: key.accessKeyId, Status: 'Inactive' }),
    );
    expect(await failure(route53As(key).send(new ListHostedZonesCommand({})))).toMatchObject({
      name: 'InvalidClientTokenId',
    });
    await iam.send(new DeleteAccessKeyCommand({ UserName: 'org-acme', AccessKeyId: key.accessKeyId }));
    expect(await failure(route53As(key).send(new ListHostedZonesCommand({})))).toMatchObject({
      name: 'InvalidClientTokenId',
    });
    expect(enforcer.count({ decision: 'unauthenticated' })).toBe(3);
  });

  it('forwards the administrator unchecked and logs it as such', async () => {
    enforcer.clearLog();
    await route53As(ADMIN).send(new ListHostedZonesCommand({}));
    expect(enforcer.log.map((e) => `${e.principal} ${e.operation} ${e.status}`)).toEqual([
      'admin ListHostedZones 200',
    ]);
  });
});

describe('the log', () => {
  it('holds a write before its answer reaches the client, so a change visible in moto is always logged', async () => {
    // A target that lets moto apply the request, then holds moto's answer until released.
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let applied: () => void = () => {};
    const appliedInMoto = new Promise<void>((resolve) => {
      applied = resolve;
    });
    const holding = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        const answer = await fetch(`${moto.endpoint}${req.url}`, {
          method: req.method ?? 'GET',
          headers: Object.fromEntries(
            Object.entries(req.headers).filter(([k]) => k !== 'host' && k !== 'connection'),
          ) as Record<string, string>,
          ...(chunks.length ? { body: Buffer.concat(chunks) } : {}),
        });
        const payload = Buffer.from(await answer.arrayBuffer());
        applied();
        await released;
        res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'text/xml' });
        res.end(payload);
      });
    });
    await new Promise<void>((resolve) => holding.listen(0, '127.0.0.1', resolve));
    const { port } = holding.address() as AddressInfo;
    const held = await startIamEnforcer({
      target: `http://127.0.0.1:${port}`,
      iamEndpoint: moto.endpoint,
      adminCredentials: ADMIN,
    });
    try {
      const client = new Route53Client({
        endpoint: held.endpoint,
        region: 'us-east-1',
        credentials: orgKey,
        maxAttempts: 1,
      });
      const write = client.send(
        new ChangeResourceRecordSetsCommand(upsert(zoneA, 'held.acme.example.com', 'A', '192.0.2.9')),
      );
      await appliedInMoto;
      const inMoto = await new Route53Client(admin()).send(
        new ListResourceRecordSetsCommand({ HostedZoneId: zoneA }),
      );
      expect(inMoto.ResourceRecordSets?.some((r) => r.Name === 'held.acme.example.com.')).toBe(true);
      expect(held.log.map((e) => `${e.operation} ${e.decision} ${e.status}`)).toEqual([
        'ChangeResourceRecordSets allowed undefined',
      ]);
      release();
      await write;
      expect(held.log.map((e) => `${e.operation} ${e.decision} ${e.status}`)).toEqual([
        'ChangeResourceRecordSets allowed 200',
      ]);
    } finally {
      release();
      await held.stop();
      await new Promise((resolve) => holding.close(resolve));
    }
  });
});
