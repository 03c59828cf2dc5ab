/**
 * The crash matrix of the reliability suite (issue 6), on moto behind the fault proxy (Route 53, IAM)
 * and the Vault fake behind a second proxy, with memory clusters behind a fault-injecting wrapper: every
 * side-effecting call of ensureOrganization, attachCluster (both identity scopes), rotateCredentials,
 * detachCluster and a garbage-collection deletion is followed, in turn, by a crash in three modes; a
 * re-run must reach the uninterrupted run's end state and satisfy every invariant. See docs/reliability.md.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BackendPool, startBackendPool } from './crash.test.support.js';
import { CRASH_MODES } from './harness.test.support.js';
import { baseline, crashMatrix, type MatrixEnvironment, report, SecretWatch } from './matrix.test.support.js';
import { ALL_SCENARIOS } from './scenarios.test.support.js';

const watch = new SecretWatch();
const lines: string[] = [];
let pool: BackendPool;

beforeAll(async () => {
  pool = await startBackendPool(3, 'crash-matrix');
  for (const b of pool.backends) watch.add(b.vault.rootToken);
});
afterAll(async () => {
  await pool?.stop();
});

describe.concurrent('crash matrix on moto + the Vault fake', () => {
  for (const scenario of ALL_SCENARIOS) {
    for (const mode of CRASH_MODES) {
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
      }, 300_000);
    }
  }
});

describe('secrets across the crash matrix', () => {
  it('no log line (any level) and no thrown error holds a secret access key, a private key or a Vault token', () => {
    expect(watch.leaks(lines)).toEqual([]);
    expect(watch.secretsWatched).toBeGreaterThan(10);
    expect(lines.length).toBeGreaterThan(100);
    report({
      suite: 'secrets',
      file: 'crash-matrix',
      lines: watch.linesScanned,
      errors: watch.errorsScanned,
      results: watch.resultsScanned,
      secrets: watch.secretsWatched,
    });
  });
});
