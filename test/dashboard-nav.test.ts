/**
 * The dashboard's navigation by role (issue 8): each role is offered exactly the views whose API
 * its role may read, and only the commission inspector may decide approval cases.
 */
import { describe, expect, it } from 'vitest';
import { canDecideCases, hasLiveStream, viewsFor } from '../dashboard/src/nav.ts';
import { utcParam } from '../dashboard/src/params.ts';

describe('dashboard navigation by role', () => {
  it('offers inspectors approvals, audit and retention, never the incident list', () => {
    expect(viewsFor('inspector')).toEqual(['overview', 'map', 'approvals', 'audit', 'retention']);
  });
  it('offers analysts and supervisors the live views and approvals (read-only)', () => {
    for (const role of ['analyst', 'supervisor']) {
      expect(viewsFor(role)).toEqual(['overview', 'incidents', 'map', 'approvals']);
      expect(canDecideCases(role)).toBe(false);
      expect(hasLiveStream(role)).toBe(true);
    }
  });
  it('offers administrators audit and retention, not approvals', () => {
    expect(viewsFor('administrator')).toEqual(['overview', 'map', 'audit', 'retention']);
  });
  it('lets only the inspector decide and gives the event stream only to analysts and supervisors', () => {
    expect(canDecideCases('inspector')).toBe(true);
    for (const role of ['inspector', 'administrator', 'operator', 'police', undefined])
      expect(hasLiveStream(role)).toBe(false);
  });
  it('offers the operator only its incidents, and the analyst views before /api/me answers', () => {
    expect(viewsFor('operator')).toEqual(['incidents']);
    expect(viewsFor(undefined)).toEqual(['overview', 'incidents', 'map']);
  });
});

describe('audit search times', () => {
  it('reads datetime-local values as UTC and passes other text on', () => {
    expect(utcParam('')).toBeUndefined();
    expect(utcParam('2026-03-01T10:30')).toBe('2026-03-01T10:30:00Z');
    expect(utcParam('2026-03-01T10:30:15')).toBe('2026-03-01T10:30:15Z');
    expect(utcParam('2026-03-01')).toBe('2026-03-01');
  });
});
