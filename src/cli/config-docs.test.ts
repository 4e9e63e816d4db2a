import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderConfigDocs } from './config-docs.ts';

describe('configuration reference', () => {
  it('docs/configuration.md matches the schema (regenerate with scripts/gen-config-docs.ts)', () => {
    const doc = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    expect(doc).toBe(renderConfigDocs());
  });
});
