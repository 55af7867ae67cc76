import { describe, expect, it } from 'vitest';
import { zoneOffsetReader } from '../../operators/zoneOffset.js';

describe('zoneOffsetReader', () => {
  it('reads the offset in minutes, either side of a DST change', () => {
    const newYork = zoneOffsetReader('America/New_York');
    expect(newYork?.(Date.UTC(2026, 2, 8, 6, 59))).toBe(-300);
    expect(newYork?.(Date.UTC(2026, 2, 8, 7))).toBe(-240);
  });

  it('reads offsets that are not whole hours, and a zone at UTC+0', () => {
    expect(zoneOffsetReader('Asia/Kathmandu')?.(Date.UTC(2026, 0, 1))).toBe(345);
    expect(zoneOffsetReader('America/St_Johns')?.(Date.UTC(2026, 0, 1))).toBe(-210);
    expect(zoneOffsetReader('Europe/London')?.(Date.UTC(2026, 0, 1))).toBe(0);
  });

  it('reads nothing for UTC, whose offset never changes', () => {
    expect(zoneOffsetReader('UTC')).toBeUndefined();
  });
});
