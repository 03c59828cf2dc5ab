/**
 * `zonekeeper dev`, in-process: bad input is refused before anything is started or written, and the
 * commands that need a backend say how to start one.
 */

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { json, run } from './cli.test.support.js';

const work = mkdtempSync(join(tmpdir(), 'zk-dev-unit-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('zonekeeper dev (in-process)', () => {
  it('bad --clusters or --base-domain: exit 2, nothing started, no directory created', async () => {
    for (const args of [
      ['--clusters', 'Bad_Id'],
      ['--clusters', 'dev-1,dev-1'],
      ['--clusters', ''],
      ['--base-domain', 'not a domain'],
    ]) {
      const dir = join(work, 'never');
      const r = await run(['dev', 'up', '--dir', dir, ...args, '--json'], {});
      expect(r.code, r.stderr).toBe(2);
      expect(json(r).error?.code).toBe('INVALID_INPUT');
      expect(existsSync(dir)).toBe(false);
    }
  });

  it('status and env without a backend: NOT_FOUND (exit 3) naming dev up; down: nothing to stop (exit 0)', async () => {
    const dir = join(work, 'empty');
    for (const command of ['status', 'env']) {
      const r = await run(['dev', command, '--dir', dir], {});
      expect(r.code).toBe(3);
      expect(r.stderr).toContain(`No local backend in ${dir}`);
      expect(r.stderr).toContain("'zonekeeper dev up'");
    }
    const down = await run(['dev', 'down', '--dir', dir], {});
    expect(down.code, down.stderr).toBe(0);
    expect(down.stderr).toMatch(/nothing to stop/);
  });

  it('the directory comes from ZONEKEEPER_DEV_DIR when --dir is absent', async () => {
    const dir = join(work, 'from-env');
    const r = await run(['dev', 'status'], { ZONEKEEPER_DEV_DIR: dir });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`No local backend in ${dir}`);
  });
});
