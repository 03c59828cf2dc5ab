/**
 * Files of Go modules (e.g. an operator's CRDs under `deploy/crds/`), taken from their source zips
 * through the Go module proxy into the Go module cache (`go mod download`), so nothing of theirs is
 * vendored. A machine without Go or without the proxy fails loudly with the command to run.
 *
 * @packageDocumentation
 */

import { execFile } from 'node:child_process';
import { access } from 'node:fs/promises';
import { join } from 'node:path';

/** Files of one module at one version (paths inside the module's source). @public */
export interface GoModuleFiles {
  readonly module: string;
  readonly version: string;
  readonly files: readonly string[];
}

/** The command that puts a module into the Go module cache (what the error messages name). @public */
export function goModDownloadCommand(m: Pick<GoModuleFiles, 'module' | 'version'>): string {
  return `go mod download -json ${m.module}@${m.version}`;
}

function goModDownload(module: string, version: string): Promise<string> {
  const command = goModDownloadCommand({ module, version });
  return new Promise((resolve, reject) => {
    // Outside any module, so that no go.mod is read or changed.
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
              `${module}@${version} is missing: \`${command}\` failed (${why.trim()}). Run it with Go and network access to the module proxy.`,
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

/**
 * The paths of the files, downloading each module's source into the Go module cache if needed.
 * @throws when Go or the proxy is unavailable, or a module lacks a file (its layout changed).
 * @public
 */
export async function goModuleFiles(modules: readonly GoModuleFiles[]): Promise<readonly string[]> {
  const paths: string[] = [];
  for (const m of modules) {
    const dir = await goModDownload(m.module, m.version);
    for (const file of m.files) {
      const path = join(dir, file);
      await access(path).catch(() => {
        throw new Error(`${m.module}@${m.version} has no ${file}; the module's layout changed.`);
      });
      paths.push(path);
    }
  }
  return paths;
}
