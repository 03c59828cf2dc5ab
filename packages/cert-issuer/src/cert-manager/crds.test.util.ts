/**
 * cert-manager's and approver-policy's CRDs for tests, taken from their Go module source zips through
 * the Go module proxy into the Go module cache (`go mod download`), so nothing of theirs is vendored
 * here. A machine without Go or without the proxy fails loudly with the command to run.
 */
import { execFile } from 'node:child_process';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { APPROVER_POLICY_VERSION, CERT_MANAGER_VERSION } from './render.js';

/** The CRD files the tests apply, per module (paths inside the module's source). */
const MODULES = [
  {
    module: 'github.com/cert-manager/cert-manager',
    version: CERT_MANAGER_VERSION,
    files: ['deploy/crds/cert-manager.io_issuers.yaml', 'deploy/crds/cert-manager.io_certificates.yaml'],
  },
  {
    module: 'github.com/cert-manager/approver-policy',
    version: APPROVER_POLICY_VERSION,
    files: ['deploy/crds/policy.cert-manager.io_certificaterequestpolicies.yaml'],
  },
] as const;

/** The commands that put the CRDs into the Go module cache (what the error messages name). */
export const CRD_DOWNLOAD_COMMANDS: readonly string[] = MODULES.map(
  (m) => `go mod download -json ${m.module}@${m.version}`,
);

function goModDownload(module: string, version: string): Promise<string> {
  const command = `go mod download -json ${module}@${version}`;
  return new Promise((resolve, reject) => {
    // Outside any module, so that no go.mod is read or changed; GOFLAGS=-mod=mod is not needed.
    execFile(
      'go',
      ['mod', 'download', '-json', `${module}@${version}`],
      { timeout: 300_000, encoding: 'utf8', cwd: '/', env: { ...process.env, GO111MODULE: 'on' } },
      (error, stdout, stderr) => {
        if (error !== null) {
          const why =
            (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'Go is not installed' : stderr || stdout;
          reject(
            new Error(
              `The cert-manager CRDs are missing: \`${command}\` failed (${why.trim()}). Run it with Go and network access to the module proxy.`,
            ),
          );
          return;
        }
        try {
          const dir = (JSON.parse(stdout) as { Dir?: string }).Dir;
          if (typeof dir !== 'string') throw new Error('no Dir');
          resolve(dir);
        } catch {
          reject(new Error(`\`${command}\` printed no module directory: ${stdout.slice(0, 300)}`));
        }
      },
    );
  });
}

/** The paths of the CRD files, downloading the two modules' sources into the Go module cache if needed. */
export async function certManagerCrdFiles(): Promise<readonly string[]> {
  const paths: string[] = [];
  for (const m of MODULES) {
    const dir = await goModDownload(m.module, m.version);
    for (const file of m.files) {
      const path = join(dir, file);
      await access(path).catch(() => {
        throw new Error(
          `${m.module}@${m.version} has no ${file}; the module's layout changed (update crds.test.util.ts).`,
        );
      });
      paths.push(path);
    }
  }
  return paths;
}
