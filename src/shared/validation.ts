import { checkSchema, matchedData, type ParamSchema, type Schema, validationResult } from 'express-validator';
import { type ErrorDetail, validationFailed } from './errors';
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
  requireObject(data, location);
  const req: Record<string, unknown> = { [location]: data };
  await chainsFor(schema, location).run(req);
  const errors = validationResult(req).array({ onlyFirstError: true });
  if (errors.length) {
    const details = errors.map((e) => ({ field: e.type === 'field' ? e.path : undefined, location, message: String(e.msg) }));
    throw invalid(inSchemaOrder(schema, details));
  }
  return matchedData(req, { locations: [location], includeOptionals: false }) as T;
}

/**
 * The same validation without express-validator's per-call machinery where the schema allows: a
 * schema built only from this module's field helpers is compiled once into a plain loop over the
 * same rules, which costs about a microsecond instead of most of a request's validation budget
 * (and a few kilobytes of garbage per call). Any other schema runs through validateInput. Both
 * give the same result and the same errors (tests/unit/validation.test.ts). REST routes and socket
 * events both come through here.
 */
export function validateFields<T>(schema: Schema, data: unknown, location: InputLocation): Promise<T> | T {
  const compiled = compiledFor(schema);
  if (!compiled) return validateInput<T>(schema, data, location);
  requireObject(data, location);
  return compiled(data as Record<string, unknown>, location) as T;
}

/** A socket event's payload: validated as a body would be. */
export const validatePayload = <T>(schema: Schema, payload: unknown): Promise<T> | T => validateFields<T>(schema, payload, 'body');

function requireObject(data: unknown, location: InputLocation): void {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw validationFailed(`The ${location === 'body' ? 'payload' : location} must be a JSON object`);
  }
}

/** express-validator lists errors as its chains finish; clients get them in the schema's order. */
function inSchemaOrder(schema: Schema, details: ErrorDetail[]): ErrorDetail[] {
  const fields = Object.keys(schema);
  const rank = (field?: string) => {
    const i = field === undefined ? -1 : fields.indexOf(field);
    return i === -1 ? fields.length : i;
  };
  return details.sort((a, b) => rank(a.field) - rank(b.field));
}

function invalid(details: ErrorDetail[]) {
  return validationFailed(details.map((d) => (d.field ? `${d.field} ${d.message}` : d.message)).join('; '), details);
}

/** A field rule in plain form, attached to the express-validator field it was built with. */
interface PlainRule {
  /** Absent (undefined or null) is allowed and leaves the field out. */
  optional: boolean;
  /** The sanitised value, or why it is refused. Called with every value the optional flag lets through. */
  parse(value: unknown): unknown;
}

/** A refused value, with the message express-validator would give. */
class Invalid {
  constructor(readonly message: string) {}
}

const PLAIN_RULE = Symbol('plain rule');

type Field = ParamSchema & { [PLAIN_RULE]?: PlainRule };

/** Attaches the plain form of a rule. Symbol keys are invisible to express-validator's checkSchema. */
const withPlainRule = (field: ParamSchema, rule: PlainRule): ParamSchema => Object.assign(field, { [PLAIN_RULE]: rule });

type CompiledCheck = (data: Record<string, unknown>, location: InputLocation) => Record<string, unknown>;

const compiledChecks = new WeakMap<Schema, CompiledCheck | null>();

/** The compiled check of a schema, or undefined when one of its fields has no plain form. */
export function compiledFor(schema: Schema): CompiledCheck | undefined {
  let compiled = compiledChecks.get(schema);
  if (compiled === undefined) compiledChecks.set(schema, (compiled = compile(schema)));
  return compiled ?? undefined;
}

function compile(schema: Schema): CompiledCheck | null {
  const rules: [string, PlainRule][] = [];
  for (const [name, field] of Object.entries(schema)) {
    const rule = (field as Field)[PLAIN_RULE];
    if (!rule) return null;
    rules.push([name, rule]);
  }
  return (data, location) => {
    const input: Record<string, unknown> = {};
    let details: ErrorDetail[] | undefined;
    for (const [name, rule] of rules) {
      const value = data[name];
      if (rule.optional && (value === undefined || value === null)) continue;
      const parsed = rule.parse(value);
      if (parsed instanceof Invalid) (details ??= []).push({ field: name, location, message: parsed.message });
      else input[name] = parsed;
    }
    if (details) throw invalid(details);
    return input;
  };
}

const nullOrAbsent = { options: { values: 'null' as const } };

/** A positive integer id, from a JSON number or a decimal string. */
export function idField(max: number, options: { optional?: boolean } = {}): ParamSchema {
  const message = options.optional ? 'must be a positive integer id when given' : 'must be a positive integer id';
  return withPlainRule(
    {
      ...(options.optional ? { optional: nullOrAbsent } : {}),
      custom: { options: (value: unknown) => parseId(value, max) !== undefined },
      customSanitizer: { options: (value: unknown) => parseId(value, max) },
      errorMessage: message,
    },
    { optional: Boolean(options.optional), parse: (value) => parseId(value, max) ?? new Invalid(message) },
  );
}

/** A page size: a positive integer, `fallback` when absent, capped at `max`. */
export function limitField(fallback: number, max: number): ParamSchema {
  const message = 'must be a positive integer';
  return withPlainRule(
    {
      default: { options: fallback },
      custom: { options: (value: unknown) => parseId(value, Number.MAX_SAFE_INTEGER) !== undefined },
      customSanitizer: { options: (value: unknown) => Math.min(parseId(value, Number.MAX_SAFE_INTEGER)!, max) },
      errorMessage: message,
    },
    {
      optional: false,
      parse: (value) => {
        // express-validator's `default` stands in for these four.
        if (value === undefined || value === null || value === '' || Number.isNaN(value)) value = fallback;
        const limit = parseId(value, Number.MAX_SAFE_INTEGER);
        return limit === undefined ? new Invalid(message) : Math.min(limit, max);
      },
    },
  );
}

/** One word of a fixed set, `fallback` when absent. A repeated query parameter (an array) is refused. */
export function choiceField(choices: readonly string[], fallback: string): ParamSchema {
  const message = `must be ${choices.slice(0, -1).join(', ')} or ${choices.at(-1)}`;
  const valid = (value: unknown) => typeof value === 'string' && choices.includes(value);
  return withPlainRule(
    // `custom`, not `isIn`: express-validator runs its standard validators on each item of an array.
    { default: { options: fallback }, custom: { options: valid }, errorMessage: message },
    {
      optional: false,
      parse: (value) => {
        // express-validator's `default` stands in for these four.
        if (value === undefined || value === null || value === '' || Number.isNaN(value)) value = fallback;
        return valid(value) ? value : new Invalid(message);
      },
    },
  );
}

/** A string field; `maxLength` guards against huge values where the business rule has no limit of its own. */
export function stringField(options: { optional?: boolean; minLength?: number; maxLength?: number } = {}): ParamSchema {
  const { minLength = 0, maxLength } = options;
  const message = maxLength === undefined ? 'must be a string' : `must be a string of ${minLength} to ${maxLength} characters`;
  const problem = (value: unknown): string | undefined => {
    if (typeof value !== 'string' || value.length < minLength || (maxLength !== undefined && value.length > maxLength)) return message;
    // PostgreSQL text cannot hold NUL.
    if (value.includes('\u0000')) return 'must not contain NUL characters';
    return undefined;
  };
  return withPlainRule(
    {
      ...(options.optional ? { optional: nullOrAbsent } : {}),
      custom: {
        options: (value: unknown) => {
          const found = problem(value);
          if (found !== message && found !== undefined) throw new Error(found);
          return found === undefined;
        },
      },
      // Runs even on a refused value.
      customSanitizer: { options: (value: unknown) => (typeof value === 'string' ? wellFormed(value) : value) },
      errorMessage: message,
    },
    {
      optional: Boolean(options.optional),
      parse: (value) => {
        const found = problem(value);
        return found === undefined ? wellFormed(value as string) : new Invalid(found);
      },
    },
  );
}

/**
 * Half a surrogate pair (a cut emoji) is valid in a JS string and in JSON but not in UTF-8: it
 * becomes U+FFFD, as the database driver would do anyway, so stored, echoed and deduplicated text agree.
 */
const wellFormed = (text: string): string => (text as string & { toWellFormed(): string }).toWellFormed();
