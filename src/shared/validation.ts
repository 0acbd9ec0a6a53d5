import { checkSchema, matchedData, type Meta, type ParamSchema, type Schema, validationResult } from 'express-validator';
import { type ErrorDetail, validationFailed } from './errors';
import { type FieldRule, type Fields, type Input, type JsonSchema, Refusal, ruleOf } from './fields';

/**
 * One set of field rules (fields.ts), three products:
 * - the REST door runs express-validator, the product's validation library, over a schema
 *   generated from the fields, whose custom sanitiser and validator are each field's parse;
 * - the socket door runs a plain loop over the same parse functions, because express-validator's
 *   per-call machinery (promises, lodash paths, a few kilobytes of garbage) is most of the send hot
 *   path's validation cost;
 * - toJsonSchema and toParameters give the OpenAPI document its schemas.
 * Both doors give the same input and the same errors (tests/unit/validation.test.ts).
 */

export type InputLocation = 'body' | 'query' | 'params';

/** Refuses anything but a JSON object, worded for where it came from. */
function requireObject(data: unknown, location: InputLocation): asserts data is Record<string, unknown> {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw validationFailed(`The ${location === 'body' ? 'payload' : location} must be a JSON object`);
  }
}

function invalid(details: ErrorDetail[]) {
  return validationFailed(details.map((d) => (d.field ? `${d.field} ${d.message}` : d.message)).join('; '), details);
}

/** express-validator's custom validator after the sanitiser: the parse's refusal, if it gave one, becomes the error. */
function refuseRefusal(value: unknown): true {
  if (value instanceof Refusal) throw new Error(value.message);
  return true;
}

/** The express-validator schema of a set of fields. A list gets a second entry for its items (`name.*`). */
export function expressValidatorSchema(fields: Fields): Schema {
  const schema: Schema = {};
  for (const [name, spec] of Object.entries(fields)) {
    const rule = ruleOf(spec);
    if (rule.item) {
      schema[name] = { custom: { options: (value: unknown) => refuseRefusal(rule.parse(value)) } };
      schema[`${name}.*`] = { customSanitizer: { options: itemParse(name, rule.item) }, custom: { options: refuseRefusal } };
      continue;
    }
    const field: ParamSchema = {};
    if (rule.optional) field.optional = { options: { values: 'null' } };
    if (rule.fallback !== undefined) field.default = { options: rule.fallback };
    // The sanitiser is the parse; the validator reports its refusal. One parse per value.
    field.customSanitizer = { options: rule.parse };
    field.custom = { options: refuseRefusal };
    schema[name] = field;
  }
  return schema;
}

/** A wildcard also walks an object's keys: only an array's items are parsed (the list itself refuses the rest). */
const itemParse =
  (name: string, parse: (value: unknown) => unknown) =>
  (value: unknown, { req, location }: Meta): unknown =>
    Array.isArray((req[location] as Record<string, unknown>)[name]) ? parse(value) : value;

type Chains = ReturnType<typeof checkSchema>;

/** Chains are built once per set of fields and location: building them is most of express-validator's cost. */
const compiledChains = new WeakMap<Fields, Map<InputLocation, Chains>>();

function chainsFor(fields: Fields, location: InputLocation): Chains {
  let byLocation = compiledChains.get(fields);
  if (!byLocation) compiledChains.set(fields, (byLocation = new Map()));
  let chains = byLocation.get(location);
  if (!chains) byLocation.set(location, (chains = checkSchema(expressValidatorSchema(fields), [location])));
  return chains;
}

/**
 * The REST door: express-validator over `data` (a copy of it: express-validator writes its
 * sanitised values into what it checks). Returns only the declared fields, sanitised.
 */
export async function checkWithExpressValidator<F extends Fields>(fields: F, data: unknown, location: InputLocation): Promise<Input<F>> {
  requireObject(data, location);
  const req = { [location]: { ...data } };
  await chainsFor(fields, location).run(req);
  const errors = validationResult(req).array({ onlyFirstError: true });
  if (errors.length) {
    const details = errors.map((e) => ({ field: e.type === 'field' ? e.path : undefined, location, message: String(e.msg) }));
    throw invalid(inDeclarationOrder(fields, details));
  }
  return matchedData(req, { locations: [location], includeOptionals: false }) as Input<F>;
}

/**
 * express-validator lists errors as its chains finish; clients get them in the fields' order,
 * a list's own error before its items' (`userIds`, `userIds[0]`, `userIds[3]`).
 */
function inDeclarationOrder(fields: Fields, details: ErrorDetail[]): ErrorDetail[] {
  const names = Object.keys(fields);
  const rank = ({ field = '' }: ErrorDetail) => {
    const [, name, item] = /^([^[.]*)(?:\[(\d+)\])?/.exec(field)!;
    const i = names.indexOf(name);
    return [i === -1 ? names.length : i, item === undefined ? -1 : Number(item)];
  };
  const ranked = details.map((detail) => ({ detail, rank: rank(detail) }));
  ranked.sort((a, b) => a.rank[0] - b.rank[0] || a.rank[1] - b.rank[1]);
  return ranked.map(({ detail }) => detail);
}

type Check = (data: Record<string, unknown>, location: InputLocation) => Record<string, unknown>;

const compiledChecks = new WeakMap<Fields, Check>();

/** The socket door: the same rules as express-validator applies them, in a plain loop. */
export function checkFields<F extends Fields>(fields: F, data: unknown, location: InputLocation): Input<F> {
  requireObject(data, location);
  let check = compiledChecks.get(fields);
  if (!check) compiledChecks.set(fields, (check = compile(fields)));
  return check(data, location) as Input<F>;
}

/** A socket event's payload: checked as a body would be. */
export const validatePayload = <F extends Fields>(fields: F, payload: unknown): Input<F> => checkFields(fields, payload, 'body');

/** express-validator's `default` replaces these. */
const takesFallback = (value: unknown) => value === undefined || value === null || value === '' || Number.isNaN(value);

function compile(fields: Fields): Check {
  const rules: [string, FieldRule][] = Object.entries(fields).map(([name, spec]) => [name, ruleOf(spec)]);
  return (data, location) => {
    const input: Record<string, unknown> = {};
    let details: ErrorDetail[] | undefined;
    const refuse = (field: string, refusal: Refusal) => (details ??= []).push({ field, location, message: refusal.message });
    for (const [name, rule] of rules) {
      let value = data[name];
      if (rule.optional && (value === undefined || value === null)) continue;
      if (rule.fallback !== undefined && takesFallback(value)) value = rule.fallback;
      let parsed = rule.parse(value);
      if (parsed instanceof Refusal) refuse(name, parsed);
      if (rule.item && Array.isArray(value)) {
        const items = value.map((item) => rule.item!(item));
        items.forEach((item, i) => item instanceof Refusal && refuse(`${name}[${i}]`, item));
        parsed = items;
      }
      input[name] = parsed;
    }
    if (details) throw invalid(details);
    return input;
  };
}

/** The JSON Schema (2020-12, as in OpenAPI 3.1) of a body or payload with these fields. */
export function toJsonSchema(fields: Fields): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const [name, spec] of Object.entries(fields)) {
    const rule = ruleOf(spec);
    properties[name] = rule.jsonSchema;
    if (isRequired(rule)) required.push(name);
  }
  return { type: 'object', properties, required };
}

/** OpenAPI parameter objects for a query or a path with these fields (a path's are always required). */
export function toParameters(fields: Fields, location: 'query' | 'params'): { name: string; in: 'query' | 'path'; required: boolean; schema: JsonSchema }[] {
  return Object.entries(fields).map(([name, spec]) => {
    const rule = ruleOf(spec);
    return { name, in: location === 'params' ? 'path' : 'query', required: location === 'params' || isRequired(rule), schema: rule.jsonSchema };
  });
}

const isRequired = (rule: FieldRule) => !rule.optional && rule.fallback === undefined;
