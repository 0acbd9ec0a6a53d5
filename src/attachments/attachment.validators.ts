import { idField } from '../shared/fields';
import { MAX_BIGINT_ID } from '../shared/ids';

export const attachmentIdParams = { id: idField(MAX_BIGINT_ID) };
