import { z } from 'zod';
import { ERROR_CODES, type ErrorInfo } from '../errors.js';

/**
 * A free-form object. Declared as `additionalProperties: true` in JSON Schema: zod writes `{}` for
 * `unknown`, a schema with no keyword that strict checkers (the MCP Inspector's --strict) flag.
 */
export const FreeFormSchema = () => z.record(z.string(), z.unknown()).meta({ additionalProperties: true });

/** ErrorInfo as tool results declare it. */
export const ErrorInfoSchema = z.object({
  code: z.enum(ERROR_CODES),
  message: z.string(),
  details: FreeFormSchema().optional(),
});

// The schema and the plain type are one shape: a change to either fails the build here.
const sameShape: [z.infer<typeof ErrorInfoSchema>, ErrorInfo] extends [ErrorInfo, z.infer<typeof ErrorInfoSchema>] ? true : never = true;
void sameShape;
