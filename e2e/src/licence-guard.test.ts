/**
 * `@cloud-copilot/iam-simulate` is AGPL-3.0-or-later: it may be used by tests (devDependencies) and by
 * this private package, never by a published one.
 */

import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './external-dns/binary.js';

interface Manifest {
  name: string;
  private?: boolean;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

describe('the AGPL simulator', () => {
  it('is a runtime dependency of private packages only', async () => {
    const dirs = ['packages', 'examples'];
    const manifests: Manifest[] = [
      JSON.parse(await readFile(join(REPO_ROOT, 'e2e', 'package.json'), 'utf8')),
    ];
    for (const dir of dirs) {
      for (const entry of await readdir(join(REPO_ROOT, dir), { withFileTypes: true })) {
        if (!entry.isDirectory()) continue;
        manifests.push(JSON.parse(await readFile(join(REPO_ROOT, dir, entry.name, 'package.json'), 'utf8')));
      }
    }
    const runtime = (m: Manifest) =>
      Object.keys({ ...m.dependencies, ...m.peerDependencies, ...m.optionalDependencies });
    const users = manifests.filter((m) => runtime(m).includes('@cloud-copilot/iam-simulate'));
    expect(users.map((m) => m.name)).toContain('@zonekeeper-e2e/e2e');
    expect(users.filter((m) => m.private !== true).map((m) => m.name)).toEqual([]);
  });
});
