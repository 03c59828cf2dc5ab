/** The emulator backend of the demo: moto, the testkit Vault and Kubernetes fakes, real clients. */
import type { StoryContext } from './story.js';

export interface Emulators extends AsyncDisposable {
  readonly context: Omit<StoryContext, 'print'>;
  describe(): string;
}

export async function startEmulators(): Promise<Emulators> {
  throw new Error('The emulator backend needs the Kubernetes adapter (coming).');
}
