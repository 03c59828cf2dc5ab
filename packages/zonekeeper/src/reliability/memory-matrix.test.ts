import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Backend, memoryBackend } from './backends.test.support.js';
import { CRASH_MODES } from './harness.test.support.js';
import { baseline, crashMatrix, type MatrixEnvironment, report, SecretWatch } from './matrix.test.support.js';
import { ALL_SCENARIOS, KEYLESS_SCENARIOS } from './scenarios.test.support.js';

let env: MatrixEnvironment;
let backend: Backend;
beforeAll(() => {
  backend = memoryBackend();
  env = { backend, watch: new SecretWatch(), lines: [] };
});
afterAll(async () => {
  await backend.stop();
});

describe('crash matrix on the memory backend', () => {
  for (const scenario of [...ALL_SCENARIOS, ...KEYLESS_SCENARIOS]) {
    it(`${scenario.name}: a crash after every write, in every mode, then a re-run converges`, async () => {
      const { outcome, problems } = await baseline(env, scenario);
      expect(problems).toEqual([]);
      expect(outcome.writes.length).toBeGreaterThan(2);
      // The keyless scenarios crash after their role, provider and association writes too.
      if (KEYLESS_SCENARIOS.includes(scenario))
        expect(outcome.writes.some((w) => w.port === 'roles' || w.port === 'podIdentity')).toBe(true);
      const failures: string[] = [];
      for (const mode of CRASH_MODES) {
        const { figures, failures: f } = await crashMatrix(env, scenario, outcome, mode);
        failures.push(...f);
        expect(figures.survived + f.length).toBe(outcome.writes.length);
        report({ suite: 'crash', ...figures });
      }
      expect(failures).toEqual([]);
    });
  }

  it('never logged or threw a secret, a private key or a token', () => {
    expect(env.watch.leaks(env.lines)).toEqual([]);
    expect(env.watch.secretsWatched).toBeGreaterThan(0);
  });
});
