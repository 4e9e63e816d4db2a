import { AcdError } from '../../common/errors.ts';

/** The prefix table cannot support the requested country (e.g. too few domestic ASNs). */
export class CountryModelError extends AcdError {
  constructor(message: string) {
    super('ERR_COUNTRY_MODEL', message);
  }
}

export { OperatorsFileError } from '../../common/operators/errors.ts';
