import { describe, expect, it } from 'vitest';
import { aggregateNames, InvalidNameError, pluralOf } from './names.js';

describe('aggregate names', () => {
  it('spells one kebab-case name every way the generated code needs', () => {
    expect(aggregateNames('loyalty-card')).toEqual({
      kebab: 'loyalty-card',
      kebabPlural: 'loyalty-cards',
      camel: 'loyaltyCard',
      camelPlural: 'loyaltyCards',
      pascal: 'LoyaltyCard',
      pascalPlural: 'LoyaltyCards',
      snake: 'loyalty_card',
      snakePlural: 'loyalty_cards',
      constant: 'LOYALTY_CARD',
      constantPlural: 'LOYALTY_CARDS',
      words: 'loyalty card',
      wordsPlural: 'loyalty cards',
      capitalWords: 'Loyalty card',
      capitalWordsPlural: 'Loyalty cards',
      idField: 'loyaltyCardId',
      category: 'loyaltyCard',
    });
  });

  it.each([
    ['invoice', 'invoices'],
    ['category', 'categories'],
    ['delivery-day', 'delivery-days'],
    ['address', 'addresses'],
    ['tax-box', 'tax-boxes'],
    ['batch', 'batches'],
    ['wish', 'wishes'],
    ['p2p-offer', 'p2p-offers'],
  ])('pluralizes %s as %s', (singular, plural) => {
    expect(pluralOf(singular)).toBe(plural);
  });

  it('takes an irregular plural as given', () => {
    expect(aggregateNames('person', 'people')).toMatchObject({
      kebabPlural: 'people',
      camelPlural: 'people',
    });
  });

  it('keeps digits inside words', () => {
    expect(aggregateNames('p2p-offer-2')).toMatchObject({ pascal: 'P2pOffer2', camel: 'p2pOffer2' });
  });

  it.each([
    ['an empty name', ''],
    ['upper case', 'LoyaltyCard'],
    ['snake case', 'loyalty_card'],
    ['a leading digit', '2fa-token'],
    ['a leading dash', '-card'],
    ['a trailing dash', 'card-'],
    ['a double dash', 'loyalty--card'],
    ['a path', '../card'],
    ['a space', 'loyalty card'],
    ['a name over 30 characters', 'a'.repeat(31)],
  ])('refuses %s', (_what, name) => {
    expect(() => aggregateNames(name)).toThrow(InvalidNameError);
  });

  it('refuses a name whose value would be a reserved word', () => {
    expect(() => aggregateNames('delete')).toThrow(/"delete" is a reserved word/);
    expect(() => aggregateNames('thing', 'this')).toThrow(/"this" is a reserved word/);
  });

  it('refuses a plural that is not kebab-case or equals the singular', () => {
    expect(() => aggregateNames('person', 'People')).toThrow(/plural "People" is not kebab-case/);
    expect(() => aggregateNames('sheep', 'sheep')).toThrow(/must differ/);
  });
});
