import { checkSchema, matchedData, type ParamSchema, type Schema, validationResult } from 'express-validator';
import { validationFailed } from './errors';
import { parseId } from './ids';

export type InputLocation = 'body' | 'query' | 'params';

type Chains = ReturnType<typeof checkSchema>;

/** Chains are built once per schema and location: building them is most of express-validator's cost. */
const compiled = new WeakMap<Schema, Map<InputLocation, Chains>>();

function chainsFor(schema: Schema, location: InputLocation): Chains {
  let byLocation = compiled.get(schema);
  if (!byLocation) compiled.set(schema, (byLocation = new Map()));
  let chains = byLocation.get(location);
  if (!chains) byLocation.set(location, (chains = checkSchema(schema, [location])));
  return chains;
}

/**
 * Runs an express-validator schema over plain data and returns only the declared fields, sanitised.
 * REST middleware and the socket gateway both call this, so one schema serves both doors.
 */
export async function validateInput<T>(schema: Schema, data: unknown, location: InputLocation = 'body'): Promise<T> {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw validationFailed(`The ${location === 'body' ? 'payload' : location} must be a JSON object`);
  }
  const req: Record<string, unknown> = { [location]: data };
  await chainsFor(schema, location).run(req);
  const errors = validationResult(req).array({ onlyFirstError: true });
  if (errors.length) {
    const details = errors.map((e) => ({
      field: e.type === 'field' ? e.path : undefined,
      location,
      message: String(e.msg),
    }));
    throw validationFailed(
      details.map((d) => (d.field ? `${d.field} ${d.message}` : d.message)).join('; '),
      details,
    );
  }
  return matchedData(req, { locations: [location], includeOptionals: false }) as T;
}

const nullOrAbsent = { options: { values: 'null' as const } };

/** A positive integer id, from a JSON number or a decimal string. */
export function idField(max: number, options: { optional?: boolean } = {}): ParamSchema {
  return {
    ...(options.optional ? { optional: nullOrAbsent } : {}),
    custom: { options: (value: unknown) => parseId(value, max) !== undefined },
    customSanitizer: { options: (value: unknown) => parseId(value, max) },
    errorMessage: options.optional ? 'must be a positive integer id when given' : 'must be a positive integer id',
  };
}

/** A page size: a positive integer, `fallback` when absent, capped at `max`. */
export function limitField(fallback: number, max: number): ParamSchema {
  return {
    default: { options: fallback },
    custom: { options: (value: unknown) => parseId(value, Number.MAX_SAFE_INTEGER) !== undefined },
    customSanitizer: { options: (value: unknown) => Math.min(parseId(value, Number.MAX_SAFE_INTEGER)!, max) },
    errorMessage: 'must be a positive integer',
  };
}

/** A string field; `maxLength` guards against huge values where the business rule has no limit of its own. */
export function stringField(options: { optional?: boolean; minLength?: number; maxLength?: number } = {}): ParamSchema {
  const { minLength = 0, maxLength } = options;
  return {
    ...(options.optional ? { optional: nullOrAbsent } : {}),
    custom: {
      options: (value: unknown) =>
        typeof value === 'string' && value.length >= minLength && (maxLength === undefined || value.length <= maxLength),
    },
    errorMessage:
      maxLength === undefined ? 'must be a string' : `must be a string of ${minLength} to ${maxLength} characters`,
  };
}
