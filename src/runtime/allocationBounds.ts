import { reflectApply, wrapMethods, type Method } from './wrapMethods.js';

/**
 * One JavaScript allocation far past the worker's heap limit is not stopped by it: V8 aborts the
 * whole process. Python reaches such allocations through the methods of values it holds: an array
 * made huge in one step (`a.length = 10**8; a.fill(0)`), a join or concat of many long parts, a
 * String object (`valueOf.call('x')` boxes one) repeated, a typed array sorted with a comparator,
 * an `apply` whose arguments are a huge array-like, the keys of a big typed array (Pyodide's
 * `object_keys()` and `dir()`). Each of these refuses sizes no Python code needs: 2^20 elements,
 * 2^24 characters, 2^16 arguments, and string patterns (compiled as RegExps) of 2^16 characters.
 *
 * A bound must measure what the method will use. A method coerces its arguments and `this` itself
 * (ToString, ToNumber, the `length` of an array-like), and each coercion can run Python code: a
 * `toString` or `valueOf` that is a stateful library method (`list.pop` bound, a property) answers
 * small once and huge the next time. So every wrapper here coerces once, measures the result, and
 * hands the method those primitive values (or a plain array it made): the method never asks again.
 */
const MAX_ARRAY_LENGTH = 1 << 20;
const MAX_STRING_LENGTH = 1 << 24;
const MAX_APPLY_ARGUMENTS = 1 << 16;
const MAX_PATTERN_LENGTH = 1 << 16;

const ARRAY_REFUSED = `arrays of more than ${MAX_ARRAY_LENGTH} elements are not available here`;
const TEXT_REFUSED = `strings of more than ${MAX_STRING_LENGTH} characters are not available here`;

/** What a wrapped method receives: `this` and arguments as coerced (and measured) by its bound. */
type Call = { self: unknown; args: unknown[] };
/** Coerce once as the method would, throw a RangeError past a bound, return what the method gets. */
type Prepare = (self: unknown, args: unknown[]) => Call;

/** ToString: a template literal throws on a Symbol, as the methods do (String() would not). */
const toText = (value: unknown): string => (typeof value === 'string' ? value : `${value as string}`);
/** ToNumber: unary plus throws on a BigInt and a Symbol, as the methods do (Number() would not). */
const toNumber = (value: unknown): number => (typeof value === 'number' ? value : +(value as number));
/** RequireObjectCoercible, then ToString: `this` of a String.prototype method. */
const thisText = (self: unknown, name: string): string => {
  if (self === null || self === undefined) throw new TypeError(`String.prototype.${name} called on null or undefined`);
  return toText(self);
};
const checkText = (length: number): void => {
  if (length > MAX_STRING_LENGTH) throw new RangeError(TEXT_REFUSED);
};
const checkArray = (length: number): void => {
  if (length > MAX_ARRAY_LENGTH) throw new RangeError(ARRAY_REFUSED);
};
/** ToLength of an array-like's `length`, read once. */
const lengthOnce = (items: object): number => {
  const n = toNumber((items as { length?: unknown }).length);
  return Number.isNaN(n) || n <= 0 ? 0 : Math.min(Math.floor(n), Number.MAX_SAFE_INTEGER);
};
/** A RegExp is passed on as itself (its text is fixed); any other pattern is coerced to its text. */
const regExpSource = Object.getOwnPropertyDescriptor(RegExp.prototype, 'source')!.get as Method;
const patternOf = (pattern: unknown): unknown => {
  if (pattern === undefined || pattern === null) return pattern;
  if (typeof pattern === 'object') {
    try {
      reflectApply(regExpSource, pattern, []); // throws unless a RegExp
      return pattern;
    } catch {
      /* not a RegExp: its text */
    }
  }
  return toText(pattern);
};

/** A bound that reads nothing the caller controls twice: a real array's length, a view's. */
const tooLong = (self: unknown): string | undefined =>
  ((self as { length?: unknown } | null | undefined)?.length as number) > MAX_ARRAY_LENGTH ? ARRAY_REFUSED : undefined;

const lengthOf = (value: unknown) => (typeof value === 'string' ? value.length : (value as { length?: number } | null)?.length ?? 0);

export function boundAllocations(): void {
  const typedArrayProto = Object.getPrototypeOf(Uint8Array.prototype) as Record<string, unknown>;
  const viewLength = Object.getOwnPropertyDescriptor(typedArrayProto, 'length')!.get as Method;
  const arrayJoin = Array.prototype.join;
  /** Join text measured before it is made: the parts are coerced here, once, and joined as strings. */
  const joinParts = (parts: string[], separator: string): string => {
    let total = 0;
    for (const part of parts) total += part.length + separator.length;
    checkText(total);
    return reflectApply(arrayJoin, parts, [separator]) as string;
  };
  // V8 joins an array met again inside its own join (a cycle) as ''.
  const joining = new Set<object>();
  const arrayLike = (self: unknown): { items: Record<number, unknown>; length: number } => {
    if (self === null || self === undefined) throw new TypeError('Array.prototype method called on null or undefined');
    const items = Object(self) as Record<number, unknown>;
    const length = lengthOnce(items);
    checkArray(length);
    return { items, length };
  };

  // Sorting with a comparator and filtering copy the elements into work arrays first. A view's
  // length is its own (no getter of the caller's): one read is the truth.
  guard(typedArrayProto, ['sort', 'toSorted', 'filter'], tooLong);
  // A view's elements are numbers (at most 24 characters each); its separator is the caller's.
  wrapMethods(typedArrayProto, ['join'], (original) =>
    function boundedViewJoin(this: unknown, ...args: unknown[]) {
      const length = reflectApply(viewLength, this, []) as number;
      checkArray(length);
      const separator = args[0] === undefined ? ',' : toText(args[0]);
      checkText(length * (24 + separator.length));
      return reflectApply(original, this, [separator]);
    },
  );
  const array = Array.prototype as unknown as Record<string, unknown>;
  // An array's length is its own; any other `this` (a Python object with a `length` property)
  // may answer differently each time it is asked. The methods that make a new array get a plain
  // copy of what it held when asked once (a callback's third argument is that copy); sorting
  // one, which copies it into a work array first, sorts the copy and writes it back; splice, whose
  // result is as long as it says, takes arrays only. Filling, reversing and copying within
  // make nothing new.
  guard(array, ['fill', 'copyWithin', 'reverse'], tooLong);
  const plain = (self: unknown): unknown[] => {
    if (Array.isArray(self)) {
      checkArray(self.length);
      return self;
    }
    const { items, length } = arrayLike(self);
    const copy: unknown[] = [];
    for (let i = 0; i < length; i += 1) copy.push(items[i]);
    return copy;
  };
  bound(array, ['flat', 'flatMap', 'map', 'filter', 'slice', 'toReversed', 'toSorted', 'toSpliced', 'with'], (self, args) => ({ self: plain(self), args }));
  bound(array, ['splice'], (self, args) => {
    if (!Array.isArray(self)) throw new TypeError('Array.prototype.splice is available here on arrays only');
    checkArray(self.length);
    return { self, args };
  });
  wrapMethods(array, ['sort'], (original) =>
    function boundedSort(this: unknown, ...args: unknown[]) {
      if (Array.isArray(this)) {
        checkArray(this.length);
        return reflectApply(original, this, args);
      }
      const copy = plain(this);
      reflectApply(original, copy, args);
      const target = this as Record<number, unknown>;
      for (let i = 0; i < copy.length; i += 1) target[i] = copy[i];
      return this;
    },
  );
  // Array.prototype.toString (which is also the views') calls this.join: the bounded join.
  wrapMethods(array, ['join'], () =>
    function boundedJoin(this: unknown, ...args: unknown[]) {
      const { items, length } = arrayLike(this);
      const separator = args[0] === undefined ? ',' : toText(args[0]);
      if (joining.has(items)) return '';
      joining.add(items);
      try {
        const parts: string[] = [];
        let total = 0;
        for (let i = 0; i < length; i += 1) {
          const item = items[i];
          const part = item === null || item === undefined ? '' : toText(item);
          total += part.length + separator.length;
          checkText(total);
          parts.push(part);
        }
        return joinParts(parts, separator);
      } finally {
        joining.delete(items);
      }
    },
  );
  // Each element's toLocaleString is the caller's: its answer is what is counted and joined.
  const localeJoin = () =>
    function boundedLocaleJoin(this: unknown, ...args: unknown[]) {
      const { items, length } = ArrayBuffer.isView(this)
        ? { items: this as unknown as Record<number, unknown>, length: reflectApply(viewLength, this, []) as number }
        : arrayLike(this);
      checkArray(length);
      const parts: string[] = [];
      let total = 0;
      for (let i = 0; i < length; i += 1) {
        const item = items[i] as { toLocaleString?: unknown } | null | undefined;
        const part = item === null || item === undefined ? '' : toText(reflectApply(Object(item).toLocaleString as Method, item, args));
        total += part.length + 1;
        checkText(total);
        parts.push(part);
      }
      return joinParts(parts, ',');
    };
  wrapMethods(array, ['toLocaleString'], localeJoin);
  wrapMethods(typedArrayProto, ['toLocaleString'], localeJoin);
  guard(array, ['concat'], (self, args) => {
    const total = [self, ...args].reduce<number>((n, part) => n + (Array.isArray(part) || ArrayBuffer.isView(part) ? lengthOf(part) : 1), 0);
    return total > MAX_ARRAY_LENGTH ? ARRAY_REFUSED : undefined;
  });
  const record = Object.freeze(Object.assign(Object.create(null) as object, { name: 'Array', prototype: Array.prototype }));
  Object.defineProperty(Array.prototype, 'constructor', { value: record, writable: false, configurable: false, enumerable: false });

  const string = String.prototype as unknown as Record<string, unknown>;
  bound(string, ['repeat'], (self, [count]) => {
    const text = thisText(self, 'repeat');
    const times = toNumber(count);
    checkText(text.length * (times > 0 ? times : 0));
    return { self: text, args: [times] };
  });
  bound(string, ['padStart', 'padEnd'], (self, [max, fill]) => {
    const text = thisText(self, 'padStart');
    const length = toNumber(max);
    checkText(length || 0);
    return { self: text, args: [length, fill === undefined ? undefined : toText(fill)] };
  });
  bound(string, ['concat'], (self, args) => {
    const text = thisText(self, 'concat');
    const parts = args.map(toText);
    checkText(parts.reduce((n, a) => n + a.length, text.length));
    return { self: text, args: parts };
  });
  // A replacement may insert the text before or after each match ($` and $'): quadratic. An
  // object replacement is its text; a function's answers are counted as it gives them.
  bound(string, ['replace', 'replaceAll'], (self, [pattern, by]) => {
    const text = thisText(self, 'replace');
    const search = patternOf(pattern);
    if (typeof by === 'function') {
      let total = text.length;
      const counted = function counted(this: unknown, ...match: unknown[]) {
        const answer = toText(reflectApply(by as Method, this, match));
        total += answer.length;
        checkText(total);
        return answer;
      };
      return { self: text, args: [search, counted] };
    }
    const replacement = toText(by);
    const inserted = /\$[`']/.test(replacement) ? text.length + replacement.length : replacement.length;
    checkText((text.length + 1) * (inserted + 1));
    return { self: text, args: [search, replacement] };
  });
  // A string pattern is compiled as a RegExp, whose compiler's memory no limit sees.
  for (const name of ['match', 'matchAll', 'search']) {
    bound(string, [name], (self, [pattern]) => {
      const text = thisText(self, name);
      const source = patternOf(pattern);
      if (typeof source === 'string' && source.length > MAX_PATTERN_LENGTH) {
        throw new RangeError(`patterns of more than ${MAX_PATTERN_LENGTH} characters are not available here`);
      }
      return { self: text, args: [source] };
    });
  }
  bound(string, ['normalize', 'toUpperCase', 'toLowerCase', 'toLocaleUpperCase', 'toLocaleLowerCase', 'toWellFormed'], (self, args) => {
    const text = thisText(self, 'toUpperCase');
    checkText(text.length * 3);
    return { self: text, args };
  });
  // The HTML methods quote their argument (each " becomes &quot;).
  const html = ['anchor', 'big', 'blink', 'bold', 'fixed', 'fontcolor', 'fontsize', 'italics', 'link', 'small', 'strike', 'sub', 'sup'];
  bound(string, html, (self, [attribute]) => {
    const text = thisText(self, 'anchor');
    const value = toText(attribute);
    checkText(text.length + 6 * value.length + 32);
    return { self: text, args: [value] };
  });
  bound(string, ['split'], (self, [separator, limit]) => {
    const text = thisText(self, 'split');
    const by = patternOf(separator);
    const max = limit === undefined ? undefined : toNumber(limit) >>> 0;
    if (max === undefined || max > MAX_ARRAY_LENGTH) checkArray(text.length);
    return { self: text, args: [by, max] };
  });
  // Digits of a BigInt: about its bit length over log2(radix).
  const digitsFit = (self: unknown, radix: number): bigint => {
    const value = BigInt.prototype.valueOf.call(self as bigint);
    const bitsPerDigit = Math.log2(Math.min(36, Math.max(2, radix || 10)));
    const magnitude = value < 0n ? -value : value;
    if (magnitude >> BigInt(Math.floor(MAX_STRING_LENGTH * bitsPerDigit)) > 0n) checkText(Infinity);
    return value;
  };
  bound(BigInt.prototype, ['toString'], (self, [radix]) => {
    const base = radix === undefined ? undefined : toNumber(radix);
    return { self: digitsFit(self, base ?? 10), args: base === undefined ? [] : [base] };
  });
  // Decimal digits with grouping; the locale and options are Intl's to read (their sizes are bounded).
  bound(BigInt.prototype, ['toLocaleString'], (self, args) => ({ self: digitsFit(self, 10), args }));

  // An argument list is read here, into a plain array of at most 2^16 values: its `length` (a
  // Python property, say) is asked once, and the call gets the copy.
  const argumentList = (list: unknown): unknown[] => {
    if (typeof list !== 'object' && typeof list !== 'function') throw new TypeError('CreateListFromArrayLike called on non-object');
    if (list === null) throw new TypeError('CreateListFromArrayLike called on non-object');
    const length = lengthOnce(list);
    if (length > MAX_APPLY_ARGUMENTS) throw new RangeError(`calls with more than ${MAX_APPLY_ARGUMENTS} arguments are not available here`);
    const out: unknown[] = [];
    for (let i = 0; i < length; i += 1) out.push((list as Record<number, unknown>)[i]);
    return out;
  };
  bound(Function.prototype, ['apply'], (self, [thisArg, list]) => ({
    self,
    args: list === null || list === undefined ? [thisArg] : [thisArg, argumentList(list)],
  }));
  bound(Reflect, ['apply'], (self, [target, thisArg, list, ...rest]) => ({ self, args: [target, thisArg, argumentList(list), ...rest] }));
  bound(Reflect, ['construct'], (self, [target, list, ...rest]) => ({ self, args: [target, argumentList(list), ...rest] }));

  // Listing the keys of a big (typed) array is one array of a string per element.
  // (A String object has a key per character.)
  const keyed = (target: unknown) =>
    Array.isArray(target) || ArrayBuffer.isView(target) || target instanceof String ? tooLong(target) : undefined;
  guard(Object as unknown as Record<string, unknown>, ['keys', 'values', 'entries', 'getOwnPropertyNames', 'getOwnPropertyDescriptors'], (_self, [target]) => keyed(target));
  guard(Reflect as unknown as Record<string, unknown>, ['ownKeys'], (_self, [target]) => keyed(target));
}

type Check = (self: unknown, args: unknown[]) => string | undefined;

/**
 * Replace each method with one that first asks `check`, and refuses with its reason. Only for
 * checks that read what the caller cannot change between two reads (see above).
 */
function guard(holder: object, names: readonly string[], check: Check): void {
  wrapMethods(holder, names, (original) =>
    function guarded(this: unknown, ...args: unknown[]) {
      const refused = check(this, args);
      if (refused) throw new RangeError(refused);
      return reflectApply(original, this, args);
    },
  );
}

/** Replace each method with one that calls it with what `prepare` coerced and measured. */
function bound(holder: object, names: readonly string[], prepare: Prepare): void {
  wrapMethods(holder, names, (original) =>
    function bounded(this: unknown, ...args: unknown[]) {
      const call = prepare(this, args);
      return reflectApply(original, call.self, call.args);
    },
  );
}
