import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));

describe('the custom DNS provider example', () => {
  it('runs the zone operations and the facade on the REST provider', { timeout: 120_000 }, async () => {
    const { stdout, stderr } = await run(
      process.execPath,
      ['--import', 'tsx', '--conditions=@zonekeeper/source', 'src/main.ts'],
      { cwd: root, env: { ...process.env, NODE_NO_WARNINGS: '1' }, timeout: 110_000 },
    );
    expect(stderr).toBe('');
    expect(stdout).toMatch(/^REST DNS API \(in-process fake\) at http:\/\/127\.0\.0\.1:\d+$/m);
    expect(stdout).toContain('ensureOrganizationZone(acme): create-zone, tag-zone, upsert-delegation');
    expect(stdout).toContain('ensureOrganizationZone(acme) again: nothing to do (converged)');
    expect(stdout).toMatch(/^managed zones: acme\.example\.com \(acme, created \d{4}-/m);
    expect(stdout).toContain('deleteOrganizationZone: delete-delegation, delete-zone');
    expect(stdout).toMatch(
      /ensureOrganization\(globex\) on the REST provider: zone globex\.example\.com, identity zk-/,
    );
    expect(stdout).toMatch(/^\(the API served \d+ requests\)$/m);
  });
});
