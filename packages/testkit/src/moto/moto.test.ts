import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateUserCommand, IAMClient, ListUsersCommand } from '@aws-sdk/client-iam';
import { CreateHostedZoneCommand, ListHostedZonesCommand, Route53Client } from '@aws-sdk/client-route-53';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { hasErrorCode, isZonekeeperError, type ZonekeeperError } from '@zonekeeper/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  isProcessRunning,
  listMotoProcesses,
  type MotoServer,
  motoInstallHint,
  resetMoto,
  startMoto,
} from './index.js';

let moto: MotoServer;
let scratch: string;

beforeAll(async () => {
  moto = await startMoto();
  scratch = mkdtempSync(join(tmpdir(), 'zonekeeper-moto-test-'));
});

afterAll(async () => {
  await moto?.stop();
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
});

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const config = (endpoint: string) => ({ region: 'us-east-1', endpoint, credentials, maxAttempts: 1 });

async function failure(promise: Promise<unknown>): Promise<ZonekeeperError> {
  try {
    await promise;
  } catch (error) {
    return error as ZonekeeperError;
  }
  throw new Error('expected a rejection');
}

/** Local addresses listening on `port`, from /proc/net/tcp{,6} (hex `ADDR:PORT`, state 0A = LISTEN). */
function listeners(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  return ['/proc/net/tcp', '/proc/net/tcp6'].flatMap((file) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/))
      .filter((f) => f[3] === '0A' && f[1]?.endsWith(`:${hexPort}`))
      .map((f) => f[1]?.split(':')[0] ?? ''),
  );
}

/** A directory on PYTHONPATH with the given modules (name → source). */
function pythonPath(name: string, modules: Record<string, string>): string {
  const dir = join(scratch, name);
  for (const [file, source] of Object.entries(modules)) {
    mkdirSync(join(dir, file, '..'), { recursive: true });
    writeFileSync(join(dir, file), source);
  }
  return dir;
}

describe('startMoto', () => {
  it('runs a moto server on 127.0.0.1 only, as a tracked child of this process', () => {
    expect(moto.endpoint).toBe(`http://127.0.0.1:${moto.port}`);
    expect(listeners(moto.port)).toEqual(['0100007F']); // 127.0.0.1, nothing on 0.0.0.0 or IPv6
    const mine = listMotoProcesses().find((p) => p.pid === moto.pid);
    expect(mine).toMatchObject({ ppid: process.pid, port: moto.port });
    expect(mine?.args).toEqual(
      expect.arrayContaining(['moto.server', '-H', '127.0.0.1', '-p', String(moto.port)]),
    );
    expect(isProcessRunning(moto.pid)).toBe(true);
    expect(moto.exited).toBe(false);
  });

  it('answers Route 53, IAM and STS calls of the real SDK clients', async () => {
    const r53 = new Route53Client(config(moto.endpoint));
    const iam = new IAMClient(config(moto.endpoint));
    const sts = new STSClient(config(moto.endpoint));
    try {
      const zone = await r53.send(
        new CreateHostedZoneCommand({ Name: 'moto.example.com', CallerReference: 'm-1' }),
      );
      expect(zone.HostedZone?.Name).toBe('moto.example.com.');
      const user = await iam.send(new CreateUserCommand({ UserName: 'moto-user' }));
      expect(user.User?.Arn).toMatch(/^arn:aws:iam::\d{12}:user\/moto-user$/);
      const identity = await sts.send(new GetCallerIdentityCommand({}));
      expect(identity.Account).toMatch(/^\d{12}$/);
    } finally {
      r53.destroy();
      iam.destroy();
      sts.destroy();
    }
  });

  it('reset() (and resetMoto(endpoint)) delete all state', async () => {
    const r53 = new Route53Client(config(moto.endpoint));
    const iam = new IAMClient(config(moto.endpoint));
    try {
      await r53.send(new CreateHostedZoneCommand({ Name: 'reset.example.com', CallerReference: 'r-1' }));
      await iam.send(new CreateUserCommand({ UserName: 'reset-user' }));
      expect((await r53.send(new ListHostedZonesCommand({}))).HostedZones?.length).toBeGreaterThan(0);
      await moto.reset();
      expect((await r53.send(new ListHostedZonesCommand({}))).HostedZones).toEqual([]);
      expect((await iam.send(new ListUsersCommand({}))).Users).toEqual([]);
      await iam.send(new CreateUserCommand({ UserName: 'again' }));
      await resetMoto(`${moto.endpoint}/`);
      expect((await iam.send(new ListUsersCommand({}))).Users).toEqual([]);
    } finally {
      r53.destroy();
      iam.destroy();
    }
  });

  it('stop() waits until the process is gone, is idempotent, and leaves no moto behind', async () => {
    const extra = await startMoto();
    expect(listMotoProcesses().map((p) => p.pid)).toContain(extra.pid);
    const stopping = extra.stop();
    expect(extra.stop()).toBe(stopping);
    await stopping;
    expect(extra.exited).toBe(true);
    expect(() => process.kill(extra.pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
    expect(isProcessRunning(extra.pid)).toBe(false);
    expect(listMotoProcesses().map((p) => p.pid)).not.toContain(extra.pid);
    expect(listeners(extra.port)).toEqual([]);
    await extra.stop();
    const error = await failure(extra.reset());
    expect(hasErrorCode(error, 'UNAVAILABLE')).toBe(true);
    // The shared server is untouched.
    expect(isProcessRunning(moto.pid)).toBe(true);
  });

  it('passes extra environment to the server, and await using stops it at the end of the scope', async () => {
    let pid = 0;
    {
      // moto reads MOTO_ACCOUNT_ID for the account of every resource.
      await using custom = await startMoto({ env: { MOTO_ACCOUNT_ID: '111122223333' } });
      pid = custom.pid;
      const sts = new STSClient(config(custom.endpoint));
      try {
        expect((await sts.send(new GetCallerIdentityCommand({}))).Account).toBe('111122223333');
      } finally {
        sts.destroy();
      }
      expect(isProcessRunning(pid)).toBe(true);
    }
    expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
  });
});

describe('startMoto failures are loud and leave nothing running', () => {
  it('a missing module names the pip fix and shows the stderr tail', async () => {
    const error = await failure(startMoto({ module: 'zonekeeper_no_such_module.server' }));
    expect(isZonekeeperError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'UNAVAILABLE', retry: 'permanent' });
    expect(error.message).toContain('pip install "moto[server]"');
    expect(error.message).toContain(motoInstallHint);
    expect(error.message).toContain("No module named 'zonekeeper_no_such_module'");
    expect(error.details).toMatchObject({ module: 'zonekeeper_no_such_module.server', exitCode: 1 });
    const pid = error.details?.pid as number;
    expect(pid).toBeGreaterThan(0);
    expect(isProcessRunning(pid)).toBe(false);
  });

  it('a python whose moto import fails names the pip fix', async () => {
    const shadow = pythonPath('broken-moto', {
      'moto/__init__.py': "raise ModuleNotFoundError(\"No module named 'moto'\", name='moto')\n",
    });
    const error = await failure(startMoto({ env: { PYTHONPATH: shadow } }));
    expect(error.code).toBe('UNAVAILABLE');
    expect(error.message).toMatch(
      /^moto: \S+ cannot import moto\.server\. Install moto with: pip install "moto\[server\]"/,
    );
    expect(error.message).toContain("No module named 'moto'");
    // Bounded tail: at most 20 lines of stderr.
    expect(String(error.details?.stderrTail).split('\n').length).toBeLessThanOrEqual(20);
  });

  it('a python that does not exist names the python option and the pip fix', async () => {
    const error = await failure(startMoto({ python: join(scratch, 'no-such-python3') }));
    expect(error.code).toBe('UNAVAILABLE');
    expect(error.message).toContain('was not found');
    expect(error.message).toContain('pip install "moto[server]"');
    expect(error.message).toContain('`python` option');
  });

  it('a server that never answers times out with TIMEOUT and is killed', async () => {
    const sleeper = pythonPath('sleeper', { 'zk_sleeper.py': 'import time\ntime.sleep(60)\n' });
    const started = Date.now();
    const error = await failure(
      startMoto({
        module: 'zk_sleeper',
        env: { PYTHONPATH: sleeper },
        startTimeoutMs: 700,
        stopGraceMs: 500,
      }),
    );
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(error.code).toBe('TIMEOUT');
    expect(error.message).toContain('did not answer');
    const pid = error.details?.pid as number;
    expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
  });

  it('an abort during startup re-throws signal.reason and stops the process', async () => {
    const before = new Set(listMotoProcesses().map((p) => p.pid));
    const controller = new AbortController();
    const reason = new Error('test aborted');
    setTimeout(() => controller.abort(reason), 150);
    const error = await failure(startMoto({ signal: controller.signal }));
    expect(error).toBe(reason);
    expect(listMotoProcesses().filter((p) => !before.has(p.pid))).toEqual([]);

    const aborted = AbortSignal.abort(new Error('already'));
    expect(await failure(startMoto({ signal: aborted }))).toBe(aborted.reason);
  });

  it('bad options get INVALID_INPUT before anything is spawned', async () => {
    for (const options of [
      { startTimeoutMs: 0 },
      { stopGraceMs: -1 },
      { python: ' ' },
      { module: 'x; rm -rf /' },
    ]) {
      expect(hasErrorCode(await failure(startMoto(options)), 'INVALID_INPUT')).toBe(true);
    }
  });
});

describe('listMotoProcesses', () => {
  it('filters by parent pid and skips non-moto processes', () => {
    const any = listMotoProcesses({ parentPid: 'any' });
    expect(any.map((p) => p.pid)).toContain(moto.pid);
    expect(listMotoProcesses({ parentPid: moto.pid })).toEqual([]);
    expect(
      any.every((p) => p.args.includes('moto.server') || p.args.some((a) => a.endsWith('moto_server'))),
    ).toBe(true);
  });
});
