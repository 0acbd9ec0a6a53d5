import type { ParamSchema, Schema } from 'express-validator';
import { choiceField, limitField } from '../shared/validation';

/** A webhook-id as Duet makes them (a UUID); anything else is VALIDATION_FAILED, never a database error. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const deliveryId = (optional: boolean): ParamSchema => ({
  ...(optional ? { optional: { options: { values: 'null' as const } } } : {}),
  // `custom`, so that a repeated query parameter (an array) is refused rather than checked item by item.
  custom: { options: (value: unknown) => typeof value === 'string' && UUID.test(value) },
  customSanitizer: { options: (value: unknown) => (typeof value === 'string' ? value.toLowerCase() : value) },
  errorMessage: 'must be a webhook delivery id',
});

export const webhookDeliveriesQuery: Schema = {
  status: choiceField(['pending', 'failed', 'delivered', 'all'], 'all'),
  before: deliveryId(true),
  limit: limitField(50, 100),
};

export const webhookDeliveryParams: Schema = { id: deliveryId(false) };
