/** `pnpm demo --help` and a mistyped option answer with the usage (the entry point run by Node through tsx). */

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const demoRoot = fileURLToPath(new URL('../', import.meta.url));

function demo(...args: string[]) {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--conditions=@zonekeeper/source', 'src/main.ts', ...args],
    { cwd: demoRoot, encoding: 'utf8', timeout: 60_000 },
  );
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('pnpm demo', () => {
  it('--help (after the `--` pnpm forwards) prints the usage and exits 0', () => {
    for (const args of [['--help'], ['--', '-h']]) {
      const r = demo(...args);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^Usage: pnpm demo \[--backend memory\|emulators\|powerdns\]/);
      expect(r.stdout).toContain('--backend powerdns');
      expect(r.stdout).toContain('--backend emulators');
    }
  });

  it('an unknown option or a missing value is a usage error (exit 2), not a stack trace', () => {
    for (const [args, message] of [
      [['--frob'], "Unknown option '--frob'"],
      [['--backend'], "Option '--backend <value>' argument missing"],
    ] as const) {
      const r = demo(...args);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`demo: ${message}`);
      expect(r.stderr).toContain('Usage: pnpm demo');
      expect(r.stderr).not.toMatch(/^\s+at /m);
    }
  });
});
