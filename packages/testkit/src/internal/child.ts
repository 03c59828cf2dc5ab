/**
 * What testkit's server modules (moto, PowerDNS, Pebble) do alike with the child process they start:
 * how it ended, stopping it (SIGTERM, then SIGKILL), and whether `setpriv` can tie it to our life.
 *
 * @internal
 * @packageDocumentation
 */

import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';

/** How a child process ended. */
export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Sends SIGTERM, then SIGKILL after `graceMs`; resolves once the child has exited and been reaped. */
export async function terminate(
  child: ChildProcess,
  exited: Promise<ExitInfo>,
  graceMs: number,
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([
    exited.then(() => false),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), graceMs);
    }),
  ]);
  clearTimeout(timer);
  if (timedOut && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await exited;
}

let setprivChecked: boolean | undefined;

/** Whether util-linux's `setpriv` is installed (it gives a child `--pdeathsig KILL`). Checked once. */
export function hasSetpriv(): boolean {
  setprivChecked ??= ['/usr/bin/setpriv', '/bin/setpriv'].some((p) => existsSync(p));
  return setprivChecked;
}
