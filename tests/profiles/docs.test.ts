/**
 * docs/data-model.md shows each profile's example exactly as the fixture the tests store, and the
 * profile registry builds (every $ref to a ValueSet resolves).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildProfileRegistry } from '../../src/profiles/registry';
import { EXAMPLES_DIR, exampleNames } from './helpers';

const doc = readFileSync(join(__dirname, '../../docs/data-model.md'), 'utf8');

test.each(exampleNames())('docs/data-model.md has a section with the %s example', (name) => {
  expect(doc).toContain(`### ${name} (`);
  expect(doc).toContain(readFileSync(join(EXAMPLES_DIR, `${name}.json`), 'utf8').trimEnd());
});

test('every profile has an example, and every example a profile', async () => {
  const registry = await buildProfileRegistry();
  expect([...registry.names.values()].sort()).toEqual(exampleNames());
});
