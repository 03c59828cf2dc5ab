/** The emulator crash matrix, crash mode `abort` (see emulator-matrix.test.support.ts). */

import { emulatorCrashMatrix } from './emulator-matrix.test.support.js';

emulatorCrashMatrix('abort');
