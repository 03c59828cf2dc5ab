/**
 * Output of the `zonekeeper` command: readable tables (cli-table3) or one JSON document on stdout,
 * progress lines on stderr, and the masking every printed byte goes through.
 *
 * Secrets are kept out in three layers: the views print only whitelisted fields; {@link redact} drops
 * secret-bearing keys and masks access key ids in anything turned into JSON; {@link maskText} masks
 * anything that looks like an AWS access key id in every line written.
 *
 * @packageDocumentation
 */

import { isZonekeeperError, type Logger, maskAccessKeyIds, maskSecret } from '@zonekeeper/core';
import Table from 'cli-table3';

/** Where the command writes: anything with a `write(string)` (a stream, or a test capture). */
export interface TextSink {
  write(chunk: string): unknown;
}

/** Masks every AWS access key id in `text` to its last 4 characters (`********WXYZ`). */
export function maskText(text: string): string {
  return maskAccessKeyIds(text);
}

const MASK = '********';

/** Masks an access key id for display (last 4 characters); an already masked value is kept. */
export function maskAccessKeyId(id: string | undefined): string | undefined {
  if (id === undefined) return undefined;
  return id.startsWith(MASK) ? id : maskSecret(id, 4);
}

/** Keys whose values are never printed, whatever object carries them. */
const SECRET_KEYS = new Set([
  'secretaccesskey',
  'privatekeypem',
  'privatekey',
  'token',
  'vaulttoken',
  'sessiontoken',
  'password',
  'data',
  'stringdata',
]);

/** Keys holding access key ids (a string or a list of them), masked to the last 4 characters. */
const ACCESS_KEY_ID_KEY = /accesskeyids?$/i;

/**
 * Turns a value into secret-free JSON data: Dates become ISO strings, errors become `{ code, message }`,
 * secret-bearing keys are dropped, access key ids are masked, and every string goes through
 * {@link maskText}. Functions and `undefined` are dropped.
 */
export function redact(value: unknown): unknown {
  if (value === null) return null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (typeof value === 'string') return maskText(value);
  if (typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value !== 'object') return undefined;
  if (Array.isArray(value)) return value.map((v) => redact(v) ?? null);
  if (isZonekeeperError(value)) return { code: value.code, message: maskText(value.message) };
  if (value instanceof Error) return { code: 'INTERNAL', message: maskText(value.message) };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (SECRET_KEYS.has(k.toLowerCase())) continue;
    if (ACCESS_KEY_ID_KEY.test(k)) {
      if (typeof v === 'string') out[k] = maskAccessKeyId(v);
      else if (Array.isArray(v)) out[k] = v.map((x) => (typeof x === 'string' ? maskAccessKeyId(x) : null));
      continue;
    }
    const r = redact(v);
    if (r !== undefined) out[k] = r;
  }
  return out;
}

/** A cell value; `undefined` and `null` print as `-`. */
export type Cell = string | number | boolean | null | undefined;

function cellText(c: Cell): string {
  if (c === undefined || c === null || c === '') return '-';
  return maskText(String(c));
}

/** Renders a table with a header row (no colours, so the output is the same on a terminal and a pipe). */
export function renderTable(head: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const table = new Table({ head: [...head], style: { head: [], border: [] } });
  for (const row of rows) table.push(row.map(cellText));
  return table.toString();
}

/** Renders `label | value` pairs as a two-column table without a header. */
export function renderFields(fields: readonly (readonly [string, Cell])[]): string {
  const table = new Table({ style: { head: [], border: [] } });
  for (const [label, value] of fields) table.push([label, cellText(value)]);
  return table.toString();
}

/** Options of {@link Output}. */
export interface OutputOptions {
  readonly stdout: TextSink;
  readonly stderr: TextSink;
  /** Machine-readable mode: stdout receives exactly one JSON document. */
  readonly json: boolean;
  /** No progress lines and no tables; errors and requested payloads (PEM) are still written. */
  readonly quiet: boolean;
}

/** The writer every command uses. */
export class Output {
  readonly json: boolean;
  readonly quiet: boolean;
  readonly #stdout: TextSink;
  readonly #stderr: TextSink;
  #documentWritten = false;

  constructor(options: OutputOptions) {
    this.json = options.json;
    this.quiet = options.quiet;
    this.#stdout = options.stdout;
    this.#stderr = options.stderr;
  }

  /** A progress line on stderr (suppressed by `--quiet`). */
  progress(line: string): void {
    if (!this.quiet) this.#stderr.write(`${maskText(line)}\n`);
  }

  /** A warning on stderr (always shown). */
  warn(line: string): void {
    this.#stderr.write(`zonekeeper: warning: ${maskText(line)}\n`);
  }

  /** An error line on stderr (always shown). */
  error(line: string): void {
    this.#stderr.write(`zonekeeper: ${maskText(line)}\n`);
  }

  /** Human-readable result text on stdout (not in `--json` or `--quiet` mode). */
  print(text: string): void {
    if (this.json || this.quiet) return;
    this.#stdout.write(`${maskText(text)}\n`);
  }

  /** A payload the user asked for (PEM certificates) on stdout, even with `--quiet`; not in `--json` mode. */
  payload(text: string): void {
    if (this.json) return;
    this.#stdout.write(maskText(text.endsWith('\n') ? text : `${text}\n`));
  }

  /** The one JSON document of `--json` mode (redacted). Later calls are ignored. */
  document(doc: unknown): void {
    if (!this.json || this.#documentWritten) return;
    this.#documentWritten = true;
    this.#stdout.write(`${JSON.stringify(redact(doc), null, 2)}\n`);
  }

  get documentWritten(): boolean {
    return this.#documentWritten;
  }

  /**
   * A logger for the libraries, as progress lines: their debug lines (one per applied step,
   * `apply create-zone (1/3)`) and their info, warning and error lines. Never given secrets (the
   * libraries' contract); access key ids are masked anyway.
   */
  logger(): Logger {
    const line = (prefix: string) => (message: string) => this.progress(`  ${prefix}${message}`);
    return {
      trace: () => {},
      debug: line('· '),
      info: line('· '),
      warn: line('! '),
      error: line('✗ '),
    };
  }
}
