import { DELIVERY_STATUSES } from './webhook-outbox.repository';
import { choiceField, limitField, uuidField } from '../shared/fields';

/** Input fields of the webhook admin routes (src/shared/fields.ts). */
export const webhookDeliveriesQuery = {
  status: choiceField([...DELIVERY_STATUSES, 'all'], 'all'),
  before: uuidField('webhook delivery id', { optional: true }),
  limit: limitField(50, 100),
};

export const webhookDeliveryParams = { id: uuidField('webhook delivery id') };
