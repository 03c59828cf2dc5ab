import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Backend, memoryBackend } from './backends.test.support.js';
import { CRASH_MODES } from './harness.test.support.js';
import { baseline, crashMatrix, type MatrixEnvironment, report, SecretWatch } from './matrix.test.support.js';
import {
  ALL_SCENARIOS,
  attachCertManagerScenario,
  KEYLESS_SCENARIOS,
  MEMORY_ONLY_SCENARIOS,
} from './scenarios.test.support.js';

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
  for (const scenario of [...ALL_SCENARIOS, ...KEYLESS_SCENARIOS, ...MEMORY_ONLY_SCENARIOS]) {
    it(`${scenario.name}: a crash after every write, in every mode, then a re-run converges`, async () => {
      const { outcome, problems } = await baseline(env, scenario);
      expect(problems).toEqual([]);
      expect(outcome.writes.length).toBeGreaterThan(2);
      if (scenario === attachCertManagerScenario) {
        // The end state the crashed runs must reach holds the issuers and the ACME key, as stored.
        const c1 = (outcome.world.normalised as { clusters: Record<string, Record<string, unknown>> })
          .clusters.c1;
        expect(Object.keys(c1 ?? {})).toEqual(
          expect.arrayContaining([
            'Issuer/web/zonekeeper-acme',
            'CertificateRequestPolicy//zonekeeper-acme',
            'RoleBinding/web/zonekeeper-certificate-policy',
          ]),
        );
        expect(c1?.['Secret/web/zonekeeper-ca']).toMatchObject({
          certificate: expect.stringMatching(/stored at .*\/orgs\/acme\/tls\/cert-manager-ca$/),
        });
        expect(Object.keys(c1 ?? {})).toContain('Issuer/web/zonekeeper-ca');
        expect(c1?.['Secret/web/zonekeeper-acme-route53']).toMatchObject({
          credentials: expect.stringMatching(
            /the key stored at .*\/orgs\/acme\/acme-challenge\/aws-access-key$/,
          ),
        });
      }
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
