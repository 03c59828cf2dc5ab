/**
 * The human rendering of a view: a view is JSON data (what `-o json` / `-o yaml` print) plus a
 * description of its tables, {@link HumanView} — a list of {@link Block}s that {@link renderBlocks}
 * lays out at print time for where stdout goes:
 *
 * | stdout                 | layout                                                                 |
 * | ---------------------- | ---------------------------------------------------------------------- |
 * | a terminal (`isTTY`)   | boxed tables fitted to `columns` (default 80): the widest columns wrap |
 * |                        | (and text lines wrap at `columns`)                                     |
 * | a pipe or a file       | plain columns, 3 spaces apart, headers in capitals, one row per line   |
 *
 * Columns and fields marked `wide` appear only with `-o wide`. Every cell is masked ({@link maskText})
 * and an empty cell prints as `-`, so plain columns stay aligned for `awk` and `cut`.
 *
 * @packageDocumentation
 */

import { maskAccessKeyIds } from '@zonekeeper/core';
import Table from 'cli-table3';

/** A cell: a scalar, or a list (one value per line on a terminal, comma-separated in plain output). */
export type Cell = string | number | boolean | null | undefined | readonly string[];

/** A column of a {@link TableBlock}: its header, and whether only `-o wide` shows it. */
export interface Column {
  readonly header: string;
  /** Shown only with `-o wide`. Default false. */
  readonly wide?: boolean;
}

/** A table with a header row. `rows[i][j]` is the cell of `columns[j]`. */
export interface TableBlock {
  readonly kind: 'table';
  readonly columns: readonly Column[];
  readonly rows: readonly (readonly Cell[])[];
}

/** `label: value` pairs (an object's details). */
export interface FieldsBlock {
  readonly kind: 'fields';
  readonly fields: readonly Field[];
}

/** One pair of a {@link FieldsBlock}. */
export interface Field {
  readonly label: string;
  readonly value: Cell;
  /** Shown only with `-o wide`. Default false. */
  readonly wide?: boolean;
}

/** A line (or lines) of text, printed as is (wrapped to the width of a terminal). */
export interface TextBlock {
  readonly kind: 'text';
  readonly text: string;
}

/** One part of a {@link HumanView}. */
export type Block = TableBlock | FieldsBlock | TextBlock;

/** How a command's result reads for people: blocks printed one after the other. */
export type HumanView = readonly Block[];

/** Where the rendering goes. */
export interface RenderOptions {
  /** A terminal: boxed tables fitted to {@link columns}. Otherwise plain columns of any width. */
  readonly tty: boolean;
  /** The terminal's width in characters (default 80; ignored when not a terminal). */
  readonly columns?: number;
  /** Show the `wide` columns and fields. */
  readonly wide: boolean;
}

/** A table block. `columns` are headers, or {@link Column}s to mark `wide` ones. */
export function table(columns: readonly (string | Column)[], rows: readonly (readonly Cell[])[]): TableBlock {
  return {
    kind: 'table',
    columns: columns.map((c) => (typeof c === 'string' ? { header: c } : c)),
    rows,
  };
}

/** A fields block; a pair `[label, value, 'wide']` is shown only with `-o wide`. */
export function fields(
  pairs: readonly (readonly [string, Cell] | readonly [string, Cell, 'wide'])[],
): FieldsBlock {
  return {
    kind: 'fields',
    fields: pairs.map(([label, value, wide]) => (wide ? { label, value, wide: true } : { label, value })),
  };
}

/** A text block. */
export function text(line: string): TextBlock {
  return { kind: 'text', text: line };
}

/** The narrowest a wrapped column gets (in characters) before the table overflows instead. */
const MIN_COLUMN_WIDTH = 8;
const DEFAULT_COLUMNS = 80;
const PLAIN_GAP = '   ';

/** Display width: code points (the command prints no double-width characters of its own). */
function width(s: string): number {
  let n = 0;
  for (const _ of s) n += 1;
  return n;
}

function cellLines(c: Cell): string[] {
  if (c === undefined || c === null || c === '') return ['-'];
  if (Array.isArray(c)) return c.length === 0 ? ['-'] : c.map((x) => maskAccessKeyIds(String(x)));
  return maskAccessKeyIds(String(c)).split('\n');
}

function plainCell(c: Cell): string {
  if (Array.isArray(c)) return c.length === 0 ? '-' : c.map((x) => maskAccessKeyIds(String(x))).join(',');
  return cellLines(c).join(' ');
}

/** Where a line may break, best first: after a space (dropped), a list or path separator, a word joint. */
const BREAKS: readonly string[] = [' ', ',;/=:', '-_.'];

/**
 * Wraps one line to `max` characters: at the last space that fits, else after the last `,` `;` `/` `=`
 * `:`, else after the last `-` `_` `.`, else hard at `max`.
 */
export function wrapLine(line: string, max: number): string[] {
  const out: string[] = [];
  let rest = [...line];
  while (rest.length > max) {
    let cut = -1;
    for (const set of BREAKS) {
      // A space at index i breaks before it (and is dropped); other marks break after themselves.
      for (let i = set === ' ' ? max : max - 1; i > 0 && cut < 0; i--)
        if (set.includes(rest[i] as string)) cut = set === ' ' ? i : i + 1;
      if (cut > 0) break;
    }
    if (cut <= 0) cut = max;
    out.push(rest.slice(0, cut).join('').trimEnd());
    rest = rest.slice(cut);
    while (rest[0] === ' ') rest = rest.slice(1);
  }
  out.push(rest.join(''));
  return out;
}

/**
 * The content width of each column so that the table fits `budget` characters of content: columns
 * narrower than a cap keep their width, the wider ones are cut to the cap (the largest that fits, at
 * least {@link MIN_COLUMN_WIDTH}); the rest of the budget goes to the widest.
 */
export function fitColumns(natural: readonly number[], budget: number): number[] {
  const total = natural.reduce((a, b) => a + b, 0);
  if (total <= budget) return [...natural];
  let cap = Math.max(...natural);
  const sumAt = (c: number) => natural.reduce((a, w) => a + Math.min(w, c), 0);
  while (cap > MIN_COLUMN_WIDTH && sumAt(cap) > budget) cap -= 1;
  const widths = natural.map((w) => Math.min(w, cap));
  // Hand what is left over (cutting to an integer cap) to the widest cut columns, left to right.
  let spare = budget - widths.reduce((a, b) => a + b, 0);
  for (let i = 0; spare > 0 && i < widths.length; i++)
    if ((natural[i] as number) > (widths[i] as number)) {
      const more = Math.min(spare, (natural[i] as number) - (widths[i] as number));
      widths[i] = (widths[i] as number) + more;
      spare -= more;
    }
  return widths;
}

/** A boxed table (cli-table3) fitted to `columns` characters; `head` may be undefined (fields). */
function boxed(
  head: readonly string[] | undefined,
  rows: readonly (readonly Cell[])[],
  columns: number,
): string {
  const n = Math.max(head?.length ?? 0, ...rows.map((r) => r.length));
  if (n === 0) return '';
  const lines = rows.map((r) => Array.from({ length: n }, (_, j) => cellLines(r[j])));
  const natural = Array.from({ length: n }, (_, j) =>
    Math.max(
      1,
      head ? width(head[j] ?? '') : 0,
      ...lines.map((r) => Math.max(...(r[j] as string[]).map(width))),
    ),
  );
  // Each column costs its content, a space either side and one border; plus the closing border.
  const widths = fitColumns(natural, columns - 3 * n - 1);
  const wrap = (ls: readonly string[], j: number) =>
    ls.flatMap((l) => wrapLine(l, widths[j] as number)).join('\n');
  const t = new Table({
    ...(head ? { head: head.map((h, j) => wrap([h], j)) } : {}),
    colWidths: widths.map((w) => w + 2),
    style: { head: [], border: [] },
  });
  for (const r of lines) t.push(r.map((ls, j) => wrap(ls, j)));
  return t.toString();
}

function plainTable(head: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const all = [head.map((h) => h.toUpperCase()), ...rows.map((r) => head.map((_, j) => plainCell(r[j])))];
  const widths = head.map((_, j) => Math.max(...all.map((r) => width(r[j] as string))));
  return all
    .map((r) =>
      r
        .map((c, j) => (j === r.length - 1 ? c : c + ' '.repeat((widths[j] as number) - width(c))))
        .join(PLAIN_GAP)
        .trimEnd(),
    )
    .join('\n');
}

function plainFields(list: readonly Field[]): string {
  const labelWidth = Math.max(...list.map((f) => width(f.label))) + 1;
  return list
    .map((f) => {
      const value = Array.isArray(f.value)
        ? f.value.length === 0
          ? '-'
          : f.value.map((x) => maskAccessKeyIds(String(x))).join(', ')
        : cellLines(f.value as Exclude<Cell, readonly string[]>).join(', ');
      return `${`${f.label}:`.padEnd(labelWidth + 1)}${value}`;
    })
    .join('\n');
}

/** Renders one block (without a trailing newline). */
export function renderBlock(block: Block, options: RenderOptions): string {
  const columns = Math.max(40, options.columns ?? DEFAULT_COLUMNS);
  switch (block.kind) {
    case 'text': {
      // A terminal gets text wrapped to its width too, so that every line of the output fits.
      const masked = maskAccessKeyIds(block.text);
      return options.tty
        ? masked
            .split('\n')
            .flatMap((l) => wrapLine(l, columns))
            .join('\n')
        : masked;
    }
    case 'fields': {
      const shown = block.fields.filter((f) => options.wide || !f.wide);
      if (shown.length === 0) return '';
      return options.tty
        ? boxed(
            undefined,
            shown.map((f) => [f.label, f.value]),
            columns,
          )
        : plainFields(shown);
    }
    case 'table': {
      const keep = block.columns.map((c) => options.wide || !c.wide);
      const head = block.columns.filter((_, j) => keep[j]).map((c) => c.header);
      const rows = block.rows.map((r) => r.filter((_, j) => keep[j]));
      return options.tty ? boxed(head, rows, columns) : plainTable(head, rows);
    }
  }
}

/** Renders a human view: its blocks, one after the other (empty ones left out). */
export function renderBlocks(view: HumanView, options: RenderOptions): string {
  return view
    .map((b) => renderBlock(b, options))
    .filter((s) => s !== '')
    .join('\n');
}

// ───────────────────────────── dates ─────────────────────────────

function toDate(value: string | Date | null | undefined): Date | undefined {
  if (value === null || value === undefined) return undefined;
  const d = value instanceof Date ? value : new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** An instant for people: ISO 8601 in UTC to the second (`2026-03-10T08:00:00Z`); `undefined` for none. */
export function formatInstant(value: string | Date | null | undefined): string | undefined {
  const d = toDate(value);
  return d ? `${d.toISOString().slice(0, 19)}Z` : undefined;
}

/**
 * A duration for people, in its two largest units: `45s`, `3m20s`, `5h2m`, `12d4h`, `400d`
 * (kubectl's ages, one unit finer).
 */
export function formatDuration(ms: number): string {
  const s = Math.floor(Math.abs(ms) / 1000);
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d >= 100) return `${d}d`;
  if (d > 0) return h > 0 ? `${d}d${h}h` : `${d}d`;
  if (h > 0) return m > 0 ? `${h}h${m}m` : `${h}h`;
  if (m > 0) return s % 60 > 0 ? `${m}m${s % 60}s` : `${m}m`;
  return `${s}s`;
}

/** How long before `now` an instant was (`3d4h`); `undefined` when either is unknown. */
export function formatAge(
  value: string | Date | null | undefined,
  now: string | Date | null | undefined,
): string | undefined {
  const a = toDate(value);
  const b = toDate(now);
  return a && b ? formatDuration(b.getTime() - a.getTime()) : undefined;
}

/** An instant with its distance from `now`: `2026-03-31T22:00:00Z (in 21d14h)` or `(… ago)`. */
export function formatWhen(
  value: string | Date | null | undefined,
  now: string | Date | null | undefined,
): string | undefined {
  const a = toDate(value);
  const b = toDate(now);
  if (!a) return undefined;
  if (!b) return formatInstant(a);
  const delta = a.getTime() - b.getTime();
  if (Math.abs(delta) < 1000) return `${formatInstant(a)} (now)`;
  return `${formatInstant(a)} (${delta > 0 ? `in ${formatDuration(delta)}` : `${formatDuration(delta)} ago`})`;
}

/** Strips the milliseconds of every ISO 8601 instant in a message (`…T08:00:00.000Z` → `…T08:00:00Z`). */
export function stripMilliseconds(message: string): string {
  return message.replace(/(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\.\d+Z/g, '$1Z');
}
