#!/usr/bin/env node
/**
 * The `zonekeeper` executable: runs {@link runCli} with the process's arguments, environment and
 * streams. The first SIGINT aborts the running operation (exit 130 once it has stopped); a second one
 * exits at once.
 *
 * @packageDocumentation
 */

import { runCli } from './program.js';

async function main(): Promise<void> {
  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts += 1;
    if (interrupts > 1) process.exit(130);
    process.stderr.write('zonekeeper: interrupted, stopping (press Ctrl-C again to exit at once)…\n');
    controller.abort(new DOMException('Interrupted by SIGINT.', 'AbortError'));
  };
  process.on('SIGINT', onSigint);
  const code = await runCli(process.argv.slice(2), {
    env: process.env,
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    signal: controller.signal,
  });
  process.off('SIGINT', onSigint);
  // Flush stdout before exiting: pending SDK sockets or timers must not keep the process alive.
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  process.exit(code);
}

void main();
