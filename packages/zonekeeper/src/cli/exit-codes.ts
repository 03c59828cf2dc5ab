/**
 * The exit codes of the `zonekeeper` command and how a failure maps to one.
 *
 * | code | meaning                                                                                   |
 * | ---- | ----------------------------------------------------------------------------------------- |
 * | 0    | success                                                                                   |
 * | 1    | any other failure (`INTERNAL`, unexpected errors)                                         |
 * | 2    | invalid input or usage (`INVALID_INPUT`, unknown option, missing argument); nothing sent  |
 * | 3    | refused: `NOT_OWNED`, `PERMISSION_DENIED`, `CONFLICT`, `NOT_FOUND`, `ALREADY_EXISTS`      |
 * | 4    | retry later: `THROTTLED`, `UNAVAILABLE`, `TIMEOUT`, `PENDING`                             |
 * | 5    | `doctor` found at least one finding of severity `error`                                   |
 * | 130  | interrupted (SIGINT): the running operation was aborted                                   |
 *
 * @packageDocumentation
 */

import { type ErrorCode, isAbortError, isZonekeeperError } from '@zonekeeper/core';

/** The exit codes, by name. */
export const ExitCodes = {
  OK: 0,
  FAILED: 1,
  INVALID: 2,
  REFUSED: 3,
  RETRY_LATER: 4,
  /** `zonekeeper doctor` ran and found at least one finding of severity `error`. */
  FINDINGS: 5,
  INTERRUPTED: 130,
} as const;

/** One of {@link ExitCodes}. */
export type ExitCode = (typeof ExitCodes)[keyof typeof ExitCodes];

const byCode: Readonly<Record<ErrorCode, ExitCode>> = {
  INVALID_INPUT: ExitCodes.INVALID,
  NOT_OWNED: ExitCodes.REFUSED,
  PERMISSION_DENIED: ExitCodes.REFUSED,
  CONFLICT: ExitCodes.REFUSED,
  NOT_FOUND: ExitCodes.REFUSED,
  ALREADY_EXISTS: ExitCodes.REFUSED,
  THROTTLED: ExitCodes.RETRY_LATER,
  UNAVAILABLE: ExitCodes.RETRY_LATER,
  TIMEOUT: ExitCodes.RETRY_LATER,
  PENDING: ExitCodes.RETRY_LATER,
  INTERNAL: ExitCodes.FAILED,
};

/** The exit code of a `ZonekeeperError` code. */
export function exitCodeOfCode(code: ErrorCode): ExitCode {
  return byCode[code] ?? ExitCodes.FAILED;
}

/**
 * The exit code of anything thrown: aborts are 130 (when `aborted` is true or the error is the platform
 * abort error), zonekeeper errors map by code, everything else is 1.
 */
export function exitCodeOf(error: unknown, aborted = false): ExitCode {
  if (aborted || (isAbortError(error) && !isZonekeeperError(error))) return ExitCodes.INTERRUPTED;
  if (isZonekeeperError(error)) return exitCodeOfCode(error.code);
  return ExitCodes.FAILED;
}

/**
 * The worst of several exit codes (interrupted > other failure > retry later > refused > invalid >
 * findings > ok).
 */
export function worstExitCode(codes: readonly ExitCode[]): ExitCode {
  const rank: Readonly<Record<ExitCode, number>> = { 0: 0, 5: 1, 2: 2, 3: 3, 4: 4, 1: 5, 130: 6 };
  return codes.reduce<ExitCode>((worst, c) => (rank[c] > rank[worst] ? c : worst), ExitCodes.OK);
}
