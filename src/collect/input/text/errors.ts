import { AcdError } from '../../../common/errors.ts';

/**
 * Content that is none of the text formats this reader knows (the sniffer found no Zeek header,
 * Zeek JSON object, Argus or nfdump CSV header). Thrown by `readTextRecords` before any record
 * is produced when asked to recognise the kind itself; malformed lines inside a recognised file
 * are events, never errors.
 */
export class TextFormatError extends AcdError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_TEXT_FORMAT', message, options);
  }
}
