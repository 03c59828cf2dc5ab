/**
 * moto server lifecycle for tests: start `python3 -m moto.server` on 127.0.0.1, reset its state, stop
 * it reliably, check that no server is left behind, and share one server per Vitest run.
 *
 * @packageDocumentation
 */

export type {
  MotoGlobalSetup,
  MotoGlobalSetupOptions,
  MotoGlobalSetupProject,
} from './global-setup.js';
export { createMotoGlobalSetup } from './global-setup.js';
export type { ListMotoProcessesOptions, MotoProcessInfo } from './processes.js';
export { isProcessRunning, listMotoProcesses } from './processes.js';
export type { MotoOptions, MotoServer } from './server.js';
export { motoInstallHint, resetMoto, startMoto } from './server.js';
