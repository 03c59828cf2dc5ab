/**
 * `zonekeeper dev`, through the real bin and a real shell: `dev up` starts moto, the Vault fake and the
 * Kubernetes API fakes as detached processes; the other commands run on them after
 * `eval "$(zonekeeper dev env)"`, as a user runs them; a crashed server shows in `dev status`;
 * `dev down` leaves no process behind. moto must be installed (`python3 -m pip install 'moto[server]==5.2.1'`).
 */

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createKubernetesCluster } from '@zonekeeper/externaldns-deployer/kubernetes';
import { createRoute53Provider } from '@zonekeeper/zone-manager/route53';
import { afterAll, describe, expect, it } from 'vitest';
import { DEV_MARKER_VARIABLE, processInfo, stopProcess } from './dev/processes.js';
import { type DevState, MOTO_INSTALL_HINT } from './dev/state.js';

const packageRoot = fileURLToPath(new URL('../../', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'zk-dev-bin-'));
const dirs: string[] = [];

interface Exit {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The processes that carry a backend directory's marker (Linux /proc; zombies excluded). */
function markedProcesses(dir: string): number[] {
  if (!existsSync('/proc/self/environ')) return [];
  const marker = `${DEV_MARKER_VARIABLE}=${dir}\0`;
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'utf8').includes(marker) && processInfo(Number(entry)).alive)
        pids.push(Number(entry));
    } catch {
      // Gone, or not ours.
    }
  }
  return pids.sort((a, b) => a - b);
}

/** A process's parent pid (from /proc), or undefined once it is gone. */
function parentOf(pid: number): number | undefined {
  try {
    // Fields after the command name (which may hold spaces, in parentheses): state, then ppid.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/**
 * The backend's processes as they run: the recorded ones, each with any descendants folded into it (a
 * fake run through tsx may start a helper, e.g. esbuild's service on newer Node lines). A marked process
 * that descends from none of `recorded` is reported as itself, so a stray process still fails the test.
 */
function backendProcesses(dir: string, recorded: readonly number[]): number[] {
  const roots = new Set<number>();
  for (const pid of markedProcesses(dir)) {
    let p: number | undefined = pid;
    for (let depth = 0; p !== undefined && p > 1 && !recorded.includes(p) && depth < 16; depth++)
      p = parentOf(p);
    roots.add(p !== undefined && recorded.includes(p) ? p : pid);
  }
  return [...roots].sort((a, b) => a - b);
}

afterAll(async () => {
  // Whatever a failed test left running.
  await Promise.all(dirs.flatMap((d) => markedProcesses(d)).map((pid) => stopProcess(pid, 1_000)));
  rmSync(work, { recursive: true, force: true });
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

/** Runs a POSIX shell script in which `zonekeeper` is the bin on the workspace sources. */
function sh(script: string, env: Record<string, string> = {}): Promise<Exit> {
  const prelude = `zonekeeper() { node --import tsx --conditions=@zonekeeper/source ${JSON.stringify(join(packageRoot, 'src/cli/bin.ts'))} "$@"; }\n`;
  // The workspace's tsx is resolved from the working directory (an installed bin needs no loader).
  const child = spawn('/bin/sh', ['-ec', prelude + script], {
    cwd: packageRoot,
    env: cleanEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function newDir(name: string): string {
  const dir = join(work, name);
  dirs.push(dir);
  return dir;
}

function stateOf(dir: string): DevState {
  return JSON.parse(readFileSync(join(dir, 'dev.json'), 'utf8')) as DevState;
}

// biome-ignore lint/suspicious/noExplicitAny: tests read the JSON documents freely.
function doc(exit: Exit): any {
  try {
    return JSON.parse(exit.stdout);
  } catch {
    throw new Error(`not one JSON document (exit ${exit.code}):\n${exit.stdout}\n${exit.stderr}`);
  }
}

describe('zonekeeper dev (the real bin, a real shell)', () => {
  it.concurrent('up → org ensure → cluster attach → org ensure → a crash seen by status → down, no process left', async () => {
    const dir = newDir('journey');
    const up = await sh(`zonekeeper dev up --dir ${dir} --clusters dev-1,dev-2`);
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toMatch(/^export AWS_ENDPOINT_URL=http:\/\/127\.0\.0\.1:\d+$/m);
    expect(up.stdout).toContain(`export KUBECONFIG=${dir}/kubeconfig`);
    expect(up.stdout).toContain('export ZONEKEEPER_BASE_DOMAIN=example.com');
    const state = stateOf(dir);
    const token = readFileSync(join(dir, 'vault-token'), 'utf8');
    expect(token.length).toBeGreaterThan(10);
    expect(`${up.stdout}${up.stderr}`).not.toContain(token);
    expect(state.processes.map((p) => p.name)).toEqual(['moto', 'vault', 'dns', 'dev-1', 'dev-2']);
    const pids = state.processes.map((p) => p.pid);
    for (const pid of pids) expect(processInfo(pid).alive).toBe(true);
    expect(backendProcesses(dir, pids)).toEqual([...pids].sort((a, b) => a - b));
    const moto = state.processes.find((p) => p.kind === 'moto')?.endpoint as string;

    // Twice: the running backend is reported, nothing new is started.
    const again = await sh(`zonekeeper dev up --dir ${dir} --clusters dev-1,dev-2 --json`);
    expect(again.code, again.stderr).toBe(0);
    expect(doc(again).result.reused).toBe(true);
    expect(doc(again).result.processes.map((p: { pid: number }) => p.pid)).toEqual(pids);
    expect(again.stderr).toMatch(/already running/);
    expect(backendProcesses(dir, pids)).toEqual([...pids].sort((a, b) => a - b));

    const env = `eval "$(zonekeeper dev env --dir ${dir})"\n`;
    const ensured = await sh(`${env}zonekeeper org ensure acme --json`);
    expect(ensured.code, ensured.stderr).toBe(0);
    expect(doc(ensured).result.zone.name).toBe('acme.example.com');
    expect(`${ensured.stdout}${ensured.stderr}`).not.toContain(token);

    const attached = await sh(
      `${env}zonekeeper cluster attach acme dev-2 --cert web:default:www.acme.example.com --json`,
    );
    expect(attached.code, attached.stderr).toBe(0);
    expect(doc(attached).result.rollout.availableReplicas).toBeGreaterThan(0);

    const converged = await sh(`${env}zonekeeper org ensure acme --json`);
    expect(converged.code, converged.stderr).toBe(0);
    expect(doc(converged).result.steps).toEqual([]);

    // The results are real: the zone and its delegation in moto, ExternalDNS and the Secret on dev-2 only.
    const dns = createRoute53Provider({
      endpoint: moto,
      region: 'us-east-1',
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    });
    expect(await dns.findZonesByName('acme.example.com')).toHaveLength(1);
    const parent = (await dns.findZonesByName('example.com'))[0];
    expect(parent?.id).toBe(state.parentZoneId);
    const records = await dns.listRecords(parent?.id as string);
    expect(records.recordSets.some((r) => r.name === 'acme.example.com' && r.type === 'NS')).toBe(true);
    const kubeconfigPath = join(dir, 'kubeconfig');
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      namespace: 'external-dns',
      name: 'external-dns',
    };
    const dev2 = createKubernetesCluster({ name: 'dev-2', kubeconfigPath, context: 'dev-2' });
    const dev1 = createKubernetesCluster({ name: 'dev-1', kubeconfigPath, context: 'dev-1' });
    expect(await dev2.get(deployment)).toBeDefined();
    expect(
      (await dev2.get({ apiVersion: 'v1', kind: 'Secret', namespace: 'default', name: 'web' }))?.type,
    ).toBe('kubernetes.io/tls');
    expect(await dev1.get(deployment)).toBeUndefined();

    // A crash of one server is seen by `dev status` (exit 4), the others still run.
    const vault = state.processes.find((p) => p.kind === 'vault');
    process.kill(vault?.pid as number, 'SIGKILL');
    await stopProcess(vault?.pid as number, 2_000);
    const status = await sh(`zonekeeper dev status --dir ${dir} --json`);
    expect(status.code, status.stderr).toBe(4);
    expect(
      Object.fromEntries(
        doc(status).result.processes.map((p: { name: string; state: string }) => [p.name, p.state]),
      ),
    ).toEqual({ moto: 'running', vault: 'exited', dns: 'running', 'dev-1': 'running', 'dev-2': 'running' });
    expect(status.stderr).toMatch(/vault \(pid \d+\) has exited/);
    const upOnBroken = await sh(`zonekeeper dev up --dir ${dir} --clusters dev-1,dev-2`);
    expect(upOnBroken.code).toBe(4);
    expect(upOnBroken.stderr).toMatch(/partly down \(vault exited\).*zonekeeper dev down/);

    const down = await sh(`zonekeeper dev down --dir ${dir}`);
    expect(down.code, down.stderr).toBe(0);
    expect(down.stdout).toMatch(/^unset AWS_ENDPOINT_URL .*VAULT_TOKEN KUBECONFIG/m);
    expect(down.stderr).toMatch(/stopped 4 process\(es\), 1 had already exited \(vault\)/);
    for (const pid of pids) expect(processInfo(pid).alive, `pid ${pid}`).toBe(false);
    expect(markedProcesses(dir)).toEqual([]);
    expect(existsSync(join(dir, 'dev.json'))).toBe(false);
    expect(existsSync(dir)).toBe(false);

    const after = await sh(`zonekeeper dev status --dir ${dir}; zonekeeper dev down --dir ${dir}`);
    expect(after.code).toBe(3);
    expect(after.stderr).toMatch(/NOT_FOUND: No local backend in .*zonekeeper dev up/);
  }, 180_000);

  it.concurrent('moto missing: the error names the pip command, and nothing started is left running', async () => {
    const noPython = newDir('no-python');
    const noMoto = newDir('no-moto');
    const shim = join(work, 'python-without-moto');
    writeFileSync(
      shim,
      `#!/bin/sh\necho "/usr/bin/python3: Error while finding module specification for 'moto.server' (ModuleNotFoundError: No module named 'moto')" >&2\nexit 1\n`,
      { mode: 0o755 },
    );
    const [a, b] = await Promise.all([
      sh(`zonekeeper dev up --dir ${noPython}`, { ZONEKEEPER_MOTO_PYTHON: join(work, 'no-such-python3') }),
      sh(`zonekeeper dev up --dir ${noMoto} --clusters dev-1,dev-2`, { ZONEKEEPER_MOTO_PYTHON: shim }),
    ]);
    for (const [exit, dir, why] of [
      [a, noPython, /was not found/],
      [b, noMoto, /cannot import moto/],
    ] as const) {
      expect(exit.code, exit.stderr).toBe(4);
      expect(exit.stderr).toMatch(why);
      expect(exit.stderr).toContain(MOTO_INSTALL_HINT);
      expect(MOTO_INSTALL_HINT).toBe("python3 -m pip install 'moto[server]==5.2.1'");
      // The Vault and Kubernetes fakes started alongside were stopped, and no state is left.
      expect(markedProcesses(dir)).toEqual([]);
      expect(existsSync(join(dir, 'dev.json'))).toBe(false);
    }
    // The log the error names is kept.
    const log = /Its log \((.+?)\) ends with: .*No module named 'moto'/.exec(b.stderr)?.[1];
    expect(log, b.stderr).toBe(join(noMoto, 'logs', 'moto.log'));
    expect(existsSync(log as string)).toBe(true);
  }, 120_000);

  it.concurrent('dev up killed (SIGKILL) after starting its processes: status and up say so, dev down stops them all', async () => {
    const dir = newDir('killed');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--conditions=@zonekeeper/source', 'src/cli/bin.ts', 'dev', 'up', '--dir', dir],
      { cwd: packageRoot, env: cleanEnv({}), stdio: 'ignore' },
    );
    const closed = new Promise((resolve) => child.on('close', resolve));
    // Wait for the first state file (processes spawned, not ready yet), then kill the command.
    const deadline = Date.now() + 60_000;
    while (!existsSync(join(dir, 'dev.json')) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGKILL');
    await closed;
    const state = stateOf(dir);
    expect(state.ready).toBe(false);
    expect(state.processes).toHaveLength(4); // moto, vault, dns, dev-1
    const status = await sh(`zonekeeper dev status --dir ${dir}`);
    expect(status.code).toBe(4);
    expect(status.stderr).toMatch(/dev up has not finished/);
    const up = await sh(`zonekeeper dev up --dir ${dir}`);
    expect(up.code).toBe(4);
    expect(up.stderr).toMatch(/incomplete \(an earlier dev up did not finish\).*zonekeeper dev down/);
    const down = await sh(`zonekeeper dev down --dir ${dir}`);
    expect(down.code, down.stderr).toBe(0);
    for (const p of state.processes) expect(processInfo(p.pid).alive, p.name).toBe(false);
    expect(markedProcesses(dir)).toEqual([]);
    expect(existsSync(dir)).toBe(false);
  }, 120_000);

  it.concurrent('two dev up at once: one backend, the other reports it or is refused; down stops it all', async () => {
    const dir = newDir('concurrent');
    const [a, b] = await Promise.all([
      sh(`zonekeeper dev up --dir ${dir} --json`),
      sh(`zonekeeper dev up --dir ${dir} --json`),
    ]);
    const codes = [a.code, b.code].sort();
    expect(codes[0], `${a.stderr}\n${b.stderr}`).toBe(0);
    expect([0, 3]).toContain(codes[1]);
    if (codes[1] === 3)
      expect(`${a.stderr}${b.stderr}`).toMatch(/Another 'zonekeeper dev' command \(pid (\d+|unknown)\)/);
    const state = stateOf(dir);
    expect(state.processes).toHaveLength(4); // moto, vault, dns, dev-1
    const recorded = state.processes.map((p) => p.pid);
    expect(backendProcesses(dir, recorded)).toEqual([...recorded].sort((x, y) => x - y));
    const down = await sh(`zonekeeper dev down --dir ${dir}`);
    expect(down.code, down.stderr).toBe(0);
    expect(markedProcesses(dir)).toEqual([]);
  }, 120_000);
});
