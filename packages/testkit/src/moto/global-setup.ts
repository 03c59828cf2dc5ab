/**
 * A Vitest global setup that shares one moto server per test run.
 *
 * @packageDocumentation
 */

import { invalidInput } from '@zonekeeper/core';
import { type MotoOptions, type MotoServer, startMoto } from './server.js';

/**
 * The part of Vitest's `TestProject` that {@link createMotoGlobalSetup} uses. Vitest passes its
 * `TestProject`, which fits this shape.
 * @public
 */
export interface MotoGlobalSetupProject {
  /** Makes `value` available to test files through `inject(key)`. */
  provide(key: string, value: unknown): void;
}

/**
 * Options of {@link createMotoGlobalSetup}: everything {@link startMoto} takes, plus the key under
 * which the endpoint is provided.
 * @public
 */
export interface MotoGlobalSetupOptions extends MotoOptions {
  /** The `provide`/`inject` key of the endpoint URL (default `'motoEndpoint'`). */
  readonly provideKey?: string;
  /** Called with the started server, e.g. to seed state or log the endpoint (default: nothing). */
  readonly onStarted?: (server: MotoServer) => void | Promise<void>;
}

/**
 * What {@link createMotoGlobalSetup} returns: a Vitest global-setup function. It starts moto,
 * provides its endpoint, and returns the teardown that stops it.
 * @public
 */
export type MotoGlobalSetup = (project: MotoGlobalSetupProject) => Promise<() => Promise<void>>;

/**
 * Creates a Vitest global setup that starts one moto server for the whole run, provides its endpoint
 * as `inject('motoEndpoint')` (see `provideKey`), and stops it in teardown. A failure to start fails
 * the run loudly (the error names `pip install "moto[server]"`).
 *
 * Test files then share one server: give resources unique names, or call
 * `resetMoto(inject('motoEndpoint'))` in a `beforeEach` (only safe when files do not run in parallel).
 *
 * @example
 * ```ts
 * // packages/<name>/test/moto-global-setup.ts, listed in the project's `test.globalSetup`
 * import { createMotoGlobalSetup } from '@zonekeeper/testkit/moto';
 * export const setup = createMotoGlobalSetup();
 *
 * // in a test file
 * import { inject } from 'vitest';
 * declare module 'vitest' { export interface ProvidedContext { motoEndpoint: string } }
 * const endpoint = inject('motoEndpoint');
 * ```
 * @public
 */
export function createMotoGlobalSetup(options: MotoGlobalSetupOptions = {}): MotoGlobalSetup {
  const { provideKey = 'motoEndpoint', onStarted, ...motoOptions } = options;
  if (provideKey.trim() === '') throw invalidInput('moto: provideKey must be a non-empty string.');
  return async (project) => {
    const server = await startMoto(motoOptions);
    try {
      await onStarted?.(server);
      project.provide(provideKey, server.endpoint);
    } catch (error) {
      await server.stop();
      throw error;
    }
    return () => server.stop();
  };
}
