/**
 * `npm run token -- --role clinician --org <id> [--sub …] [--scope …] [--ttl …]`: prints a
 * development token signed with the generated secret. Refuses to run in production.
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../src/config';
import { withDevSecrets } from '../src/auth/dev-secrets';
import { signDevToken } from '../src/auth/jwt';
import { ROLES, type Role } from '../src/auth/principal';
import { ID_PATTERN } from '../src/fhir/resource-types';

function main(): void {
  const { values } = parseArgs({
    options: {
      role: { type: 'string', multiple: true },
      org: { type: 'string' },
      sub: { type: 'string' },
      scope: { type: 'string' },
      ttl: { type: 'string' },
    },
  });
  const roles = (values.role ?? []).flatMap((r) => r.split(',')) as Role[];
  if (!roles.length || !roles.every((r) => ROLES.includes(r))) throw new ConfigError(`--role is one of ${ROLES.join(', ')} (repeatable)`);
  if (!values.org || !ID_PATTERN.test(values.org)) throw new ConfigError('--org <Organization id> is required');
  const ttl = values.ttl ? Number(values.ttl) : 3600;
  if (!Number.isInteger(ttl) || ttl <= 0 || ttl > 86_400 * 30) throw new ConfigError('--ttl is seconds, from 1 to 2592000');
  const config = loadConfig();
  if (config.production) throw new ConfigError('npm run token is for development only');
  const { auth } = withDevSecrets(config);
  if (auth?.algorithm !== 'HS256') throw new ConfigError('npm run token signs only with an HS256 secret');
  process.stdout.write(
    `${signDevToken(auth.key, { sub: values.sub ?? `dev-${roles.join('-')}`, org: values.org, roles, scope: values.scope, ttlSeconds: ttl, issuer: auth.issuer, audience: auth.audience })}\n`,
  );
}

try {
  main();
} catch (err) {
  process.stderr.write(`token: ${(err as Error).message}\n`);
  process.exit(2);
}
