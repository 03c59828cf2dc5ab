#!/usr/bin/env node
/**
 * The `zonekeeper` executable: runs {@link runCli} with the process's arguments, environment and
 * streams. The first SIGINT or SIGTERM aborts the running operation — its abort reason (an `AbortError`
 * `DOMException`) carries `signal: 'SIGINT' | 'SIGTERM'` — and the command exits once it has stopped:
 * 130 for an interrupted operation, 0 for `gc run --watch` stopped by SIGTERM (a service being shut
 * down). A second signal exits at once (130, or 143 for SIGTERM).
 *
 * @packageDocumentation
 */

import { runCli } from './program.js';

async function main(): Promise<void> {
  const controller = new AbortController();
  let signals = 0;
  const onSignal = (name: 'SIGINT' | 'SIGTERM') => () => {
    signals += 1;
    if (signals > 1) process.exit(name === 'SIGTERM' ? 143 : 130);
    process.stderr.write(
      name === 'SIGINT'
        ? 'zonekeeper: interrupted, stopping (press Ctrl-C again to exit at once)…\n'
        : 'zonekeeper: terminated (SIGTERM), stopping…\n',
    );
    const reason = new DOMException(
      `${name === 'SIGINT' ? 'Interrupted' : 'Terminated'} by ${name}.`,
      'AbortError',
    );
    controller.abort(Object.assign(reason, { signal: name }));
  };
  const onSigint = onSignal('SIGINT');
  const onSigterm = onSignal('SIGTERM');
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  const code = await runCli(process.argv.slice(2), {
    env: process.env,
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    signal: controller.signal,
  });
  process.off('SIGINT', onSigint);
  process.off('SIGTERM', onSigterm);
  // Flush stdout before exiting: pending SDK sockets or timers must not keep the process alive.
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  process.exit(code);
}

void main();
