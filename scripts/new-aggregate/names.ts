/**
 * Every spelling of an aggregate's name that the generated code uses, derived from one kebab-case
 * singular (`loyalty-card`) and its plural (derived, or given for irregular words).
 *
 *   folders          domain/loyalty-cards/, commands/loyalty-cards/, …   kebab plural
 *   files            loyalty-card.ts, loyalty-card-routes.ts, …         kebab singular
 *   URL paths        /loyalty-cards/:id                                 kebab plural
 *   values           loyaltyCardDecider, loyaltyCardsProjection          camel singular / plural
 *   types, schemas   LoyaltyCardEvent, CreateLoyaltyCard                 Pascal singular
 *   id field         loyaltyCardId
 *   stream category  loyaltyCard (streams loyaltyCard-<id>)              camel singular, no "-" in it:
 *                    EventStoreDB's $by_category splits a stream name at its first "-"
 *   projection       loyalty-cards, collection loyalty_cards             kebab / snake plural
 *   error codes      loyalty_card_not_found (problem type …:loyalty-card-not-found)
 *   constants        LOYALTY_CARDS_PROJECTION                           upper snake
 *   prose            "a loyalty card", "Loyalty cards: …"               words
 *
 * The scaffolder renames the template (sticky-note) by mapping each of its spellings to the new
 * aggregate's (nameMap in template.ts).
 */
export type AggregateNames = {
  kebab: string;
  kebabPlural: string;
  camel: string;
  camelPlural: string;
  pascal: string;
  pascalPlural: string;
  snake: string;
  snakePlural: string;
  /** LOYALTY_CARD, LOYALTY_CARDS: constants, such as those that name the projection and its collection. */
  constant: string;
  constantPlural: string;
  /** "loyalty card", for messages and summaries; "Loyalty card" to start a sentence. */
  words: string;
  wordsPlural: string;
  capitalWords: string;
  capitalWordsPlural: string;
  /** loyaltyCardId: the field that carries the id in commands, events, documents and views. */
  idField: string;
  /** loyaltyCard: the stream category. */
  category: string;
};

export class InvalidNameError extends Error {
  override readonly name = 'InvalidNameError';
}

/** Lower-case words of letters and digits joined by "-", starting with a letter. */
export const KEBAB = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
/**
 * Ids derived from an Idempotency-Key are `<kebab>-<32 hex>`, and ids are at most 64 characters;
 * 30 also keeps the generated identifiers readable.
 */
export const MAX_NAME_LENGTH = 30;

/** Words JavaScript and TypeScript reserve: a value cannot be named so. */
export const RESERVED_WORDS = new Set(
  (
    'arguments await break case catch class const continue debugger default delete do else enum eval ' +
    'export extends false finally for function if implements import in instanceof interface let new ' +
    'null package private protected public return static super switch this throw true try typeof var ' +
    'void while with yield'
  ).split(' '),
);

/** The regular English plural of the last word: -y after a consonant → -ies; -s, -x, -z, -ch, -sh → -es. */
export const pluralOf = (kebab: string): string => {
  if (/[^aeiou]y$/.test(kebab)) return `${kebab.slice(0, -1)}ies`;
  if (/(?:s|x|z|ch|sh)$/.test(kebab)) return `${kebab}es`;
  return `${kebab}s`;
};

const checkKebab = (what: string, value: string) => {
  if (!KEBAB.test(value))
    throw new InvalidNameError(
      `${what} "${value}" is not kebab-case: lower-case words of letters and digits joined by "-", ` +
        'starting with a letter (e.g. loyalty-card)',
    );
  if (value.length > MAX_NAME_LENGTH)
    throw new InvalidNameError(`${what} "${value}" is longer than ${MAX_NAME_LENGTH} characters`);
};

export const capitalize = (word: string) => word.charAt(0).toUpperCase() + word.slice(1);
export const pascalOf = (kebab: string) => kebab.split('-').map(capitalize).join('');
export const camelOf = (kebab: string) => {
  const pascal = pascalOf(kebab);
  return pascal.charAt(0).toLowerCase() + pascal.slice(1);
};

/** Throws InvalidNameError, with the reason, for a name the generated code could not use. */
export const aggregateNames = (singular: string, plural: string = pluralOf(singular)): AggregateNames => {
  checkKebab('name', singular);
  checkKebab('plural', plural);
  if (plural === singular)
    throw new InvalidNameError(
      `the plural must differ from the singular ("${singular}"): the generated names tell one from many`,
    );
  const camel = camelOf(singular);
  for (const word of [camel, camelOf(plural)])
    if (RESERVED_WORDS.has(word))
      throw new InvalidNameError(
        `"${word}" is a reserved word in JavaScript; the generated code names values so`,
      );
  return {
    kebab: singular,
    kebabPlural: plural,
    camel,
    camelPlural: camelOf(plural),
    pascal: pascalOf(singular),
    pascalPlural: pascalOf(plural),
    snake: singular.replaceAll('-', '_'),
    snakePlural: plural.replaceAll('-', '_'),
    constant: singular.replaceAll('-', '_').toUpperCase(),
    constantPlural: plural.replaceAll('-', '_').toUpperCase(),
    words: singular.replaceAll('-', ' '),
    wordsPlural: plural.replaceAll('-', ' '),
    capitalWords: capitalize(singular.replaceAll('-', ' ')),
    capitalWordsPlural: capitalize(plural.replaceAll('-', ' ')),
    idField: `${camel}Id`,
    category: camel,
  };
};
