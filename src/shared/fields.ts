import { parseId } from './ids';

/**
 * Input fields, declared once as data. Each kind's rule is written here once, as a pure parse
 * function plus what an absent value means and a JSON Schema fragment; validation.ts turns a set
 * of fields into the express-validator schema of the REST door and the plain check of the socket
 * door, and into the JSON Schema of the OpenAPI document. A new rule is a new kind here.
 */
export type FieldSpec = IdSpec | LimitSpec | ChoiceSpec | StringSpec | TimeSpec | IdListSpec | UuidSpec;

interface Described {
  /** For the OpenAPI document; each kind has a default. */
  description?: string;
}

/** A positive integer id up to `max`, from a JSON number or a decimal string. */
export interface IdSpec extends Described {
  kind: 'id';
  max: number;
  optional?: boolean;
}

/** A page size: a positive integer, `fallback` when absent, capped at `max`. */
export interface LimitSpec extends Described {
  kind: 'limit';
  fallback: number;
  max: number;
}

/** One word of a fixed set, `fallback` when absent. */
export interface ChoiceSpec<C extends string = string> extends Described {
  kind: 'choice';
  choices: readonly C[];
  fallback: C;
}

/** A string without NUL; `maxLength` guards against huge values where the business rule has no limit of its own. */
export interface StringSpec extends Described {
  kind: 'string';
  optional?: boolean;
  minLength?: number;
  maxLength?: number;
}

/** A date or date-time in ISO-8601 form, as a Date. */
export interface TimeSpec extends Described {
  kind: 'time';
  optional?: boolean;
}

/** An array of at most `maxItems` ids, each up to `max`; `noun` names them in the message ("user ids"). */
export interface IdListSpec extends Described {
  kind: 'idList';
  max: number;
  maxItems: number;
  noun: string;
}

/** A UUID (a webhook delivery id), lower-cased; `noun` names it in the message. */
export interface UuidSpec extends Described {
  kind: 'uuid';
  noun: string;
  optional?: boolean;
}

/** The fields of one input (a body, a query, a path or a socket payload), in the order errors are listed. */
export type Fields = Readonly<Record<string, FieldSpec>>;

type ValueOf<S extends FieldSpec> = S extends IdSpec | LimitSpec
  ? number
  : S extends ChoiceSpec<infer C>
    ? C
    : S extends StringSpec | UuidSpec
      ? string
      : S extends TimeSpec
        ? Date
        : number[];

type OptionalKey<F extends Fields> = { [K in keyof F]: F[K] extends { optional: true } ? K : never }[keyof F];

type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** The sanitised input that a set of fields yields: handlers and controllers need not restate it. */
export type Input<F extends Fields> = Simplify<{ [K in Exclude<keyof F, OptionalKey<F>>]: ValueOf<F[K]> } & { [K in OptionalKey<F>]?: ValueOf<F[K]> }>;

// Shorthands that keep `optional` and the choices as literal types, for Input<F>.
type Options<O extends boolean> = { optional?: O; description?: string };

export const idField = <O extends boolean = false>(max: number, options: Options<O> = {}): IdSpec & { optional: O } => ({
  kind: 'id',
  max,
  ...options,
  optional: Boolean(options.optional) as O,
});

export const limitField = (fallback: number, max: number): LimitSpec => ({ kind: 'limit', fallback, max });

export const choiceField = <C extends string>(choices: readonly C[], fallback: NoInfer<C>): ChoiceSpec<C> => ({ kind: 'choice', choices, fallback });

export const stringField = <O extends boolean = false>(
  options: Options<O> & { minLength?: number; maxLength?: number } = {},
): StringSpec & { optional: O } => ({ kind: 'string', ...options, optional: Boolean(options.optional) as O });

export const timeField = <O extends boolean = false>(options: Options<O> = {}): TimeSpec & { optional: O } => ({
  kind: 'time',
  ...options,
  optional: Boolean(options.optional) as O,
});

export const uuidField = <O extends boolean = false>(noun: string, options: Options<O> = {}): UuidSpec & { optional: O } => ({
  kind: 'uuid',
  noun,
  ...options,
  optional: Boolean(options.optional) as O,
});

export const idListField = (max: number, maxItems: number, noun: string): IdListSpec => ({ kind: 'idList', max, maxItems, noun });

/** A refused value and why, worded as in the contract ("must be a positive integer id"). */
export class Refusal {
  constructor(readonly message: string) {}
}

/** The subset of JSON Schema 2020-12 (OpenAPI 3.1) that the fields need. */
export interface JsonSchema {
  type?: 'integer' | 'string' | 'array' | 'object';
  format?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  maxItems?: number;
  enum?: readonly string[];
  default?: unknown;
  description?: string;
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
}

/** A field's rule, compiled from its spec. */
export interface FieldRule {
  /** Absent (undefined or null) is allowed and leaves the field out. */
  readonly optional: boolean;
  /** When defined, an undefined, null, '' or NaN value becomes this before parsing (express-validator's `default`). */
  readonly fallback?: unknown;
  /** The sanitised value, or a Refusal. For a list, only the list itself: its items go through `item`. */
  readonly parse: (value: unknown) => unknown;
  readonly item?: (value: unknown) => unknown;
  readonly jsonSchema: JsonSchema;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A date or date-time in ISO-8601 form; Date.parse alone would also take "1" (year 2001) or "May 3". */
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;

/**
 * Half a surrogate pair (a cut emoji) is valid in a JS string and in JSON but not in UTF-8: it
 * becomes U+FFFD, as the database driver would do anyway, so stored, echoed and deduplicated text agree.
 */
const wellFormed = (text: string): string => (text as string & { toWellFormed(): string }).toWellFormed();

const idRule = (spec: IdSpec): FieldRule => {
  const refusal = new Refusal(spec.optional ? 'must be a positive integer id when given' : 'must be a positive integer id');
  return {
    optional: Boolean(spec.optional),
    parse: (value) => parseId(value, spec.max) ?? refusal,
    jsonSchema: { type: 'integer', minimum: 1, maximum: spec.max, description: spec.description ?? 'A positive integer id (a decimal string is taken too)' },
  };
};

const RULES: { [K in FieldSpec['kind']]: (spec: Extract<FieldSpec, { kind: K }>) => FieldRule } = {
  id: idRule,

  limit: (spec) => {
    const refusal = new Refusal('must be a positive integer');
    return {
      optional: false,
      fallback: spec.fallback,
      parse: (value) => {
        const limit = parseId(value, Number.MAX_SAFE_INTEGER);
        return limit === undefined ? refusal : Math.min(limit, spec.max);
      },
      // No `maximum`: a larger value is capped, not refused.
      jsonSchema: { type: 'integer', minimum: 1, default: spec.fallback, description: spec.description ?? `A page size; above ${spec.max} counts as ${spec.max}` },
    };
  },

  choice: (spec) => {
    const { choices } = spec;
    // A repeated query parameter (an array) is refused like any other non-string.
    const refusal = new Refusal(`must be ${choices.slice(0, -1).join(', ')} or ${choices.at(-1)}`);
    return {
      optional: false,
      fallback: spec.fallback,
      parse: (value) => (typeof value === 'string' && choices.includes(value) ? value : refusal),
      jsonSchema: { type: 'string', enum: choices, default: spec.fallback, ...(spec.description && { description: spec.description }) },
    };
  },

  string: (spec) => {
    const { minLength = 0, maxLength } = spec;
    const refusal = new Refusal(maxLength === undefined ? 'must be a string' : `must be a string of ${minLength} to ${maxLength} characters`);
    // PostgreSQL text cannot hold NUL.
    const withNul = new Refusal('must not contain NUL characters');
    return {
      optional: Boolean(spec.optional),
      parse: (value) => {
        if (typeof value !== 'string' || value.length < minLength || (maxLength !== undefined && value.length > maxLength)) return refusal;
        return value.includes('\u0000') ? withNul : wellFormed(value);
      },
      jsonSchema: {
        type: 'string',
        ...(minLength > 0 && { minLength }),
        ...(maxLength !== undefined && { maxLength }),
        ...(spec.description && { description: spec.description }),
      },
    };
  },

  time: (spec) => {
    const refusal = new Refusal('must be an ISO-8601 time');
    return {
      optional: Boolean(spec.optional),
      // Year 0000 parses in JavaScript but is no date in PostgreSQL.
      parse: (value) => (typeof value === 'string' && ISO_8601.test(value) && !value.startsWith('0000') && !Number.isNaN(Date.parse(value)) ? new Date(value) : refusal),
      jsonSchema: { type: 'string', format: 'date-time', description: spec.description ?? 'An ISO-8601 date-time (a date alone is taken too)' },
    };
  },

  uuid: (spec) => {
    const refusal = new Refusal(`must be a ${spec.noun}`);
    return {
      optional: Boolean(spec.optional),
      // A repeated query parameter (an array) is refused like any other non-string.
      parse: (value) => (typeof value === 'string' && UUID.test(value) ? value.toLowerCase() : refusal),
      jsonSchema: { type: 'string', format: 'uuid', description: spec.description ?? `A ${spec.noun} (a UUID)` },
    };
  },

  idList: (spec) => {
    const item = idRule({ kind: 'id', max: spec.max });
    const refusal = new Refusal(`must be an array of at most ${spec.maxItems} ${spec.noun}`);
    return {
      optional: false,
      parse: (value) => (Array.isArray(value) && value.length <= spec.maxItems ? value : refusal),
      item: item.parse,
      jsonSchema: { type: 'array', maxItems: spec.maxItems, items: item.jsonSchema, ...(spec.description && { description: spec.description }) },
    };
  },
};

const rules = new WeakMap<FieldSpec, FieldRule>();

/** The rule of a field, compiled once per spec. */
export function ruleOf(spec: FieldSpec): FieldRule {
  let rule = rules.get(spec);
  if (!rule) rules.set(spec, (rule = (RULES[spec.kind] as (spec: FieldSpec) => FieldRule)(spec)));
  return rule;
}
