import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // An unhandled rejection anywhere fails the run (vitest's default, kept on purpose).
    dangerouslyIgnoreUnhandledErrors: false,
    typecheck: { enabled: true, include: ['test/**/*.test-d.ts'] },
  },
});
