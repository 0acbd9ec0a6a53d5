import { idListField } from '../shared/fields';
import { MAX_INT_ID } from '../shared/ids';

export const MAX_STATUS_USER_IDS = 100;

export const onlineStatusFields = { userIds: idListField(MAX_INT_ID, MAX_STATUS_USER_IDS, 'user ids') };
