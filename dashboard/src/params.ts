/** Query parameters built from form fields (pure). */

/**
 * A `datetime-local` value (`2026-01-02T10:30`, read as UTC like every time on the page) as the
 * API's ISO form; other text is passed on for the API to judge (a 400 shows its problem).
 */
export function utcParam(v: string): string | undefined {
  if (v === '') return undefined;
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(v)) return `${v}:00Z`;
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?$/.test(v)) return `${v}Z`;
  return v;
}
