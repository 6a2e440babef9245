import { ValidationError } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * aws-cdk-lib 2.276 declares `ValidationError` in its typings but marks it internal (the public
 * side is `Errors.isValidationError`); every use goes through this file, so a release that
 * changes its constructor changes one place.
 */
type ErrorName = ConstructorParameters<typeof ValidationError>[0];

/**
 * Rejects a prop of `construct` with aws-cdk-lib's ValidationError, as the library's own
 * constructs do: the error carries the construct's path (`constructPath`) and
 * `Errors.isValidationError` recognises it. The message names the construct's class, its path
 * and the prop, e.g. `PostgresDatabase production/Database/Postgres: replicaIdentifiers ...`.
 */
export function invalidProp(construct: IConstruct, prop: string, problem: string): never {
  throw new ValidationError(
    'InvalidConstructProps' as ErrorName,
    `${construct.constructor.name} ${construct.node.path}: ${prop} ${problem}`,
    construct,
  );
}
