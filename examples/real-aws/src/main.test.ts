import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkRequirements } from './requirements.js';

const root = fileURLToPath(new URL('..', import.meta.url));

// Every AWS, Vault and Kubernetes endpoint the example could reach points here: it must see nothing.
let recorder: Server;
let recorderUrl: string;
const received: string[] = [];
let home: string;
beforeAll(async () => {
  recorder = createServer((req, res) => {
    received.push(`${req.method} ${req.url}`);
    res.writeHead(500).end();
  });
  await new Promise<void>((resolve) => recorder.listen(0, '127.0.0.1', resolve));
  recorderUrl = `http://127.0.0.1:${(recorder.address() as AddressInfo).port}`;
  home = await mkdtemp(join(tmpdir(), 'zk-real-aws-home-')); // no ~/.aws, no ~/.kube
});
afterAll(async () => {
  await new Promise<void>((resolve) => recorder.close(() => resolve()));
  await rm(home, { recursive: true, force: true });
});

/** Runs the example in a process with exactly `env` (plus PATH and the empty HOME). */
function example(env: Record<string, string>) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', '--conditions=@zonekeeper/source', 'src/main.ts'],
      {
        cwd: root,
        env: { PATH: process.env.PATH ?? '', HOME: home, NODE_NO_WARNINGS: '1', ...env },
        timeout: 110_000,
      },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe.concurrent('the real-AWS example without its configuration', { timeout: 120_000 }, () => {
  it('prints everything it needs and exits 0, calling nothing', async ({ expect }) => {
    const run = await example({ AWS_ENDPOINT_URL: recorderUrl });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^The real-AWS example needs \(nothing was called\):$/m);
    for (const need of [
      'ZONEKEEPER_REAL_AWS=1',
      'ZONEKEEPER_BASE_DOMAIN',
      'AWS credentials',
      'VAULT_ADDR',
      'VAULT_TOKEN',
      'a kubeconfig',
    ])
      expect(run.stdout).toContain(`✗ ${need} — `);
    expect(received).toEqual([]);
  });

  it('does nothing without the explicit opt-in, even when everything else is configured', async ({
    expect,
  }) => {
    const kubeconfig = join(home, 'kubeconfig.yaml');
    await writeFile(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        `clusters: [{ name: c, cluster: { server: "${recorderUrl}" } }]`,
        'users: [{ name: u, user: { token: not-a-real-token } }]',
        'contexts: [{ name: c, context: { cluster: c, user: u } }]',
        'current-context: c',
      ].join('\n'),
    );
    const run = await example({
      ZONEKEEPER_BASE_DOMAIN: 'example.com',
      AWS_ACCESS_KEY_ID: 'AKIAEXAMPLEEXAMPLE00',
      AWS_SECRET_ACCESS_KEY: 'not-a-real-secret-key-0000000000000000000',
      AWS_ENDPOINT_URL: recorderUrl,
      VAULT_ADDR: recorderUrl,
      VAULT_TOKEN: 'not-a-real-token',
      KUBECONFIG: kubeconfig,
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('✗ ZONEKEEPER_REAL_AWS=1 — ');
    expect(run.stdout.match(/✓/g)).toHaveLength(5);
    expect(run.stdout).not.toContain('not-a-real');
    expect(received).toEqual([]);
  });
});

describe('checkRequirements', () => {
  const none = () => false;
  it('finds credentials in every place the default chain looks without a network call', () => {
    const aws = (env: Record<string, string>, exists: (p: string) => boolean = none) =>
      checkRequirements({ env, home: '/h', exists }).find((r) => r.name === 'AWS credentials')?.met;
    expect(aws({})).toBe(false);
    expect(aws({ AWS_ACCESS_KEY_ID: 'a' })).toBe(false);
    expect(aws({ AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b' })).toBe(true);
    expect(aws({ AWS_PROFILE: 'dev' })).toBe(true);
    expect(aws({ AWS_WEB_IDENTITY_TOKEN_FILE: '/var/run/token' })).toBe(true);
    expect(aws({ AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '/v2/creds' })).toBe(true);
    expect(aws({}, (p) => p === '/h/.aws/credentials')).toBe(true);
    expect(aws({}, (p) => p === '/h/.aws/config')).toBe(true);
  });

  it('finds a kubeconfig in KUBECONFIG, ~/.kube/config or the in-cluster service account', () => {
    const kube = (env: Record<string, string>, exists: (p: string) => boolean = none) =>
      checkRequirements({ env, home: '/h', exists }).find((r) => r.name === 'a kubeconfig')?.met;
    expect(kube({})).toBe(false);
    expect(kube({ KUBECONFIG: '/k/a' })).toBe(false);
    expect(kube({ KUBECONFIG: '/k/a' }, (p) => p === '/k/a')).toBe(true);
    expect(kube({}, (p) => p === '/h/.kube/config')).toBe(true);
    expect(kube({ KUBERNETES_SERVICE_HOST: '10.0.0.1' }, (p) => p.endsWith('serviceaccount/token'))).toBe(
      true,
    );
  });

  it('wants the opt-in to be exactly 1', () => {
    const optIn = (v: string) =>
      checkRequirements({ env: { ZONEKEEPER_REAL_AWS: v }, home: '/h', exists: none })[0]?.met;
    expect(optIn('1')).toBe(true);
    expect(optIn('true')).toBe(false);
    expect(optIn('')).toBe(false);
  });
});
