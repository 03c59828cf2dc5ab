/**
 * Output of the `zonekeeper` command: readable tables ({@link renderBlocks}: boxed and fitted on a
 * terminal, plain columns in a pipe) or one JSON or YAML document on stdout (`-o json|yaml`), progress
 * lines on stderr, and the masking every printed byte goes through.
 *
 * Secrets are kept out in three layers: the views print only whitelisted fields; {@link redact} drops
 * secret-bearing keys and masks access key ids in anything turned into JSON; {@link maskText} masks
 * anything that looks like an AWS access key id in every line written.
 *
 * @packageDocumentation
 */

import { isZonekeeperError, type Logger, maskAccessKeyIds, maskSecret } from '@zonekeeper/core';
import Table from 'cli-table3';
import { stringify as toYamlText } from 'yaml';
import { type HumanView, renderBlocks, stripMilliseconds } from './render.js';

/**
 * Where the command writes: anything with a `write(string)` (a stream, or a test capture). A stream's
 * `isTTY` and `columns` decide the table layout (boxed and fitted to `columns` on a terminal, plain
 * columns otherwise); a capture without them gets the plain layout.
 */
export interface TextSink {
  write(chunk: string): unknown;
  /** True when this is a terminal (`process.stdout.isTTY`). */
  readonly isTTY?: boolean;
  /** The terminal's width in characters (`process.stdout.columns`). */
  readonly columns?: number;
}

/** The output formats of `-o, --output` (`--json` is `-o json`). */
export const OUTPUT_FORMATS = ['table', 'wide', 'json', 'yaml'] as const;

/** One of {@link OUTPUT_FORMATS}: `table` (default), `wide` (more columns), `json` or `yaml` (one document). */
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

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

/** A cell value of {@link renderTable}; `undefined` and `null` print as `-`. */
export type Cell = string | number | boolean | null | undefined;

function cellText(c: Cell): string {
  if (c === undefined || c === null || c === '') return '-';
  return maskText(String(c));
}

/**
 * Renders a boxed table with a header row at its natural width (no colours).
 * @deprecated Return a {@link HumanView} (`table(…)` from `render.ts`) as a command's `text`: it is fitted to
 * the terminal, plain in a pipe, and knows `-o wide`.
 */
export function renderTable(head: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const table = new Table({ head: [...head], style: { head: [], border: [] } });
  for (const row of rows) table.push(row.map(cellText));
  return table.toString();
}

/**
 * Renders `label | value` pairs as a two-column boxed table without a header.
 * @deprecated Return a {@link HumanView} (`fields(…)` from `render.ts`) instead.
 */
export function renderFields(fields: readonly (readonly [string, Cell])[]): string {
  const table = new Table({ style: { head: [], border: [] } });
  for (const [label, value] of fields) table.push([label, cellText(value)]);
  return table.toString();
}

/** Options of {@link Output}. */
export interface OutputOptions {
  readonly stdout: TextSink;
  readonly stderr: TextSink;
  /** The output format (default `table`, or `json` when {@link json} is true). */
  readonly format?: OutputFormat;
  /** Shorthand of `format: 'json'` (the `--json` flag). */
  readonly json?: boolean;
  /** No progress lines and no tables; errors and requested payloads (PEM) are still written. */
  readonly quiet: boolean;
}

/** The writer every command uses. */
export class Output {
  readonly format: OutputFormat;
  /**
   * Machine-readable mode (`-o json` or `-o yaml`): stdout receives exactly one document and nothing
   * else (no tables, no payloads).
   */
  readonly json: boolean;
  readonly quiet: boolean;
  readonly #stdout: TextSink;
  readonly #stderr: TextSink;
  #documentWritten = false;
  #streamed = false;

  constructor(options: OutputOptions) {
    this.format = options.format ?? (options.json === true ? 'json' : 'table');
    this.json = this.format === 'json' || this.format === 'yaml';
    this.quiet = options.quiet;
    this.#stdout = options.stdout;
    this.#stderr = options.stderr;
  }

  /**
   * A progress line on stderr (suppressed by `--quiet`). Like every human line (progress, warnings,
   * errors, tables), its instants are shown to the second ({@link stripMilliseconds}).
   */
  progress(line: string): void {
    if (!this.quiet) this.#stderr.write(`${human(line)}\n`);
  }

  /** A warning on stderr (always shown). */
  warn(line: string): void {
    this.#stderr.write(`zonekeeper: warning: ${human(line)}\n`);
  }

  /** An error line on stderr (always shown). */
  error(line: string): void {
    this.#stderr.write(`zonekeeper: ${human(line)}\n`);
  }

  /**
   * Human-readable result on stdout (not with `-o json|yaml` or `--quiet`): a {@link HumanView}, laid out
   * for stdout (boxed and fitted on a terminal, plain columns in a pipe; `wide` columns with `-o wide`),
   * or ready text.
   */
  print(view: string | HumanView): void {
    if (this.json || this.quiet) return;
    const text =
      typeof view === 'string'
        ? view
        : renderBlocks(view, {
            tty: this.#stdout.isTTY === true,
            ...(typeof this.#stdout.columns === 'number' && this.#stdout.columns > 0
              ? { columns: this.#stdout.columns }
              : {}),
            wide: this.format === 'wide',
          });
    this.#stdout.write(`${human(text)}\n`);
  }

  /** A payload the user asked for (PEM certificates) on stdout, even with `--quiet`; not with `-o json|yaml`. */
  payload(text: string): void {
    if (this.json) return;
    this.#stdout.write(maskText(text.endsWith('\n') ? text : `${text}\n`));
  }

  /**
   * The one document of `-o json` / `-o yaml` mode (redacted). Later calls are ignored. After
   * {@link event}s it is the stream's last entry, in the stream's shape.
   */
  document(doc: unknown): void {
    if (!this.json || this.#documentWritten) return;
    this.#documentWritten = true;
    this.#stdout.write(
      this.#streamed ? formatStreamEntry(doc, this.yamlOrJson) : formatDocument(doc, this.yamlOrJson),
    );
  }

  /**
   * One entry of a long-running command's stream in `-o json` / `-o yaml` mode (redacted), written as it
   * happens: a JSON document on one line (JSON Lines, so `jq` or a log shipper reads each entry as it
   * arrives) or a YAML document opened by `---`. The final {@link document} then follows in the same
   * shape. Ignored in the human formats and after the final document.
   */
  event(doc: unknown): void {
    if (!this.json || this.#documentWritten) return;
    this.#streamed = true;
    this.#stdout.write(formatStreamEntry(doc, this.yamlOrJson));
  }

  get yamlOrJson(): 'json' | 'yaml' {
    return this.format === 'yaml' ? 'yaml' : 'json';
  }

  get documentWritten(): boolean {
    return this.#documentWritten;
  }

  /**
   * A logger for the libraries, as progress lines: their debug lines (one per applied step, naming its
   * object: `apply create-object Deployment/external-dns/external-dns (5/9)`) and their info, warning and
   * error lines (`waiting for rollout of … (0/1 ready)`). Never given secrets (the libraries'
   * contract); access key ids are masked anyway.
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

/** A line for people: masked, instants to the second. */
function human(line: string): string {
  return stripMilliseconds(maskText(line));
}

/** A stream entry as {@link Output.event} prints it: JSON on one line, or a YAML document after `---`. */
export function formatStreamEntry(doc: unknown, format: 'json' | 'yaml'): string {
  const data = redact(doc);
  return format === 'yaml' ? `---\n${toYamlText(data, { lineWidth: 0 })}` : `${JSON.stringify(data)}\n`;
}

/** A document as `-o json` (2-space indented) or `-o yaml` prints it, redacted, with a final newline. */
export function formatDocument(doc: unknown, format: 'json' | 'yaml'): string {
  const data = redact(doc);
  return format === 'yaml' ? toYamlText(data, { lineWidth: 0 }) : `${JSON.stringify(data, null, 2)}\n`;
}
