import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { isProcessRunning } from '../moto/processes.js';
import { listPebbleProcesses } from './index.js';

/**
 * A Node process starts Pebble and then ends without calling stop(): through process.exit, a signal, or
 * SIGKILL (where no handler can run: the kernel's parent-death signal, set by setpriv, kills Pebble).
 * Pebble must not outlive it.
 */

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const moduleUrl = fileURLToPath(new URL('./index.ts', import.meta.url));
let scratch: string;
let script: string;
const children: ChildProcess[] = [];

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'zonekeeper-pebble-orphans-'));
  script = join(scratch, 'child.mts');
  writeFileSync(
    script,
    [
      `import { startPebble } from ${JSON.stringify(moduleUrl)};`,
      'const mode = process.argv[2];',
      // Nothing listens on the discard port: Pebble only asks it when validating, which this test never does.
      'const pebble = await startPebble({ dnsServer: { port: 9 } });',
      'process.stdout.write(JSON.stringify({ pid: pebble.pid }) + "\\n");',
      "if (mode === 'exit') process.exit(3);",
      "if (mode === 'wait') setInterval(() => {}, 1_000);",
    ].join('\n'),
  );
});

afterAll(() => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
});

function runChild(mode: string) {
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
  return new Promise<{ child: ChildProcess; pebble: { pid: number }; exited: typeof exited }>(
    (resolve, reject) => {
      child.stdout?.on('data', (c: Buffer) => {
        stdout += c.toString();
        const line = stdout
          .split('\n')
          .slice(0, -1)
          .find((l) => l.startsWith('{'));
        if (line !== undefined) resolve({ child, pebble: JSON.parse(line), exited });
      });
      void exited.then(({ code }) =>
        reject(new Error(`child exited (${code}) before starting Pebble: ${stderr}`)),
      );
    },
  );
}

async function gone(pid: number, withinMs = 5_000): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    if (!isProcessRunning(pid)) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return !isProcessRunning(pid);
}

describe('a process that started Pebble and ended without stop() leaves no server behind', () => {
  const cases: {
    name: string;
    mode: string;
    signal?: NodeJS.Signals;
    expected: { code: number | null; signal: string | null };
  }[] = [
    { name: 'the event loop drains', mode: 'natural', expected: { code: 0, signal: null } },
    { name: 'process.exit(3)', mode: 'exit', expected: { code: 3, signal: null } },
    { name: 'SIGTERM', mode: 'wait', signal: 'SIGTERM', expected: { code: null, signal: 'SIGTERM' } },
    {
      name: 'SIGKILL (no handler runs)',
      mode: 'wait',
      signal: 'SIGKILL',
      expected: { code: null, signal: 'SIGKILL' },
    },
  ];

  it.for(cases)('ends by $name', async ({ mode, signal, expected }, { expect }) => {
    const started = await runChild(mode);
    expect(started.pebble.pid).toBeGreaterThan(0);
    if (signal !== undefined) {
      expect(
        listPebbleProcesses({ parentPid: started.child.pid ?? -1 }).map((p) => p.pid),
        'child owns it',
      ).toEqual([started.pebble.pid]);
      started.child.kill(signal);
    }
    expect(await started.exited, 'how the child ended').toEqual(expected);
    expect(await gone(started.pebble.pid), 'Pebble gone').toBe(true);
    expect(
      listPebbleProcesses({ parentPid: 'any' }).map((p) => p.pid),
      'not listed',
    ).not.toContain(started.pebble.pid);
  });
});
