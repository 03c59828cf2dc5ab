import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { isProcessRunning } from '../moto/processes.js';
import { dig, listPowerDnsProcesses, type PowerDnsServer, startPowerDns } from './index.js';

/**
 * A Node process starts PowerDNS and then ends without calling stop(): normally, through process.exit,
 * an uncaught error, a signal, or SIGKILL (where no handler can run: the kernel's parent-death signal,
 * set by setpriv, kills the server). The server must not outlive it.
 */

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const moduleUrl = fileURLToPath(new URL('./index.ts', import.meta.url));
let scratch: string;
let script: string;
let bystander: PowerDnsServer;
const children: ChildProcess[] = [];

beforeAll(async () => {
  bystander = await startPowerDns();
  scratch = mkdtempSync(join(tmpdir(), 'zonekeeper-pdns-orphans-'));
  script = join(scratch, 'child.mts');
  writeFileSync(
    script,
    [
      `import { startPowerDns } from ${JSON.stringify(moduleUrl)};`,
      'const mode = process.argv[2];',
      'const pdns = await startPowerDns();',
      'process.stdout.write(JSON.stringify({ pid: pdns.pid, port: pdns.dnsPort }) + "\\n");',
      "if (mode === 'exit') process.exit(3);",
      "if (mode === 'throw') throw new Error('boom');",
      "if (mode === 'wait') setInterval(() => {}, 1_000);",
    ].join('\n'),
  );
});

afterAll(async () => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await bystander?.stop();
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
});

interface Started {
  readonly child: ChildProcess;
  readonly pdns: { readonly pid: number; readonly port: number };
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function runChild(mode: string): Promise<Started> {
  const child = spawn(
    process.execPath,
    ['--conditions=@zonekeeper/source', '--import', 'tsx', script, mode],
    {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.push(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (c: Buffer) => {
      stdout += c.toString();
      const line = stdout
        .split('\n')
        .slice(0, -1)
        .find((l) => l.startsWith('{'));
      if (line !== undefined) resolve({ child, pdns: JSON.parse(line), exited });
    });
    void exited.then(({ code }) =>
      reject(new Error(`child exited (${code}) before starting PowerDNS: ${stderr}`)),
    );
  });
}

async function gone(pid: number, withinMs = 5_000): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    if (!isProcessRunning(pid)) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return !isProcessRunning(pid);
}

// One case at a time: six Node children compiling TypeScript at once starve the other test files'
// servers (moto) of CPU on a 2-core machine.
describe('a process that started PowerDNS and ended without stop() leaves no server behind', () => {
  const cases: {
    name: string;
    mode: string;
    signal?: NodeJS.Signals;
    expected: { code: number | null; signal: string | null };
  }[] = [
    { name: 'the event loop drains', mode: 'natural', expected: { code: 0, signal: null } },
    { name: 'process.exit(3)', mode: 'exit', expected: { code: 3, signal: null } },
    { name: 'an uncaught error', mode: 'throw', expected: { code: 1, signal: null } },
    { name: 'SIGTERM', mode: 'wait', signal: 'SIGTERM', expected: { code: null, signal: 'SIGTERM' } },
    { name: 'SIGINT', mode: 'wait', signal: 'SIGINT', expected: { code: null, signal: 'SIGINT' } },
    {
      name: 'SIGKILL (no handler runs)',
      mode: 'wait',
      signal: 'SIGKILL',
      expected: { code: null, signal: 'SIGKILL' },
    },
  ];

  it.for(cases)('ends by $name', async ({ mode, signal, expected }, { expect }) => {
    const started = await runChild(mode);
    expect(started.pdns.pid).toBeGreaterThan(0);
    if (signal !== undefined) {
      expect(
        listPowerDnsProcesses({ parentPid: started.child.pid ?? -1 }).map((p) => p.pid),
        'child owns it',
      ).toEqual([started.pdns.pid]);
      // It really serves DNS before its parent goes.
      expect((await dig({ port: started.pdns.port }, 'example.org', 'A')).status).toBe('REFUSED');
      started.child.kill(signal);
    }
    expect(await started.exited, 'how the child ended').toEqual(expected);
    expect(await gone(started.pdns.pid), 'server process gone').toBe(true);
    expect(
      listPowerDnsProcesses({ parentPid: 'any' }).map((p) => p.pid),
      'not listed',
    ).not.toContain(started.pdns.pid);
    expect(isProcessRunning(bystander.pid), 'bystander server alive').toBe(true);
  });
});
