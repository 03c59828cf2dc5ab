/**
 * Finds the ExternalDNS binary of the version the deployer renders, or fails loudly with the command
 * that builds it. Never skips: a scenario without the binary is a failed scenario.
 */

import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { EXTERNAL_DNS_VERSION } from '@zonekeeper/externaldns-deployer';

/** The repository root (e2e/src/external-dns → ../../..). */
export const REPO_ROOT: string = new URL('../../..', import.meta.url).pathname.replace(/\/$/, '');

/** The command that builds the binary (idempotent; reuses a built one). */
export const BUILD_COMMAND = 'bash .ci/build-external-dns.sh';

/** Where the binary is looked for, in order. */
export function binaryCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  const name = `external-dns-${EXTERNAL_DNS_VERSION}`;
  return [
    ...(env.ZONEKEEPER_EXTERNAL_DNS ? [env.ZONEKEEPER_EXTERNAL_DNS] : []),
    ...(env.ZONEKEEPER_CACHE_DIR ? [join(env.ZONEKEEPER_CACHE_DIR, 'bin', name)] : []),
    join(REPO_ROOT, '.cache', 'bin', name),
  ];
}

let found: Promise<string> | undefined;

/**
 * The path of ExternalDNS {@link EXTERNAL_DNS_VERSION}: `$ZONEKEEPER_EXTERNAL_DNS`, else
 * `$ZONEKEEPER_CACHE_DIR/bin/external-dns-<version>`, else `<repo>/.cache/bin/external-dns-<version>`.
 * Throws, naming {@link BUILD_COMMAND}, when none exists or the one found reports another version.
 */
export function externalDnsBinary(): Promise<string> {
  found ??= (async () => {
    const candidates = binaryCandidates();
    for (const path of candidates) {
      try {
        await access(path, constants.X_OK);
      } catch {
        continue;
      }
      const { stdout, stderr } = await promisify(execFile)(path, ['--version'], { timeout: 30_000 });
      const reported = `${stdout}${stderr}`.trim(); // kingpin prints the version on stderr
      if (reported !== EXTERNAL_DNS_VERSION) {
        throw new Error(
          `${path} is ExternalDNS ${reported}, but the deployer renders ${EXTERNAL_DNS_VERSION}. Build the right one with: ${BUILD_COMMAND}`,
        );
      }
      return path;
    }
    throw new Error(
      `The ExternalDNS ${EXTERNAL_DNS_VERSION} binary is missing (looked at ${candidates.join(', ')}). Build it with: ${BUILD_COMMAND} (from the repository root; Go >= 1.26.6 and the Go module proxy are needed), or point ZONEKEEPER_EXTERNAL_DNS at one.`,
    );
  })();
  found.catch(() => {
    found = undefined;
  });
  return found;
}
