/**
 * Reads a time zone's offset from UTC at an instant, for the cron source to turn local times
 * into instants. Pure: the instant is given, no clock is read.
 */

const UTC_ZONES: ReadonlySet<string> = new Set(['UTC', 'Etc/UTC', 'Etc/GMT', 'GMT', 'Z']);

/**
 * A function from epoch ms to the zone's offset from UTC in minutes (`-240` for 09:00 EDT; a
 * fraction for an old local mean time such as Monrovia's `-44.5`), or
 * `undefined` for UTC, whose offset never changes. The zone must be valid (see `assertTimezone`).
 *
 * @example
 * ```ts
 * const offsetAt = zoneOffsetReader('America/New_York');
 * offsetAt?.(Date.UTC(2026, 0, 15)); // -300: EST
 * offsetAt?.(Date.UTC(2026, 6, 15)); // -240: EDT
 * ```
 */
export function zoneOffsetReader(timezone: string): ((time: number) => number) | undefined {
  if (UTC_ZONES.has(timezone)) return undefined;
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone: timezone,
    timeZoneName: 'longOffset',
  });
  return (time) => {
    const name = format.formatToParts(time).find((part) => part.type === 'timeZoneName')?.value;
    // 'GMT-04:00', 'GMT+05:45', a local mean time's 'GMT-04:56:02', or plain 'GMT' at 0.
    const match = /^GMT([+-])(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(name ?? '');
    if (match === null) return 0;
    const minutes = Number(match[2]) * 60 + Number(match[3]) + Number(match[4] ?? 0) / 60;
    return match[1] === '-' ? -minutes : minutes;
  };
}
