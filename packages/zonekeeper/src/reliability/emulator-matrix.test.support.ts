/**
 * Test support (not shipped): the crash matrix on the emulators for one crash mode — moto behind the
 * fault proxy (Route 53, IAM), the Vault fake behind a second proxy, a Kubernetes API fake per cluster
 * through the production adapter. Every side-effecting call of every scenario (ensureOrganization,
 * attachCluster in both identity scopes, rotateCredentials, detachCluster, a garbage-collection
 * deletion) is followed by a crash in that mode; a re-run must reach the uninterrupted run's end state
 * and satisfy every invariant. One file per mode (`crash-matrix-<mode>.test.ts`), so the four run side
 * by side on separate workers. See docs/reliability.md.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BackendPool, startBackendPool } from './crash.test.support.js';
import type { CrashMode } from './harness.test.support.js';
import { baseline, crashMatrix, type MatrixEnvironment, report, SecretWatch } from './matrix.test.support.js';
import { ALL_SCENARIOS } from './scenarios.test.support.js';

/** Registers the matrix of one crash mode, on a pool of `backends` emulator backends. */
export function emulatorCrashMatrix(mode: CrashMode, backends = 2): void {
  const watch = new SecretWatch();
  const lines: string[] = [];
  let pool: BackendPool;

  beforeAll(async () => {
    pool = await startBackendPool(backends, `crash-matrix-${mode}`);
    for (const b of pool.backends) watch.add(b.vault.rootToken);
  });
  afterAll(async () => {
    await pool?.stop();
  });

  describe.concurrent(`crash matrix on moto + the Vault fake + the Kubernetes fakes (${mode})`, () => {
    for (const scenario of ALL_SCENARIOS) {
      it(`${scenario.name}: ${mode} after every write, then a re-run, converges`, async () => {
        await pool.use(async (backend) => {
          const env: MatrixEnvironment = { backend, watch, lines };
          const { outcome, problems } = await baseline(env, scenario);
          expect(problems).toEqual([]);
          expect(outcome.writes.length).toBeGreaterThan(2);
          const { figures, failures } = await crashMatrix(env, scenario, outcome, mode);
          report({ suite: 'crash', ...figures });
          expect(failures).toEqual([]);
          expect(figures.survived).toBe(outcome.writes.length);
        });
        // The timeout counts the wait for a free backend of the pool too (six cases share two): it is
        // the file's budget, not one case's.
      }, 900_000);
    }
  });

  describe(`secrets across the crash matrix (${mode})`, () => {
    it('no log line (any level) and no thrown error holds a secret access key, a private key or a Vault token', () => {
      expect(watch.leaks(lines)).toEqual([]);
      expect(watch.secretsWatched).toBeGreaterThan(10);
      expect(lines.length).toBeGreaterThan(100);
      report({
        suite: 'secrets',
        file: `crash-matrix-${mode}`,
        lines: watch.linesScanned,
        errors: watch.errorsScanned,
        results: watch.resultsScanned,
        secrets: watch.secretsWatched,
      });
    });
  });
}
