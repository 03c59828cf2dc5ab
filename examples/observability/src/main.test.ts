import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));

describe('the observability example', () => {
  it('logs with pino inside the spans, prints one trace per operation and the metrics, offline', {
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
    const traces = lines.indexOf('--- traces ---');
    const metrics = lines.indexOf('--- metrics ---');
    expect(traces).toBeGreaterThan(0);
    expect(metrics).toBeGreaterThan(traces);

    // Every zonekeeper log line is pino JSON carrying the trace and span of the operation it came from.
    const logs = lines.slice(0, traces).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logs.some((l) => String(l.msg).includes('created zone'))).toBe(true);
    for (const l of logs) {
      expect(l.service).toBe('platform-api');
      expect(l.trace_id).toMatch(/^[0-9a-f]{32}$/);
      expect(l.span_id).toMatch(/^[0-9a-f]{16}$/);
    }
    expect(new Set(logs.map((l) => l.trace_id)).size).toBeGreaterThanOrEqual(2);

    const roots = lines.slice(traces + 1, metrics).filter((l) => !l.startsWith(' '));
    expect(roots.map((l) => l.replace(/ \[.*$/, ''))).toEqual([
      'zonekeeper.ensureOrganization acme',
      'zonekeeper.attachCluster acme',
      'zonekeeper.detachCluster acme',
      'zonekeeper.collectGarbage',
    ]);
    for (const l of roots)
      expect(l).toMatch(/\[ok\]: ((dns|identity|secrets|cluster|inventory|roles|podIdentity) \d+(, )?)+$/);
    expect(roots[1]).toMatch(/cluster \d+/);
    expect(lines.slice(traces + 1, metrics)).toContain(
      '  event zonekeeper.gc.decision FREE_DELETION_WINDOW → deleted',
    );
    expect(lines.slice(metrics + 1)).toContain(
      'zonekeeper.operations{zonekeeper.operation=attachCluster,zonekeeper.outcome=success,zonekeeper.dry_run=false} 1',
    );
    expect(lines.slice(metrics + 1)).toContain(
      'zonekeeper.gc.decisions{zonekeeper.gc.action=delete,zonekeeper.gc.reason=FREE_DELETION_WINDOW,zonekeeper.dry_run=false,zonekeeper.gc.outcome=deleted} 1',
    );
    // Keys are masked, private keys never printed.
    expect(stdout).not.toMatch(/AKIA[A-Z0-9]{16}/);
    expect(stdout).not.toContain('PRIVATE KEY');
  });
});
