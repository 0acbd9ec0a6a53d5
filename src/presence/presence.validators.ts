import type { Schema } from 'express-validator';
import { MAX_INT_ID } from '../shared/ids';
import { idField } from '../shared/validation';

export const MAX_STATUS_USER_IDS = 100;

export const onlineStatusSchema: Schema = {
  userIds: {
    custom: { options: (value: unknown) => Array.isArray(value) && value.length <= MAX_STATUS_USER_IDS },
    errorMessage: `must be an array of at most ${MAX_STATUS_USER_IDS} user ids`,
  },
  'userIds.*': idField(MAX_INT_ID),
};
