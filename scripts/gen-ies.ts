/**
 * Regenerates src/collect/decode/ie/iana.ts from the stored IANA registry CSV.
 * Run: node --import tsx scripts/gen-ies.ts   (add --check to fail when the file is stale)
 */
import { readFile, writeFile } from 'node:fs/promises';
import { IANA_TS_PATH, generateFromStoredCsv } from '../src/collect/decode/ie/gen.ts';

const generated = await generateFromStoredCsv();
if (process.argv.includes('--check')) {
  const current = await readFile(IANA_TS_PATH, 'utf8');
  if (current !== generated) {
    process.stderr.write('iana.ts is stale: run node --import tsx scripts/gen-ies.ts\n');
    process.exit(1);
  }
  process.stderr.write('iana.ts is up to date\n');
} else {
  await writeFile(IANA_TS_PATH, generated);
  process.stderr.write(`wrote ${IANA_TS_PATH}\n`);
}
