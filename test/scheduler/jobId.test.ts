import { describe, expect, it } from 'vitest';
import { newJobId } from '../../src/jobId.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('newJobId', () => {
  it('makes version 4 UUIDs with the RFC 9562 variant, all different, across refills', () => {
    const ids = Array.from({ length: 1000 }, () => newJobId());
    for (const id of ids) expect(id).toMatch(UUID_V4);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('keeps an id intact after the buffer it was read from is refilled', () => {
    const first = newJobId();
    const copy = `${first}`;
    for (let i = 0; i < 300; i++) newJobId();
    expect(first).toBe(copy);
  });
});
