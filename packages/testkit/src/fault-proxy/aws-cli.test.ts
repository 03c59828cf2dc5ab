import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateUserCommand, IAMClient } from '@aws-sdk/client-iam';
import { CreateHostedZoneCommand, Route53Client } from '@aws-sdk/client-route-53';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type MotoServer, startMoto } from '../moto/index.js';
import { type FaultProxy, startFaultProxy } from './index.js';

/**
 * The AWS CLI (botocore, a second SDK implementation) driven through the proxy to moto. It checks
 * that identification works for another client's wire format and that botocore parses the injected
 * errors and retries them.
 */

let moto: MotoServer;
let proxy: FaultProxy;

beforeAll(async () => {
  moto = await startMoto();
  proxy = await startFaultProxy({ target: moto.endpoint });
});

afterAll(async () => {
  await proxy?.stop();
  await moto?.stop();
});

beforeEach(async () => {
  proxy.setRules([]);
  await moto.reset();
  proxy.clearLog();
});

const nowhere = join(tmpdir(), 'zonekeeper-no-aws-config');

interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `aws --endpoint-url <proxy> …` with test credentials and no host configuration. */
function aws(args: readonly string[], env: Readonly<Record<string, string>> = {}): Promise<CliResult> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('AWS_')));
  return new Promise((resolve, reject) => {
    execFile(
      'aws',
      ['--endpoint-url', proxy.endpoint, '--output', 'json', ...args],
      {
        timeout: 20_000,
        env: {
          ...base,
          AWS_ACCESS_KEY_ID: 'test',
          AWS_SECRET_ACCESS_KEY: 'test',
          AWS_DEFAULT_REGION: 'us-east-1',
          AWS_CONFIG_FILE: nowhere,
          AWS_SHARED_CREDENTIALS_FILE: nowhere,
          AWS_EC2_METADATA_DISABLED: 'true',
          AWS_PAGER: '',
          ...env,
        },
      },
      (error, stdout, stderr) => {
        if (error !== null && typeof error.code !== 'number') {
          reject(new Error(`aws CLI did not run (${String(error.code)}): ${stderr || error.message}`));
          return;
        }
        resolve({ code: error === null ? 0 : (error.code as number), stdout, stderr });
      },
    );
  });
}

function ok(result: CliResult): unknown {
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return result.stdout.trim() === '' ? undefined : JSON.parse(result.stdout);
}

const sdkConfig = () => ({
  region: 'us-east-1',
  endpoint: moto.endpoint,
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
});

describe('the AWS CLI through the proxy', () => {
  it('lists hosted zones and IAM users that exist in moto; one logged request each', async () => {
    const r53 = new Route53Client(sdkConfig());
    const iam = new IAMClient(sdkConfig());
    await r53.send(new CreateHostedZoneCommand({ Name: 'cli.example.com', CallerReference: 'cli-1' }));
    await iam.send(new CreateUserCommand({ UserName: 'cli-user' }));
    r53.destroy();
    iam.destroy();

    const [zones, users] = await Promise.all([
      aws(['route53', 'list-hosted-zones']),
      aws(['iam', 'list-users']),
    ]);
    expect((ok(zones) as { HostedZones: { Name: string }[] }).HostedZones.map((z) => z.Name)).toEqual([
      'cli.example.com.',
    ]);
    expect((ok(users) as { Users: { UserName: string }[] }).Users.map((u) => u.UserName)).toEqual([
      'cli-user',
    ]);
    expect(proxy.count()).toBe(2);
    expect(proxy.count({ service: 'route53', operation: 'ListHostedZones', faulted: false })).toBe(1);
    expect(proxy.count({ service: 'iam', operation: 'ListUsers', faulted: false })).toBe(1);
    expect(proxy.requests.every((r) => r.status === 200)).toBe(true);
  });

  it('identifies the CLI’s Route 53 writes (…/rrset/ with a trailing slash) and STS', async () => {
    const created = ok(
      await aws(['route53', 'create-hosted-zone', '--name', 'w.example.com', '--caller-reference', 'w-1']),
    ) as { HostedZone: { Id: string } };
    const zoneId = created.HostedZone.Id;
    const batch = JSON.stringify({
      Changes: [
        {
          Action: 'UPSERT',
          ResourceRecordSet: {
            Name: 'a.w.example.com',
            Type: 'A',
            TTL: 60,
            ResourceRecords: [{ Value: '192.0.2.7' }],
          },
        },
      ],
    });
    const [change, identity] = await Promise.all([
      aws(['route53', 'change-resource-record-sets', '--hosted-zone-id', zoneId, '--change-batch', batch]),
      aws(['sts', 'get-caller-identity']),
    ]);
    expect((ok(change) as { ChangeInfo: { Status: string } }).ChangeInfo.Status).toBe('INSYNC');
    expect((ok(identity) as { Account: string }).Account).toMatch(/^\d{12}$/);

    const seen = proxy.requests.map((r) => `${r.service}/${r.operation} ${r.status}`).sort();
    expect(seen).toEqual([
      'route53/ChangeResourceRecordSets 200',
      'route53/CreateHostedZone 201',
      'sts/GetCallerIdentity 200',
    ]);
    expect(proxy.requests.find((r) => r.operation === 'ChangeResourceRecordSets')?.path).toMatch(
      /\/rrset\/$/,
    );
  });

  it('retries an injected Throttling and succeeds; the log shows both attempts', async () => {
    proxy.setRules([{ operation: 'ListHostedZones', fault: 'Throttling', times: 1 }]);
    const result = await aws(['route53', 'list-hosted-zones']);
    expect(ok(result)).toEqual({ HostedZones: [] });
    expect(proxy.requests.map((r) => [r.operation, r.status, r.fault])).toEqual([
      ['ListHostedZones', 400, 'error:Throttling'],
      ['ListHostedZones', 200, undefined],
    ]);
  });

  it('parses the injected Route 53 and IAM error documents (code and message) and stops at max attempts', async () => {
    proxy.setRules([
      { operation: 'ListHostedZones', fault: 'Throttling', times: 5 },
      {
        operation: 'GetUser',
        fault: {
          kind: 'error',
          code: 'NoSuchEntity',
          status: 404,
          message: 'The user with name nobody cannot be found.',
        },
      },
    ]);
    const retry = { AWS_RETRY_MODE: 'standard', AWS_MAX_ATTEMPTS: '2' };
    const [throttled, missing] = await Promise.all([
      aws(['route53', 'list-hosted-zones'], retry),
      aws(['iam', 'get-user', '--user-name', 'nobody'], retry),
    ]);
    expect(throttled.code).not.toBe(0);
    expect(throttled.stderr).toContain(
      'An error occurred (Throttling) when calling the ListHostedZones operation',
    );
    expect(throttled.stderr).toContain('Rate exceeded');
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain(
      'An error occurred (NoSuchEntity) when calling the GetUser operation: The user with name nobody cannot be found.',
    );
    expect(proxy.count({ operation: 'ListHostedZones', fault: 'error:Throttling' })).toBe(2);
    expect(proxy.count({ operation: 'GetUser', fault: 'error:NoSuchEntity' })).toBe(1);
    expect(proxy.count({ faulted: false })).toBe(0);
  });
});
