/** Fixtures created through the API and remembered by a short name, for readable search tests. */
import type { TestApp } from './app';
import { FHIR_JSON } from './app';

export class Named {
  readonly ids: Record<string, string> = {};

  constructor(private readonly app: () => TestApp) {}

  /** POSTs `body` and remembers its id as `name`; throws with the outcome when it is refused. */
  async create(name: string, body: object): Promise<void> {
    const type = (body as { resourceType: string }).resourceType;
    const res = await this.app().http.post(`/fhir/${type}`).set('Content-Type', FHIR_JSON).send(JSON.stringify(body));
    if (res.status !== 201) throw new Error(`${name}: ${res.status} ${JSON.stringify(res.body)}`);
    this.ids[name] = res.body.id;
  }

  /** The name of a remembered id (or the id itself). */
  label(id: string): string {
    return Object.entries(this.ids).find(([, v]) => v === id)?.[0] ?? id;
  }
}
