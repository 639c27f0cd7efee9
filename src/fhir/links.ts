/** Bundle paging links (http://hl7.org/fhir/R4/http.html#paging). */
import type { BundleLink } from '@medplum/fhirtypes';
import type { QueryPairs } from './context';

/** Encodes query pairs back into a query string. */
export function queryString(pairs: QueryPairs): string {
  return pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
}

/** `self` (and `next` when there is a further page) for a paged Bundle. */
export function pageLinks(url: string, used: QueryPairs, nextCursor?: string): BundleLink[] {
  const qs = queryString(used);
  const links: BundleLink[] = [{ relation: 'self', url: qs ? `${url}?${qs}` : url }];
  if (nextCursor) {
    const next = queryString([...used, ['_cursor', nextCursor]]);
    links.push({ relation: 'next', url: `${url}?${next}` });
  }
  return links;
}
