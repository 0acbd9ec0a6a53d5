import type { Schema } from 'express-validator';
import { MAX_BIGINT_ID } from '../shared/ids';
import { idField } from '../shared/validation';

export const attachmentIdParams: Schema = { id: idField(MAX_BIGINT_ID) };
