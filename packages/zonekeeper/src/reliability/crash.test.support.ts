/**
 * Test support (not shipped): a pool of emulator backends (each its own moto, Vault fake, proxies and
 * clusters), so independent crash matrices run concurrently in one test file: the cases are bound by
 * the emulators' latency, not by CPU.
 */

import { type EmulatorBackend, emulatorBackend } from './backends.test.support.js';

export interface BackendPool {
  /** Runs `fn` with a backend no other caller holds meanwhile. */
  use<T>(fn: (backend: EmulatorBackend) => Promise<T>): Promise<T>;
  readonly backends: readonly EmulatorBackend[];
  stop(): Promise<void>;
}

export async function startBackendPool(size: number, seed: string): Promise<BackendPool> {
  const started = await Promise.allSettled(
    Array.from({ length: size }, (_, i) => emulatorBackend({ seed: `${seed}-${i}` })),
  );
  const backends = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await Promise.all(backends.map((b) => b.stop()));
    throw failed.reason;
  }
  const free = [...backends];
  const waiting: ((b: EmulatorBackend) => void)[] = [];
  const release = (b: EmulatorBackend) => {
    const next = waiting.shift();
    if (next) next(b);
    else free.push(b);
  };
  return {
    backends,
    async use(fn) {
      const backend = free.pop() ?? (await new Promise<EmulatorBackend>((resolve) => waiting.push(resolve)));
      try {
        return await fn(backend);
      } finally {
        release(backend);
      }
    },
    async stop() {
      await Promise.all(backends.map((b) => b.stop()));
    },
  };
}
