/**
 * The test projects of the zonekeeper monorepo.
 *
 * Vitest 4 no longer reads workspace files on its own, so this file is the *root config*: the `test`
 * script runs `vitest run --config vitest.workspace.ts`. Deleting or breaking it breaks `pnpm test`.
 *
 * One project per workspace package (`packages/*`, `examples/*`, and the top-level `e2e` package of
 * end-to-end scenarios) that has tests. Projects inherit
 * the options below (`extends: true`); workspace packages resolve to their TypeScript sources through
 * the `@zonekeeper/source` export condition, so no build is needed before testing.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

const root = new URL('.', import.meta.url).pathname;

function hasTests(dir: string): boolean {
  const walk = (d: string): boolean =>
    readdirSync(d, { withFileTypes: true }).some((e) =>
      e.isDirectory()
        ? e.name !== 'node_modules' && e.name !== 'dist' && walk(join(d, e.name))
        : e.name.endsWith('.test.ts'),
    );
  return existsSync(dir) && walk(dir);
}

const projectDirs = [
  ...['packages', 'examples'].flatMap((group) =>
    readdirSync(join(root, group), { withFileTypes: true })
      .filter((d) => d.isDirectory() && hasTests(join(root, group, d.name, 'src')))
      .map((d) => ({ group, name: d.name })),
  ),
  // Top-level packages: the project is named after the folder (`e2e`).
  ...['e2e'].filter((name) => hasTests(join(root, name, 'src'))).map((name) => ({ group: '.', name })),
];

/**
 * Packages whose whole suite runs again under other host time zones: their results must not depend on
 * the host's zone (billing is computed in UTC). Each extra run is its own project, e.g.
 * `gc-policy (TZ=Pacific/Kiritimati)`, and asserts that the zone really took effect.
 */
const timeZoneRuns: Record<string, readonly string[]> = {
  'gc-policy': ['Pacific/Kiritimati', 'America/Los_Angeles'],
};

export default defineConfig({
  // Do NOT add 'module' here: it sends @aws-sdk/* to their bundler-only dist-es builds.
  ssr: { resolve: { conditions: ['@zonekeeper/source'] } },
  test: {
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two files at a time even on 2 cores (Vitest's default there is one): most test time is spent
    // waiting on servers and binaries (moto, PowerDNS, Pebble, ExternalDNS, kube-apiserver), not on
    // the CPU. ZONEKEEPER_TEST_WORKERS overrides it.
    maxWorkers: Number(process.env.ZONEKEEPER_TEST_WORKERS) || 2,
    projects: projectDirs.flatMap(({ group, name }) => {
      const project = {
        extends: true as const,
        test: {
          name: group === 'packages' || group === '.' ? name : `${group}/${name}`,
          root: join(root, group, name),
          include: ['src/**/*.test.ts'],
        },
      };
      const zones = (group === 'packages' && timeZoneRuns[name]) || [];
      return [
        project,
        ...zones.map((tz) => ({
          ...project,
          test: { ...project.test, name: `${name} (TZ=${tz})`, env: { TZ: tz, ZONEKEEPER_EXPECTED_TZ: tz } },
        })),
      ];
    }),
    coverage: {
      provider: 'v8',
      include: ['packages/*/src/**/*.ts'],
      exclude: ['**/*.test.ts'],
      reporter: ['text', 'lcov'],
    },
  },
});
