import { QueryTypes, type Sequelize, type Transaction } from 'sequelize';

/** Raw, parameterised SQL for the paths where we need exact control of locks and indexes. */
export class Sql {
  constructor(readonly sequelize: Sequelize) {}

  async rows<T extends object = Record<string, unknown>>(text: string, bind: unknown[] = [], transaction?: Transaction): Promise<T[]> {
    return this.sequelize.query<T>(text, { bind, type: QueryTypes.SELECT, transaction });
  }

  async row<T extends object = Record<string, unknown>>(text: string, bind: unknown[] = [], transaction?: Transaction): Promise<T | undefined> {
    return (await this.rows<T>(text, bind, transaction))[0];
  }

  transaction<T>(work: (transaction: Transaction) => Promise<T>): Promise<T> {
    return this.sequelize.transaction(work);
  }
}

/** bigint columns arrive from pg as strings; ids stay within Number's safe range. */
export const toNumber = (value: unknown): number => Number(value);
export const toNullableNumber = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));
export const toDate = (value: unknown): Date => (value instanceof Date ? value : new Date(String(value)));
export const toNullableDate = (value: unknown): Date | null =>
  value === null || value === undefined ? null : toDate(value);

/** A WHERE clause built from optional filters, with numbered bind parameters. */
export class Conditions {
  readonly bind: unknown[] = [];
  private readonly parts: string[] = [];

  /** Adds `condition` with `value` bound to the parameter it is handed. */
  add(condition: (param: string) => string, value: unknown): this {
    this.parts.push(condition(this.param(value)));
    return this;
  }

  /** Adds a condition with no parameter. */
  raw(condition: string): this {
    this.parts.push(condition);
    return this;
  }

  /** Binds a value and returns its placeholder. */
  param(value: unknown): string {
    this.bind.push(value);
    return `$${this.bind.length}`;
  }

  toString(): string {
    return this.parts.length ? `WHERE ${this.parts.join(' AND ')}` : '';
  }
}
