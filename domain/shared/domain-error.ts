/**
 * A rule of the domain said no. `kind` tells the transport how to answer without knowing the rule:
 * `not_found` for a command aimed at something that does not exist, `conflict` for a command that
 * clashes with what exists, `forbidden` for a command this actor may not give (not its owner),
 * `rejected` for every other business rule.
 */
export type DomainErrorKind = 'not_found' | 'conflict' | 'forbidden' | 'rejected';

export class DomainError<Code extends string = string> extends Error {
  override readonly name = 'DomainError';

  constructor(
    readonly code: Code,
    readonly kind: DomainErrorKind,
    message: string,
  ) {
    super(message);
  }
}

export const isDomainError = (error: unknown): error is DomainError => error instanceof DomainError;
