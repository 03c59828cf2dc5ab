/** The emulator crash matrix, crash mode `fail` (see emulator-matrix.test.support.ts). */

import { emulatorCrashMatrix } from './emulator-matrix.test.support.js';

emulatorCrashMatrix('fail');
