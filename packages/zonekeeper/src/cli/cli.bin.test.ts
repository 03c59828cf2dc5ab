/**
 * The real entry point: `src/cli/bin.ts` run by Node (through tsx, on the workspace sources), as a user
 * runs the installed `zonekeeper` bin — help, exit codes reaching the process, and SIGINT.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
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
});
