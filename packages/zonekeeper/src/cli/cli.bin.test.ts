/**
 * The real entry point: `src/cli/bin.ts` run by Node (through tsx, on the workspace sources), as a user
 * runs the installed `zonekeeper` bin — help, exit codes reaching the process, and SIGINT.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startKubernetesFake } from '@zonekeeper/kube-apiserver-fake';
import { startMoto } from '@zonekeeper/testkit/moto';
import { startVaultFake } from '@zonekeeper/testkit/vault';
import { createRoute53Provider } from '@zonekeeper/zone-manager/route53';
import { afterAll, describe, expect, it } from 'vitest';

const packageRoot = fileURLToPath(new URL('../../', import.meta.url));
const version = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

const children = new Set<ChildProcess>();

afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
  for (const k of Object.keys(env))
    if (
      /^(AWS_|VAULT_|KUBECONFIG$|ZONEKEEPER_)/.test(k) &&
      k !== 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'
    )
      delete env[k];
  return { ...env, ...extra };
}

/** Spawns the bin; `onStart` may interact with the running process. */
function zonekeeper(
  args: readonly string[],
  env: Record<string, string> = {},
  onStart?: (child: ChildProcess) => void,
) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=@zonekeeper/source', 'src/cli/bin.ts', ...args],
    { cwd: packageRoot, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  onStart?.(child);
  return new Promise<Exit>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

describe('the zonekeeper bin', () => {
  it.concurrent('--help prints the commands, the environment and the exit codes; --version the version', async () => {
    const [help, v] = await Promise.all([zonekeeper(['--help']), zonekeeper(['--version'])]);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^Usage: zonekeeper \[options\] \[command\]/);
    for (const word of ['org', 'cluster', 'credentials', 'gc', 'cert', 'VAULT_TOKEN', 'Exit codes:', '130'])
      expect(help.stdout).toContain(word);
    expect(v.code).toBe(0);
    expect(v.stdout.trim()).toBe(version);
  });

  it.concurrent('exit codes reach the process: invalid input is 2, an unknown command is 2', async () => {
    const [bad, unknown] = await Promise.all([
      zonekeeper(['org', 'ensure', 'Not_Valid', '--base-domain', 'example.com']),
      zonekeeper(['frobnicate']),
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/INVALID_INPUT: Organisation name "Not_Valid"/);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command 'frobnicate'/);
  });

  it.concurrent('org delete without --yes on a stdin that is not a terminal: exit 2 naming --yes, nothing sent', async () => {
    const r = await zonekeeper(['org', 'delete', 'acme', '--base-domain', 'example.com'], {
      VAULT_ADDR: 'http://127.0.0.1:9',
      VAULT_TOKEN: 'hvs.not-a-real-token',
    });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/INVALID_INPUT: org delete acme .*pass --yes/);
  });

  it.concurrent('SIGINT aborts the running operation: exit 130, even with a request hanging', async () => {
    // A "Vault" that accepts connections and never answers.
    const sockets = new Set<Socket>();
    let connected: () => void = () => {};
    const firstConnection = new Promise<void>((resolve) => (connected = resolve));
    const server: Server = createServer((s) => {
      sockets.add(s);
      connected();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const started = Date.now();
      const exit = await zonekeeper(
        ['credentials', 'rotate', 'acme', '--base-domain', 'example.com'],
        { VAULT_ADDR: `http://127.0.0.1:${port}`, VAULT_TOKEN: 'hvs.not-a-real-token' },
        (child) => {
          void firstConnection.then(() => child.kill('SIGINT'));
        },
      );
      expect(exit.code, exit.stderr).toBe(130);
      expect(exit.stderr).toMatch(/interrupted/);
      expect(exit.stderr).not.toContain('hvs.not-a-real-token');
      expect(Date.now() - started).toBeLessThan(25_000);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('gc run --watch: passes on its interval while holding the Lease; SIGTERM releases it and exits 0, no process left', async () => {
    const moto = await startMoto();
    const vault = await startVaultFake();
    const kube = await startKubernetesFake({ rolloutDelayMs: 0 });
    const dir = await mkdtemp(join(tmpdir(), 'zonekeeper-watch-'));
    try {
      const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
      await createRoute53Provider({ endpoint: moto.endpoint, credentials }).createZone({
        name: 'example.com',
        callerReference: 'watch-parent',
      });
      const inventory = join(dir, 'inventory.json');
      await writeFile(inventory, '[]');
      const kubeconfig = await kube.writeKubeconfig(dir, { name: 'ops' });
      const lease = () =>
        kube.objects().find((o) => o.kind === 'Lease' && o.metadata.name === 'zonekeeper-gc')?.spec as
          | { holderIdentity?: string | null }
          | undefined;
      let pid: number | undefined;
      let holderWhileRunning: string | null | undefined;
      const exit = await zonekeeper(
        [
          'gc',
          'run',
          '--watch',
          '--interval',
          '1s',
          '--inventory',
          inventory,
          '--lease-cluster',
          'ops',
          '--lease-namespace',
          'default',
          '--lease-identity',
          'bin-a',
        ],
        {
          ZONEKEEPER_BASE_DOMAIN: 'example.com',
          AWS_ENDPOINT_URL: moto.endpoint,
          AWS_ACCESS_KEY_ID: credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
          VAULT_ADDR: vault.endpoint,
          VAULT_TOKEN: vault.rootToken,
          KUBECONFIG: kubeconfig,
          HOME: dir,
        },
        (child) => {
          pid = child.pid;
          let err = '';
          let sent = false;
          child.stderr?.on('data', (d: string) => {
            err += d;
            if (!sent && (err.match(/gc pass \d+ at /g) ?? []).length >= 2) {
              sent = true; // once: a second signal exits at once (143)
              holderWhileRunning = lease()?.holderIdentity;
              child.kill('SIGTERM');
            }
          });
        },
      );
      expect(exit.code, exit.stderr).toBe(0);
      expect(exit.signal).toBeNull();
      expect((exit.stderr.match(/gc pass \d+ at /g) ?? []).length).toBeGreaterThanOrEqual(2);
      expect(exit.stderr).toMatch(/stopped \(SIGTERM\) after \d+ pass\(es\); the Lease is released/);
      expect(holderWhileRunning).toBe('bin-a');
      expect(lease()?.holderIdentity ?? null).toBeNull();
      expect(exit.stderr).not.toContain(vault.rootToken);
      // No process left behind.
      expect(() => process.kill(pid as number, 0)).toThrow(/ESRCH/);
    } finally {
      await kube.stop();
      await vault.stop();
      await moto.stop();
      await rm(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
