import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { isProcessRunning, listMotoProcesses, type MotoServer, startMoto } from './index.js';

/**
 * A Node process starts moto and then ends without calling stop(): normally, through process.exit,
 * an uncaught error, a signal, or SIGKILL (where no handler can run). The server must not outlive it.
 */

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const motoModule = fileURLToPath(new URL('./index.ts', import.meta.url));
let scratch: string;
let script: string;
let moto: MotoServer;
const children: ChildProcess[] = [];

beforeAll(async () => {
  // This file's own server: it must survive everything the children do.
  moto = await startMoto();
  scratch = mkdtempSync(join(tmpdir(), 'zonekeeper-moto-orphans-'));
  script = join(scratch, 'child.mts');
  writeFileSync(
    script,
    [
      `import { startMoto } from ${JSON.stringify(motoModule)};`,
      'const mode = process.argv[2];',
      'const moto = await startMoto();',
      'process.stdout.write(JSON.stringify({ pid: moto.pid, port: moto.port }) + "\\n");',
      "if (mode === 'exit') process.exit(3);",
      "if (mode === 'throw') throw new Error('boom');",
      "if (mode === 'wait') setInterval(() => {}, 1_000);",
      '// mode "natural": nothing left to do, the event loop drains and the process ends.',
    ].join('\n'),
  );
});

afterAll(async () => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await moto?.stop();
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
});

interface Started {
  readonly child: ChildProcess;
  readonly moto: { readonly pid: number; readonly port: number };
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function runChild(mode: string): Promise<Started> {
  const child = spawn(
    process.execPath,
    ['--conditions=@zonekeeper/source', '--import', 'tsx', script, mode],
    {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
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
      const complete = stdout.split('\n').slice(0, -1); // only lines that ended with a newline
      const line = complete.find((l) => l.startsWith('{'));
      if (line !== undefined) resolve({ child, moto: JSON.parse(line), exited });
    });
    void exited.then(({ code }) =>
      reject(new Error(`child exited (${code}) before starting moto: ${stderr}`)),
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

describe.concurrent('a process that started moto and ended without stop() leaves no server behind', () => {
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
    expect(started.moto.pid).toBeGreaterThan(0);
    if (signal !== undefined) {
      expect(
        listMotoProcesses({ parentPid: started.child.pid ?? -1 }).map((p) => p.pid),
        'child owns it',
      ).toEqual([started.moto.pid]);
      started.child.kill(signal);
    }
    expect(await started.exited, 'how the child ended').toEqual(expected);
    expect(await gone(started.moto.pid), 'server process gone').toBe(true);
    expect(
      listMotoProcesses({ parentPid: 'any' }).map((p) => p.pid),
      'not listed',
    ).not.toContain(started.moto.pid);
    // The port must close. A killed multi-threaded server's leader can show as gone (a zombie) a moment
    // before its last thread releases the listening socket, which the kernel keeps accepting into its
    // backlog until then: poll briefly. Another test file's moto may meanwhile be given the same free
    // port (files run in parallel); that is fine as long as it is not our server.
    const closedSoon = async () => {
      for (let i = 0; i < 40; i++) {
        if (await refused(started.moto.port)) return true;
        if (
          listMotoProcesses({ parentPid: 'any' }).some(
            (p) => p.port === started.moto.port && p.pid !== started.moto.pid,
          )
        )
          return true;
        await new Promise((r) => setTimeout(r, 50));
      }
      return false;
    };
    expect(await closedSoon(), 'port closed within 2 s').toBe(true);
    expect(isProcessRunning(moto.pid), 'bystander server alive').toBe(true);
  });
});
