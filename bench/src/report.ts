/** Shared output of every benchmark: a table a person can read and one JSON line a script can compare. */
import os from 'node:os';

/** One row of a benchmark table. */
export type Row = Record<string, string | number>;

/** Describes the machine, for the record in docs/performance.md. */
export function machine(): Record<string, string | number> {
  const cpu = os.cpus()[0];
  return {
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpus: os.cpus().length,
    cpu: cpu?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
  };
}

/** A further table of a benchmark (printed before the main one, kept in the JSON under `tables`). */
export interface Table {
  readonly title: string;
  readonly rows: readonly Row[];
}

/**
 * Prints `rows` as a table under `title` (after any `tables`), then one `BENCH <json>` line with the
 * name, machine, load, date and data.
 */
export function report(
  name: string,
  title: string,
  rows: readonly Row[],
  summary: Record<string, unknown>,
  tables: readonly Table[] = [],
): void {
  for (const t of tables) {
    console.log(`\n## ${t.title}\n`);
    console.table(t.rows);
  }
  console.log(`\n## ${title}\n`);
  console.table(rows);
  const extra = tables.length === 0 ? {} : { tables };
  console.log(
    `BENCH ${JSON.stringify({ bench: name, date: new Date().toISOString(), machine: machine(), load: load(), rows, summary, ...extra })}`,
  );
}

/** The 1-, 5- and 15-minute load averages when the benchmark ended (the machine may be shared). */
export function load(): number[] {
  return os.loadavg().map((l) => Number(l.toFixed(2)));
}

/** True with `--quick` on the command line or `BENCH_QUICK=1`: smaller settings, not for the record. */
export function isQuick(): boolean {
  return process.argv.includes('--quick') || process.env.BENCH_QUICK === '1';
}

/** Runs `fn` `repeat` times and returns the median wall time in milliseconds. */
export function medianMs(repeat: number, fn: () => void): number {
  const times: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const t = process.hrtime.bigint();
    fn();
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] as number;
}
