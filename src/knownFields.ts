import { expectedMessage } from '../operators/validate.js';

/**
 * Throws a TypeError naming the first own field of `input` that is not in `known`: a misspelt
 * option (`timout`, `timeZone`) would otherwise pass for a field left out, and its default apply.
 * `field` turns a key into the name a message gives it (`jobs[2].timout`).
 */
export function assertKnownFields(
  input: object,
  known: ReadonlySet<string>,
  field: (name: string) => string,
): void {
  // for-in over a literal reads V8's cached keys; Object.keys would allocate an array per job.
  for (const key in input) {
    if (known.has(key) || !Object.hasOwn(input, key)) continue;
    throw new TypeError(
      expectedMessage(
        field(key),
        `left out: the fields are ${[...known].join(', ')}`,
        (input as Record<string, unknown>)[key],
      ),
    );
  }
}
