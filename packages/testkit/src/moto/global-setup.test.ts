import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ListHostedZonesCommand, Route53Client } from '@aws-sdk/client-route-53';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestProject } from 'vitest/node';
import { createMotoGlobalSetup, isProcessRunning, listMotoProcesses, type MotoServer } from './index.js';

// Type-level check: Vitest's own TestProject fits the setup function's parameter.
const typeCheck: (project: TestProject) => Promise<() => Promise<void>> = createMotoGlobalSetup();
void typeCheck;

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const motoModule = fileURLToPath(new URL('./index.ts', import.meta.url));
let scratch: string;

// The servers of this file are started by the code under test (one per test), never shared.
beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'zonekeeper-moto-global-'));
});

afterAll(() => {
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
});

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

function fakeProject() {
  const provided = new Map<string, unknown>();
  return { provided, project: { provide: (key: string, value: unknown) => void provided.set(key, value) } };
}

describe('createMotoGlobalSetup', () => {
  it('starts one server, provides its endpoint under provideKey, and its teardown stops it', async () => {
    const { provided, project } = fakeProject();
    let started: MotoServer | undefined;
    const teardown = await createMotoGlobalSetup({
      provideKey: 'awsEndpoint',
      onStarted: (server) => {
        started = server;
      },
    })(project);
    const endpoint = provided.get('awsEndpoint') as string;
    expect([...provided.keys()]).toEqual(['awsEndpoint']);
    expect(endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(endpoint).toBe(started?.endpoint);
    const client = new Route53Client({
      region: 'us-east-1',
      endpoint,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    expect((await client.send(new ListHostedZonesCommand({}))).HostedZones).toEqual([]);
    client.destroy();
    const port = Number(new URL(endpoint).port);
    expect(listMotoProcesses().find((p) => p.port === port)?.pid).toBe(started?.pid);
    await teardown();
    expect(started?.exited).toBe(true);
    expect(isProcessRunning(started?.pid ?? 0)).toBe(false);
    expect(await refused(port)).toBe(true);
  });

  it('stops the server if onStarted fails, and rejects a blank provideKey', async () => {
    let started: MotoServer | undefined;
    const failing = createMotoGlobalSetup({
      onStarted: (server) => {
        started = server;
        throw new Error('seeding failed');
      },
    });
    await expect(failing(fakeProject().project)).rejects.toThrow('seeding failed');
    expect(started?.exited).toBe(true);
    expect(() => createMotoGlobalSetup({ provideKey: ' ' })).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT' }),
    );
  });
});

interface VitestRun {
  readonly code: number | null;
  readonly output: string;
}

/** Runs a separate Vitest process on a small project in `dir`, whose global setup comes from this package. */
function runVitest(dir: string, setupSource: string): Promise<VitestRun> {
  symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'), 'dir');
  writeFileSync(
    join(dir, 'vitest.config.mjs'),
    `export default { ssr: { resolve: { conditions: ['@zonekeeper/source'] } },
      test: { include: ['inner.test.mjs'], globalSetup: ['./moto-setup.ts'], testTimeout: 20000 } };\n`,
  );
  writeFileSync(join(dir, 'moto-setup.ts'), setupSource);
  writeFileSync(
    join(dir, 'inner.test.mjs'),
    `import { writeFileSync } from 'node:fs';
import { expect, inject, it } from 'vitest';
it('reaches the shared moto through inject', async () => {
  const endpoint = inject('motoEndpoint');
  expect(endpoint).toMatch(/^http:\\/\\/127\\.0\\.0\\.1:\\d+$/);
  expect((await fetch(endpoint + '/moto-api/')).status).toBe(200);
  writeFileSync(${JSON.stringify(join(dir, 'endpoint.txt'))}, endpoint);
});\n`,
  );
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith('VITEST') && key !== 'NODE_OPTIONS'),
  );
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        join(repoRoot, 'node_modules/vitest/vitest.mjs'),
        'run',
        '--root',
        dir,
        '--config',
        join(dir, 'vitest.config.mjs'),
      ],
      { cwd: dir, env: { ...env, CI: 'true', NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (c: Buffer) => {
      output += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      output += c.toString();
    });
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, output }));
  });
}

describe('createMotoGlobalSetup in a real Vitest run', () => {
  it('provides the endpoint to test files through inject and stops the server after the run', async () => {
    const dir = mkdtempSync(join(scratch, 'ok-'));
    const run = await runVitest(
      dir,
      `import { createMotoGlobalSetup } from ${JSON.stringify(motoModule)};\nexport const setup = createMotoGlobalSetup();\n`,
    );
    expect(run.output).toMatch(/Tests\s+1 passed/);
    expect(run.code).toBe(0);
    const endpoint = readFileSync(join(dir, 'endpoint.txt'), 'utf8');
    const port = Number(new URL(endpoint).port);
    expect(await refused(port)).toBe(true);
    expect(listMotoProcesses({ parentPid: 'any' }).filter((p) => p.port === port)).toEqual([]);
  });

  it('fails the run loudly, naming the pip fix, when moto cannot start', async () => {
    const dir = mkdtempSync(join(scratch, 'missing-'));
    const run = await runVitest(
      dir,
      `import { createMotoGlobalSetup } from ${JSON.stringify(motoModule)};\nexport const setup = createMotoGlobalSetup({ module: 'zonekeeper_missing_moto.server' });\n`,
    );
    expect(run.code).not.toBe(0);
    expect(run.output).toContain('pip install "moto[server]"');
    expect(run.output).not.toMatch(/Tests\s+1 passed/);
  });
});
