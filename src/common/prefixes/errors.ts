import { AcdError } from '../errors.ts';

/**
 * A line of a prefix source (ip-location-db CSV, RIR delegated stats) that cannot be used. `source`
 * names the file or label given to the parser and `line` is 1-based, so an operator loading a new
 * table with `acd prefixes update` can fix the exact line.
 */
export class PrefixParseError extends AcdError {
  readonly source: string;
  readonly line: number;
  constructor(source: string, line: number, message: string, options?: { cause?: unknown }) {
    super('ERR_PREFIX_PARSE', `${source}:${line}: ${message}`, options);
    this.source = source;
    this.line = line;
  }
}

/** A textual address or prefix that is not valid IPv4/IPv6 (string convenience API only). */
export class AddressError extends AcdError {
  readonly input: string;
  constructor(input: string, message = 'not an IPv4 or IPv6 address') {
    super('ERR_ADDRESS_INVALID', `${JSON.stringify(input.slice(0, 80))}: ${message}`);
    this.input = input;
  }
}

/** A packaged prefix source could not be found or read, or a binary cache file is malformed. */
export class PrefixSourceError extends AcdError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_PREFIX_SOURCE', message, options);
  }
}
