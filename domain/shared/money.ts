import { z } from 'zod';

/**
 * Money is an integer count of minor units (cents, pence…): no floating point anywhere.
 * The bounds keep every sum we can form far below 2^53, so plain numbers stay exact.
 */
export const MAX_AMOUNT = 1_000_000_000_000; // per command: 10 billion in a 2-decimal currency
export const MAX_BALANCE = 1_000_000_000_000_000; // about 2^50, well under Number.MAX_SAFE_INTEGER

export const Amount = z
  .number()
  .int('amount must be an integer number of minor units')
  .positive('amount must be positive')
  .max(MAX_AMOUNT, `amount must be at most ${MAX_AMOUNT}`);

const isoCurrencies = new Set(Intl.supportedValuesOf('currency'));

/** An ISO 4217 code that this runtime's ICU data knows, such as EUR or JPY. */
export const Currency = z
  .string()
  .regex(/^[A-Z]{3}$/, 'currency must be a three-letter upper-case ISO 4217 code')
  .refine((code) => isoCurrencies.has(code), 'currency is not an ISO 4217 code');
