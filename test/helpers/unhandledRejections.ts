import { afterEach, beforeEach } from 'vitest';

/**
 * Records the unhandled rejections of each test in the calling `describe`, so a test can assert
 * that there were none at a precise point, not only that the run as a whole saw none.
 */
export function recordUnhandledRejections(): readonly unknown[] {
  const unhandled: unknown[] = [];
  const record = (reason: unknown) => unhandled.push(reason);
  beforeEach(() => {
    unhandled.length = 0;
    process.on('unhandledRejection', record);
  });
  afterEach(() => {
    process.off('unhandledRejection', record);
  });
  return unhandled;
}
