/**
 * Small-site generalisation for de-identified exports. Knowing that a client was seen at a site
 * with a handful of clients, plus a month, can be enough to name the person; so a site (an
 * Organization, or a Location / HealthcareService of one) with fewer than k enrolled clients is
 * never named: references to it are generalised and its directory entry is withheld.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { StoreReader } from '../store/port';
import type { SiteCache } from './job';

/** Directory types that stand for a site. */
export const SITE_TYPES: ReadonlySet<string> = new Set(['Organization', 'Location', 'HealthcareService']);

const REF_RE = /^(Organization|Location|HealthcareService)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/.*)?$/;

/** `Type/id` of a site reference string, or undefined when it does not name a site on this server. */
export function siteRef(reference: string): string | undefined {
  const m = REF_RE.exec(reference);
  return m ? `${m[1]}/${m[2]}` : undefined;
}

/** Every site a resource names (its own id when it is a site, and every site reference in it). */
export function sitesIn(resource: Resource): string[] {
  const out = new Set<string>();
  if (SITE_TYPES.has(resource.resourceType) && resource.id) out.add(`${resource.resourceType}/${resource.id}`);
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k === 'reference' && typeof x === 'string') {
          const ref = siteRef(x);
          if (ref) out.add(ref);
        } else walk(x);
      }
    }
  };
  walk(resource);
  return [...out];
}

function orgReference(resource: Resource | undefined): string {
  const r = resource as { managingOrganization?: { reference?: string }; providedBy?: { reference?: string } } | undefined;
  const ref = r?.managingOrganization?.reference ?? r?.providedBy?.reference;
  const m = ref ? /^Organization\/([A-Za-z0-9\-.]{1,64})$/.exec(ref) : null;
  return m?.[1] ?? '';
}

/** Fills the cache for the given sites: the organisation of each location or service, and client counts. */
export async function resolveSites(store: StoreReader, cache: SiteCache, refs: string[]): Promise<void> {
  const orgs = new Set<string>();
  for (const ref of refs) {
    const [type, id] = ref.split('/') as [string, string];
    if (type === 'Organization') orgs.add(id);
    else {
      if (!(ref in cache.orgOf)) cache.orgOf[ref] = orgReference((await store.read(type, id))?.resource);
      if (cache.orgOf[ref]) orgs.add(cache.orgOf[ref]!);
    }
  }
  for (const org of orgs) {
    if (org in cache.clients) continue;
    const counted = await store.search({ types: ['Patient'], where: [{ kind: 'enrolled', orgs: [org] }], sort: [], count: 1, total: 'accurate', countOnly: true });
    cache.clients[org] = counted.total ?? 0;
  }
}

/** Whether a (resolved) site has at least `k` clients; unknown sites count as small. */
export function isLargeSite(cache: SiteCache, ref: string, k: number): boolean {
  const [type, id] = ref.split('/') as [string, string];
  const org = type === 'Organization' ? id : cache.orgOf[ref];
  return !!org && (cache.clients[org] ?? 0) >= k;
}
