import { describe, expect, it } from 'vitest';
import { nextCronFire } from '../../operators/index.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const formats = new Map<string, Intl.DateTimeFormat>();

/** The local wall-clock reading at `time` in `zone`, as epoch ms of the same reading in UTC. */
function wallAt(time: number, zone: string): number {
  let format = formats.get(zone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
    });
    formats.set(zone, format);
  }
  const parts = format.formatToParts(time);
  const part = (type: string) => Number(parts.find((each) => each.type === type)?.value);
  return Date.UTC(part('year'), part('month') - 1, part('day'), part('hour'), part('minute'));
}

/** Minute and hour fields of the simple kind these tests use: `*`, `a`, `a,b`, `a-b`, `* /n`. */
function field(text: string, max: number): ((value: number) => boolean) | undefined {
  if (text === '*') return undefined;
  const values = new Set<number>();
  for (const part of text.split(',')) {
    const [range = '*', step] = part.split('/');
    const [low, high] = range === '*' ? [0, max] : range.split('-').map(Number);
    const last = high ?? (step === undefined ? (low as number) : max);
    for (let value = low as number; value <= last; value += Number(step ?? 1)) values.add(value);
  }
  return (value) => values.has(value);
}

/**
 * The rules, minute by minute, from the zone's clock alone: a local time the clocks skip fires
 * one gap later, one they repeat fires at its first occurrence only, unless the hour field is
 * `*`. An independent model of what `nextCronFire` works out from offsets.
 */
function modelFires(expression: string, zone: string, from: number, to: number): number[] {
  const [minuteText = '*', hourText = '*'] = expression.split(' ');
  const minute = field(minuteText, 59);
  const hour = field(hourText, 23);
  const matches = (wall: number) =>
    (minute?.(new Date(wall).getUTCMinutes()) ?? true) &&
    (hour?.(new Date(wall).getUTCHours()) ?? true);
  const fires = new Set<number>();
  const seen = new Set<number>();
  let previous = wallAt(from - MINUTE, zone);
  for (let time = from; time <= to; time += MINUTE) {
    const wall = wallAt(time, zone);
    // Skipped local times, one gap later: the jump's instant plus their distance into the gap.
    for (let skipped = previous + MINUTE; skipped < wall; skipped += MINUTE) {
      if (matches(skipped)) fires.add(time + (skipped - previous - MINUTE));
    }
    if (matches(wall) && (!seen.has(wall) || hour === undefined)) fires.add(time);
    seen.add(wall);
    previous = wall;
  }
  return [...fires].sort((a, b) => a - b);
}

/** Every fire of `expression` in (from, to], asked for one after another. */
function fires(expression: string, zone: string, from: number, to: number): number[] {
  const times: number[] = [];
  for (let time = nextCronFire(expression, from, zone); time !== undefined && time <= to; ) {
    times.push(time);
    time = nextCronFire(expression, time, zone);
  }
  return times;
}

describe('nextCronFire across changes of offset', () => {
  const changes: [string, number][] = [
    ['America/New_York', Date.UTC(2026, 2, 8, 7)],
    ['America/New_York', Date.UTC(2026, 10, 1, 6)],
    // A 30-minute jump, each way.
    ['Australia/Lord_Howe', Date.UTC(2026, 9, 3, 15, 30)],
    ['Australia/Lord_Howe', Date.UTC(2026, 3, 4, 15)],
    // Two hours, each way.
    ['Antarctica/Troll', Date.UTC(2026, 2, 29, 1)],
    ['Antarctica/Troll', Date.UTC(2026, 9, 25, 1)],
    // At 02:45 local, off the hour.
    ['Pacific/Chatham', Date.UTC(2026, 8, 26, 14)],
    // At midnight.
    ['America/Havana', Date.UTC(2026, 10, 1, 5)],
    // A whole day: Samoa skipped 30 December 2011.
    ['Pacific/Apia', Date.UTC(2011, 11, 30, 10)],
  ];
  const expressions = ['30 2 * * *', '15,45 1,2 * * *', '0 * * * *', '*/20 * * * *', '0 0 * * *'];
  for (const [zone, change] of changes) {
    it(`${zone} around ${new Date(change).toISOString()}: as the model says`, () => {
      const from = change - DAY;
      const to = change + DAY;
      for (const expression of expressions) {
        const model = modelFires(expression, zone, from + MINUTE, to);
        expect({ expression, fires: fires(expression, zone, from, to) }).toEqual({
          expression,
          fires: model,
        });
        // Asked at any time, not only at a fire time, the answer is the model's next fire.
        for (let step = -8; step <= 8; step += 1) {
          const asked = change + step * 13 * MINUTE + 17_003;
          const next = model.find((time) => time > asked);
          // Beyond the window the model covers: nothing to compare with.
          if (next === undefined) continue;
          expect({ expression, asked, next: nextCronFire(expression, asked, zone) }).toEqual({
            expression,
            asked,
            next,
          });
        }
      }
    });
  }

  it.each(['@minutely', '0 * ? * * *', '0 */2 * * *'])(
    'fires %s, whose hour is a wildcard, in both passes of a repeated hour',
    (expression) => {
      const change = Date.UTC(2026, 10, 1, 6);
      expect(nextCronFire(expression, change - 30_000, 'America/New_York')).toBe(
        expression === '0 */2 * * *' ? change + HOUR : change,
      );
    },
  );

  it('fires a day that a jump of a whole day skips, asked at any time before it', () => {
    // Samoa went from 29 December 2011, 24:00 (-10) to 31 December, 00:00 (+14) at 10:00Z.
    const jump = Date.UTC(2011, 11, 30, 10);
    for (const hours of [-1, 0, 2, 6]) {
      expect(nextCronFire('0 12 30 12 *', jump + hours * HOUR, 'Pacific/Apia')).toBe(
        Date.UTC(2011, 11, 30, 22),
      );
    }
  });

  it('reads an offset of a local mean time, to the second', () => {
    // Monrovia kept 44 minutes 30 seconds behind UTC until 1972.
    expect(nextCronFire('0 12 * * *', Date.UTC(1960, 0, 1), 'Africa/Monrovia')).toBe(
      Date.UTC(1960, 0, 1, 12, 44, 30),
    );
  });

  it('fires each second a jump skips, one gap later', () => {
    const jump = Date.UTC(2026, 2, 8, 7);
    const times = fires('*/20 * 2 * * *', 'America/New_York', jump - HOUR, jump + HOUR);
    expect(times).toHaveLength(180);
    expect(times[0]).toBe(jump);
    expect(times.at(-1)).toBe(jump + HOUR - 20_000);
  });

  it('never answers a time earlier than asked', () => {
    const from = Date.UTC(2026, 3, 4, 13);
    const next = nextCronFire('*/15 * * * *', from, 'Pacific/Chatham');
    expect(next).toBe(from + 15 * MINUTE);
  });
});
