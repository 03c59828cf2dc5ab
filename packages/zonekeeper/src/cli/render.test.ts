import { describe, expect, it } from 'vitest';
import {
  fields,
  fitColumns,
  formatAge,
  formatDuration,
  formatInstant,
  formatWhen,
  renderBlocks,
  stripMilliseconds,
  table,
  text,
  wrapLine,
} from './render.js';

const KEY_ID = 'AKIAIOSFODNN7EXAMPLE';

describe('layout', () => {
  it('wrapLine breaks at spaces first, then separators, then hard; nothing is lost', () => {
    expect(wrapLine('organisation zone and delegation', 12)).toEqual([
      'organisation',
      'zone and',
      'delegation',
    ]);
    expect(wrapLine('Secret/external-dns/external-dns-aws-credentials', 20)).toEqual([
      'Secret/external-dns/',
      'external-dns-aws-',
      'credentials',
    ]);
    expect(wrapLine('ABCDEFGHIJKLMNOPQRSTUVWXYZ', 10)).toEqual(['ABCDEFGHIJ', 'KLMNOPQRST', 'UVWXYZ']);
    expect(wrapLine('short', 10)).toEqual(['short']);
  });

  it('fitColumns leaves narrow columns alone and cuts the widest to fit, not below the minimum', () => {
    expect(fitColumns([5, 10, 40], 100)).toEqual([5, 10, 40]);
    expect(fitColumns([5, 10, 40], 35)).toEqual([5, 10, 20]);
    expect(fitColumns([30, 30, 4], 44)).toEqual([20, 20, 4]);
    expect(fitColumns([30, 30], 10)).toEqual([8, 8]); // overflows rather than becoming unreadable
  });

  it('wide columns and fields appear only with wide; empty cells are "-"; lists are lines or commas', () => {
    const view = [
      text('Zones:'),
      table(
        ['Name', { header: 'Id', wide: true }, 'Servers'],
        [
          ['a.example.com', 'Z1', ['ns-1', 'ns-2']],
          ['b', null, []],
        ],
      ),
      fields([
        ['Owner', 'acme'],
        ['Key', KEY_ID, 'wide'],
      ]),
    ];
    expect(renderBlocks(view, { tty: false, wide: false })).toBe(
      [
        'Zones:',
        'NAME            SERVERS',
        'a.example.com   ns-1,ns-2',
        'b               -',
        'Owner: acme',
      ].join('\n'),
    );
    const wide = renderBlocks(view, { tty: false, wide: true });
    expect(wide).toContain('NAME            ID   SERVERS');
    expect(wide).toContain('Key:   ********MPLE');
    expect(wide).not.toContain(KEY_ID);
    const boxed = renderBlocks(view, { tty: true, columns: 80, wide: false });
    expect(boxed).toContain('│ a.example.com │ ns-1    │');
    expect(boxed).toContain('│               │ ns-2    │');
    expect(boxed).not.toContain('\u001b[');
  });
});

describe('dates', () => {
  it('instants to the second, durations in two units, ages and distances from now', () => {
    expect(formatInstant('2026-03-10T08:00:00.123Z')).toBe('2026-03-10T08:00:00Z');
    expect(formatInstant(undefined)).toBeUndefined();
    expect(formatInstant('not a date')).toBeUndefined();
    expect([45e3, 200e3, 5 * 3600e3 + 120e3, 12.2 * 86400e3, 400 * 86400e3].map(formatDuration)).toEqual([
      '45s',
      '3m20s',
      '5h2m',
      '12d4h',
      '400d',
    ]);
    expect(formatAge('2026-03-01T00:00:00Z', '2026-03-10T08:00:00Z')).toBe('9d8h');
    expect(formatWhen('2026-03-31T22:00:00.000Z', '2026-03-10T08:00:00Z')).toBe(
      '2026-03-31T22:00:00Z (in 21d14h)',
    );
    expect(formatWhen('2026-03-10T07:00:00Z', '2026-03-10T08:00:00Z')).toBe('2026-03-10T07:00:00Z (1h ago)');
    expect(stripMilliseconds('until 2026-03-10T08:00:00.000Z, then 2026-03-11T00:00:00.5Z')).toBe(
      'until 2026-03-10T08:00:00Z, then 2026-03-11T00:00:00Z',
    );
  });
});
