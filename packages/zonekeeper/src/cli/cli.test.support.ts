/**
 * Test support for the CLI tests (not shipped): run the command in-process with captured output.
 */

import { type RunCliOptions, runCli } from './program.js';
import type { CliEnv } from './settings.js';

/** What one in-process run printed and returned. */
export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Every run of a test file, so a final check can search all output for secrets. */
export const allRuns: CliRun[] = [];

/** Runs `zonekeeper <argv>` in-process; records the run in {@link allRuns}. */
export async function run(
  argv: readonly string[],
  env: CliEnv,
  extra: Partial<Omit<RunCliOptions, 'env' | 'stdout' | 'stderr'>> = {},
): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    env,
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    ...extra,
  });
  const result = { code, stdout, stderr };
  allRuns.push(result);
  return result;
}

/** The JSON document of a `--json` run; tests read the result freely. */
export interface JsonDocument {
  readonly ok: boolean;
  readonly command?: string;
  readonly exitCode: number;
  // biome-ignore lint/suspicious/noExplicitAny: tests inspect the document's shape directly.
  readonly result?: any;
  readonly error?: { readonly code: string; readonly message: string };
}

/** Parses the one JSON document of a `--json` run (throws if stdout holds anything else). */
export function json(r: CliRun): JsonDocument {
  return JSON.parse(r.stdout) as JsonDocument;
}

/** The whole text of every run so far. */
export function everything(): string {
  return allRuns.map((r) => `${r.stdout}\n${r.stderr}`).join('\n');
}
