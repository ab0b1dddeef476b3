/** The one way the sandbox replaces a JavaScript built-in method (meters, gates, bounds). */

export type Method = (this: unknown, ...args: unknown[]) => unknown;

/** Taken before any method is wrapped: Function.prototype.apply is guarded itself. */
export const reflectApply = Reflect.apply;

/** Replace each named method (that exists) with `wrap(original)`, keeping its attributes. */
export function wrapMethods(holder: object, names: readonly string[], wrap: (original: Method) => Method): void {
  for (const name of names) {
    const original = (holder as Record<string, unknown>)[name];
    if (typeof original !== 'function') continue;
    Object.defineProperty(holder, name, { ...Object.getOwnPropertyDescriptor(holder, name), value: wrap(original as Method) });
  }
}
