import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));

describe('the quickstart', () => {
  it('runs on the memory backend and prints the whole story, without a secret', {
    timeout: 120_000,
  }, async () => {
    // Exactly what `pnpm start` does: tsx with the source condition, in a process of its own.
    const { stdout, stderr } = await run(
      process.execPath,
      ['--import', 'tsx', '--conditions=@zonekeeper/source', 'src/main.ts'],
      { cwd: root, env: { ...process.env, NODE_NO_WARNINGS: '1' }, timeout: 110_000 },
    );
    expect(stderr).toBe('');
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^zone acme\.example\.com \(Z[0-9A-Z]+\), delegated to (ns-[\w.-]+(, )?){4}$/);
    expect(lines[1]).toMatch(/^identity zk-[0-9a-f]{8}\.acme, access key \*{8}[A-Z0-9]{4} stored/);
    expect(lines[2]).toBe(
      'planned and applied: create-zone, tag-zone, upsert-delegation, create-user, put-policy, issue-key, create-ca',
    );
    expect(lines[3]).toBe('ensureOrganization again: nothing to do (converged)');
    expect(lines[4]).toBe(
      'ExternalDNS on prod-1: applied Namespace, ServiceAccount, ClusterRole, ClusterRoleBinding, Secret, Deployment; 1 replica available',
    );
    expect(lines[5]).toMatch(
      /^certificate web: www\.acme\.example\.com, \*\.apps\.acme\.example\.com, valid until /,
    );
    expect(lines[6]).toMatch(/^detached prod-1: removed .*Deployment.*Namespace/);
    expect(lines[7]).toBe('collector: acme.example.com delete (FREE_DELETION_WINDOW) → deleted');
    expect(lines[8]).toBe('managed zones left: 0');
    expect(lines).toHaveLength(9);
    // Keys are masked, private keys never printed.
    expect(stdout).not.toMatch(/AKIA[A-Z0-9]{16}/);
    expect(stdout).not.toContain('PRIVATE KEY');
  });
});

describe('docs/quickstart.md', () => {
  it('shows in-twenty-lines.ts verbatim, and it runs as its comments say', { timeout: 120_000 }, async () => {
    const snippet = await readFile(new URL('./in-twenty-lines.ts', import.meta.url), 'utf8');
    const doc = await readFile(new URL('../../../docs/quickstart.md', import.meta.url), 'utf8');
    expect(doc).toContain(`\`\`\`ts\n${snippet}\`\`\``);
    expect(snippet.trimEnd().split('\n').length).toBeLessThanOrEqual(21);
    const { stdout, stderr } = await run(
      process.execPath,
      ['--import', 'tsx', '--conditions=@zonekeeper/source', 'src/in-twenty-lines.ts'],
      { cwd: root, env: { ...process.env, NODE_NO_WARNINGS: '1' }, timeout: 110_000 },
    );
    expect(stderr).toBe('');
    expect(stdout).toBe(
      "acme.example.com 4\n1 [ 'www.acme.example.com' ]\n[ 'delete FREE_DELETION_WINDOW' ]\n",
    );
  });
});
