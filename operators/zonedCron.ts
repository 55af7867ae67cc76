import type { CronExpression } from 'cron-parser';

const MS_PER_MINUTE = 60_000;
const DAY_MS = 86_400_000;
/** Longer than any change of a zone's offset: Samoa skipped 30 December 2011, 24 hours. */
const LONGEST_SHIFT_MS = 25 * 3_600_000;
/** Offsets read lately, kept per instant; a few answers' worth. */
const RECENT_OFFSETS = 64;
/** Wall-clock matches looked at for one answer: a day of them at one a second, and some. */
const SEARCH_LIMIT = 100_000;

/** A change of a zone's offset: at `at`, from `before` to `after` minutes east of UTC. */
interface Shift {
  readonly at: number;
  readonly before: number;
  readonly after: number;
}

/**
 * The fire times of a cron expression in a time zone, worked out on wall-clock readings: the
 * expression read in UTC gives the local times that match, and the zone's offsets turn each
 * into the instant it happens. cron-parser's own zone handling drops or doubles fire times
 * around some changes of offset (a jump that is not a whole hour, Troll's two hours, midnight
 * in Havana), so it is not used. Around a change the rules are ISC cron's:
 * - a local time that a jump forward skips fires one gap later (02:30 at 03:30 for a jump from
 *   02:00 to 03:00);
 * - a local time that a jump back repeats fires once, at its first occurrence, unless the
 *   expression's hour field is a wildcard or a step over one, which fires at both.
 */
export class ZonedCron {
  readonly #wallClock: CronExpression;
  readonly #offsetAt: (time: number) => number;
  readonly #everyHour: boolean;

  /**
   * @param wallClock the expression read in UTC.
   * @param offsetAt the zone's offset in minutes at an instant.
   * @param everyHour whether the hour field is a wildcard.
   */
  constructor(wallClock: CronExpression, offsetAt: (time: number) => number, everyHour: boolean) {
    this.#wallClock = wallClock;
    // One answer reads the same few instants several times (the query's, the answer's), and a
    // read is an Intl call of a few microseconds: the last ones read are kept.
    const recent = new Map<number, number>();
    this.#offsetAt = (time) => {
      let offset = recent.get(time);
      if (offset === undefined) {
        if (recent.size >= RECENT_OFFSETS) recent.clear();
        offset = offsetAt(time);
        recent.set(time, offset);
      }
      return offset;
    };
    this.#everyHour = everyHour;
  }

  /** The first fire time strictly after `time`, or undefined when there is none. */
  after(time: number): number | undefined {
    const offset = this.#offsetAt(time);
    let best = this.#fromShifts(time);
    let lastWall = best === undefined ? undefined : this.#lastWallBefore(time, best);
    let from = time + offset * MS_PER_MINUTE;
    for (let step = 0; step < SEARCH_LIMIT; step++) {
      const wall = nextOf(this.#wallClock, from);
      if (wall === undefined || (lastWall !== undefined && wall > lastWall)) break;
      const { instants, repeated, skippedUntil } = this.#instantsOf(wall);
      for (const instant of instants) {
        if (instant > time && (best === undefined || instant < best)) {
          best = instant;
          lastWall = this.#lastWallBefore(time, best);
        }
      }
      from = wall;
      // The rest of a jump's skipped local times fire after this one, in order: go past them to
      // the first local time after the jump, which may fire sooner.
      if (skippedUntil !== undefined) from = Math.max(wall, skippedUntil - 1);
      if (repeated !== undefined) {
        // A repeated local time this expression fires once, at its first occurrence: those up
        // to `time`'s reading in that first offset, and still repeated, fired before `time`.
        // Gone past at once, not one by one.
        const firedBefore = time + repeated.before * MS_PER_MINUTE;
        from = Math.max(wall, Math.min(firedBefore, repeated.until - 1));
      }
    }
    return best;
  }

  /**
   * The latest local time that can still happen between `time` and `best`: read with `best`'s
   * offset, or, before a change of offset between them, with `time`'s.
   */
  #lastWallBefore(time: number, best: number): number {
    const atBest = best + this.#offsetAt(best) * MS_PER_MINUTE;
    const change = this.#shiftBetween(time, best);
    if (change === undefined) return atBest;
    return Math.max(atBest, change.at + change.before * MS_PER_MINUTE);
  }

  /**
   * When the local time `wall` happens: once, twice when a jump back repeats it (the second
   * only for an every-hour expression), or, when a jump forward skips it, one gap later.
   */
  #instantsOf(wall: number): {
    readonly instants: readonly number[];
    /**
     * For a repeated time fired once: the offset of its first occurrence, and the local time
     * the repetition ends at.
     */
    readonly repeated?: { readonly before: number; readonly until: number };
    /** For a skipped time: the local time the jump lands on. */
    readonly skippedUntil?: number;
  } {
    const before = this.#offsetAt(wall - DAY_MS);
    const after = this.#offsetAt(wall + DAY_MS);
    const early = wall - before * MS_PER_MINUTE;
    if (before === after) return { instants: [early] };
    const late = wall - after * MS_PER_MINUTE;
    const earlyHolds = this.#offsetAt(early) === before;
    const lateHolds = this.#offsetAt(late) === after;
    if (earlyHolds && lateHolds) {
      if (this.#everyHour) return { instants: [early, late] };
      const change = this.#shiftBetween(early, late)?.at ?? late;
      return { instants: [early], repeated: { before, until: change + before * MS_PER_MINUTE } };
    }
    if (lateHolds) return { instants: [late] };
    if (earlyHolds) return { instants: [early] };
    // Skipped, read with the offset before the jump: that puts it one gap later.
    const jump = this.#shiftBetween(late, early)?.at ?? early;
    return { instants: [early], skippedUntil: jump + after * MS_PER_MINUTE };
  }

  /**
   * Fire times that reading from `time`'s own wall clock would miss: a local time skipped by a
   * jump forward just before `time` and due to fire after it, or, for an every-hour expression,
   * the second occurrence of a local time that a jump back just after `time` repeats.
   */
  #fromShifts(time: number): number | undefined {
    const forward = this.#shiftBetween(time - LONGEST_SHIFT_MS, time);
    if (forward !== undefined && forward.after > forward.before) {
      const skippedFrom = forward.at + forward.before * MS_PER_MINUTE;
      const gap = (forward.after - forward.before) * MS_PER_MINUTE;
      const wall = nextOf(this.#wallClock, skippedFrom + Math.max(-1, time - forward.at));
      if (wall !== undefined && wall < skippedFrom + gap) return forward.at + (wall - skippedFrom);
    }
    if (!this.#everyHour) return undefined;
    const back = this.#shiftBetween(time, time + LONGEST_SHIFT_MS);
    if (back === undefined || back.after >= back.before) return undefined;
    const repeatedFrom = back.at + back.after * MS_PER_MINUTE;
    const wall = nextOf(this.#wallClock, repeatedFrom - 1);
    const repeatedTo = back.at + back.before * MS_PER_MINUTE;
    return wall !== undefined && wall < repeatedTo ? wall - back.after * MS_PER_MINUTE : undefined;
  }

  /** The one change of offset in (from, to], found by halving, or undefined if none. */
  #shiftBetween(from: number, to: number): Shift | undefined {
    const before = this.#offsetAt(from);
    const after = this.#offsetAt(to);
    if (before === after) return undefined;
    let low = from;
    let high = to;
    while (high - low > 1) {
      const middle = low + Math.floor((high - low) / 2);
      if (this.#offsetAt(middle) === before) low = middle;
      else high = middle;
    }
    return { at: high, before, after };
  }
}

/** The expression's first time strictly after `time`, or undefined when the parser finds none. */
export function nextOf(parsed: CronExpression, time: number): number | undefined {
  parsed.reset(new Date(time));
  try {
    return parsed.next().getTime();
  } catch {
    // cron-parser throws when no time lies within its search limit, as its own hasNext() assumes.
    return undefined;
  }
}
