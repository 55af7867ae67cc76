import { describe, expect, it } from 'vitest';
import { expectedMessage } from '../../operators/validate.js';

describe('expectedMessage', () => {
  it('outlines an object that JSON cannot render, rather than print [object Object]', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(expectedMessage('payload', 'JSON', cyclic)).toBe(
      'Expected `payload` to be JSON, got `{ a: …, self: … }` (object)',
    );
    expect(expectedMessage('payload', 'JSON', { n: 10n })).toMatch(/got `\{ n: … \}` \(object\)$/);
    expect(expectedMessage('payload', 'JSON', { toJSON: () => undefined })).toMatch(
      /got `\{ toJSON: … \}` \(object\)$/,
    );
    expect(expectedMessage('payload', 'JSON', [1n, 2n])).toMatch(/got `\[array of 2\]` \(array\)$/);
  });

  it('cuts a long rendering short, so a large payload is not copied into the message', () => {
    const message = expectedMessage('priority', 'a number', { text: 'x'.repeat(10_000) });
    expect(message.length).toBeLessThan(300);
    expect(message).toMatch(/^Expected `priority` to be a number, got `\{"text":"x+…` \(object\)$/);
  });

  it('keeps short renderings whole', () => {
    expect(expectedMessage('n', 'a whole number', { a: [1, 2] })).toBe(
      'Expected `n` to be a whole number, got `{"a":[1,2]}` (object)',
    );
  });

  it('never throws, whatever the value', () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    const unnamed = Object.defineProperty(() => {}, 'name', {
      get(): never {
        throw new Error('no name');
      },
    });
    expect(expectedMessage('x', 'y', proxy)).toBe('Expected `x` to be y, got `[object]` (object)');
    expect(expectedMessage('x', 'y', unnamed)).toBe(
      'Expected `x` to be y, got `[function]` (function)',
    );
    expect(expectedMessage('x', 'y', Object.create(Date.prototype))).toMatch(/\(Date\)$/);
  });
});
