import { reflectApply, wrapMethods, type Method } from './wrapMethods.js';

/**
 * One JavaScript allocation far past the worker's heap limit is not stopped by it: V8 aborts the
 * whole process. Python reaches such allocations through the methods of values it holds: an array
 * made huge in one step (`a.length = 10**8; a.fill(0)`), a join or concat of many long parts, a
 * String object (`valueOf.call('x')` boxes one) repeated, a typed array sorted with a comparator,
 * an `apply` whose arguments are a huge array-like, the keys of a big typed array (Pyodide's
 * `object_keys()` and `dir()`). Each of these refuses sizes no Python code needs: 2^20 elements,
 * 2^24 characters, 2^16 arguments, and string patterns (compiled as RegExps) of 2^16 characters.
 */
const MAX_ARRAY_LENGTH = 1 << 20;
const MAX_STRING_LENGTH = 1 << 24;
const MAX_APPLY_ARGUMENTS = 1 << 16;
const MAX_PATTERN_LENGTH = 1 << 16;

type Check = (self: unknown, args: unknown[]) => string | undefined;

const tooLong = (self: unknown): string | undefined =>
  ((self as { length?: unknown } | null | undefined)?.length as number) > MAX_ARRAY_LENGTH
    ? `arrays of more than ${MAX_ARRAY_LENGTH} elements are not available here`
    : undefined;

/** A join's text, counted before it is made: strings by length, anything else at most 24. */
const joinTooLong: Check = (self, args) => {
  const long = tooLong(self);
  if (long) return long;
  const items = self as ArrayLike<unknown>;
  const separator = args[0] === undefined ? 1 : String(args[0]).length;
  let total = 0;
  for (let i = 0; i < items.length; i += 1) {
    const item = items[i];
    // An object joins as its toString(), which may hand back a long string uncopied (an Error's
    // message): measured, not guessed.
    const text = typeof item === 'string' ? item.length : item === null || item === undefined ? 0 : typeof item === 'object' ? String(item).length : 24;
    total += text + separator;
    if (total > MAX_STRING_LENGTH) return `strings of more than ${MAX_STRING_LENGTH} characters are not available here`;
  }
  return undefined;
};

const textTooLong = (length: number) =>
  length > MAX_STRING_LENGTH ? `strings of more than ${MAX_STRING_LENGTH} characters are not available here` : undefined;
const lengthOf = (value: unknown) => (typeof value === 'string' ? value.length : (value as { length?: number } | null)?.length ?? 0);

export function boundAllocations(): void {
  const typedArray = Object.getPrototypeOf(Uint8Array.prototype) as Record<string, unknown>;
  // Sorting with a comparator and filtering copy the elements into work arrays first.
  guard(typedArray, ['sort', 'toSorted', 'filter'], tooLong);
  guard(typedArray, ['join', 'toString', 'toLocaleString'], joinTooLong);
  const array = Array.prototype as unknown as Record<string, unknown>;
  guard(array, ['fill', 'copyWithin', 'flat', 'flatMap', 'map', 'filter', 'slice', 'splice', 'toReversed', 'toSorted', 'toSpliced', 'with', 'reverse', 'sort'], tooLong);
  guard(array, ['join', 'toString', 'toLocaleString'], joinTooLong);
  guard(array, ['concat'], (self, args) => {
    const total = [self, ...args].reduce<number>((n, part) => n + (Array.isArray(part) || ArrayBuffer.isView(part) ? lengthOf(part) : 1), 0);
    return total > MAX_ARRAY_LENGTH ? `arrays of more than ${MAX_ARRAY_LENGTH} elements are not available here` : undefined;
  });
  const record = Object.freeze(Object.assign(Object.create(null) as object, { name: 'Array', prototype: Array.prototype }));
  Object.defineProperty(Array.prototype, 'constructor', { value: record, writable: false, configurable: false, enumerable: false });

  const string = String.prototype as unknown as Record<string, unknown>;
  const own = (self: unknown) => String(self).length;
  guard(string, ['repeat'], (self, [count]) => textTooLong(own(self) * Math.max(0, Number(count) || 0)));
  guard(string, ['padStart', 'padEnd'], (self, [max]) => textTooLong(Number(max) || 0));
  guard(string, ['concat'], (self, args) => textTooLong(args.reduce<number>((n, a) => n + String(a).length, own(self))));
  // A replacement may insert the text before or after each match ($` and $'): quadratic. An
  // object replacement is its text; a function's answers are counted as it gives them.
  wrapMethods(string, ['replace', 'replaceAll'], (original) =>
    function countedReplace(this: unknown, ...args: unknown[]) {
      const by = args[1];
      const replacement = typeof by === 'function' ? '' : String(by);
      const inserted = /\$[`']/.test(replacement) ? own(this) + replacement.length : replacement.length;
      const refused = textTooLong(own(this) * (inserted + 1));
      if (refused) throw new RangeError(refused);
      if (typeof by === 'function') {
        let total = own(this);
        args[1] = function counted(this: unknown, ...match: unknown[]) {
          const text = String(reflectApply(by as Method, this, match));
          total += text.length;
          const tooMuch = textTooLong(total);
          if (tooMuch) throw new RangeError(tooMuch);
          return text;
        };
      }
      return reflectApply(original, this, args);
    },
  );
  // A string pattern is compiled as a RegExp, whose compiler's memory no limit sees.
  guard(string, ['match', 'matchAll', 'search'], (_self, [pattern]) =>
    typeof pattern === 'string' && pattern.length > MAX_PATTERN_LENGTH ? `patterns of more than ${MAX_PATTERN_LENGTH} characters are not available here` : undefined,
  );
  guard(string, ['normalize', 'toUpperCase', 'toLowerCase', 'toLocaleUpperCase', 'toLocaleLowerCase', 'toWellFormed'], (self) => textTooLong(own(self) * 3));
  // The HTML methods quote their argument (each " becomes &quot;).
  const html = ['anchor', 'big', 'blink', 'bold', 'fixed', 'fontcolor', 'fontsize', 'italics', 'link', 'small', 'strike', 'sub', 'sup'];
  guard(string, html, (self, [attribute]) => textTooLong(own(self) + 6 * (attribute === undefined ? 0 : String(attribute).length) + 32));
  guard(string, ['split'], (self, [, limit]) =>
    limit !== undefined && Number(limit) >= 0 && Number(limit) <= MAX_ARRAY_LENGTH ? undefined : tooLong(String(self)),
  );
  // Digits of a BigInt: about its bit length over log2(radix).
  guard(BigInt.prototype, ['toString', 'toLocaleString'], (self, [radix]) => {
    const value = BigInt.prototype.valueOf.call(self as bigint);
    const bitsPerDigit = Math.log2(Math.min(36, Math.max(2, Number(radix) || 10)));
    const magnitude = value < 0n ? -value : value;
    return magnitude >> BigInt(Math.floor(MAX_STRING_LENGTH * bitsPerDigit)) > 0n ? textTooLong(Infinity) : undefined;
  });

  guard(Function.prototype as unknown as Record<string, unknown>, ['apply'], (_self, [, list]) =>
    lengthOf(list) > MAX_APPLY_ARGUMENTS ? `calls with more than ${MAX_APPLY_ARGUMENTS} arguments are not available here` : undefined,
  );

  // Listing the keys of a big (typed) array is one array of a string per element.
  // (A String object has a key per character.)
  const keyed = (target: unknown) =>
    Array.isArray(target) || ArrayBuffer.isView(target) || target instanceof String ? tooLong(target) : undefined;
  guard(Object as unknown as Record<string, unknown>, ['keys', 'values', 'entries', 'getOwnPropertyNames', 'getOwnPropertyDescriptors'], (_self, [target]) => keyed(target));
  guard(Reflect as unknown as Record<string, unknown>, ['ownKeys'], (_self, [target]) => keyed(target));
}

/** Replace each method with one that first asks `check`, and refuses with its reason. */
function guard(holder: object, names: readonly string[], check: Check): void {
  wrapMethods(holder, names, (original) =>
    function guarded(this: unknown, ...args: unknown[]) {
      const refused = check(this, args);
      if (refused) throw new RangeError(refused);
      return reflectApply(original, this, args);
    },
  );
}
