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

/** Prints `rows` as a table under `title`, then `BENCH <json>` with the name, machine, date and data. */
export function report(
  name: string,
  title: string,
  rows: readonly Row[],
  summary: Record<string, unknown>,
): void {
  console.log(`\n## ${title}\n`);
  console.table(rows);
  console.log(
    `BENCH ${JSON.stringify({ bench: name, date: new Date().toISOString(), machine: machine(), rows, summary })}`,
  );
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
