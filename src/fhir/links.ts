/** Bundle paging links (http://hl7.org/fhir/R4/http.html#paging). */
import type { BundleLink } from '@medplum/fhirtypes';
import type { QueryPairs } from './context';

/** Encodes query pairs back into a query string. */
export function queryString(pairs: QueryPairs): string {
  return pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
}

/** Where a page is: the cursor it was read at (none on the first) and the page size in effect. */
export interface PagePosition {
  cursor?: string;
  count?: number;
}

/**
 * `self` (and `next` when there is a further page) for a paged Bundle. `self` is this page's own
 * URL (with its cursor) and both carry the page size in effect, so a `_count` above the maximum
 * reads as the maximum it got (http://hl7.org/fhir/R4/http.html#paging).
 */
export function pageLinks(url: string, used: QueryPairs, nextCursor?: string, at: PagePosition = {}): BundleLink[] {
  const pairs: QueryPairs = at.count === undefined ? used : used.map(([k, v]) => [k, k === '_count' ? String(at.count) : v]);
  const href = (extra: QueryPairs): string => {
    const qs = queryString([...pairs, ...extra]);
    return qs ? `${url}?${qs}` : url;
  };
  const links: BundleLink[] = [{ relation: 'self', url: href(at.cursor ? [['_cursor', at.cursor]] : []) }];
  if (nextCursor) links.push({ relation: 'next', url: href([['_cursor', nextCursor]]) });
  return links;
}
