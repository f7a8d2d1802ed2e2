import { ensureMariaDb, ensureRedis, ServiceUnavailableError } from '../src/dev/local-services.js';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from './helpers/db.js';

/**
 * Before the integration tests: Redis and MariaDB answer, or are started the way `.ci/run` starts
 * them (local servers only, nothing else touched: no database is created or dropped here). When
 * they answer already this does nothing. Unit tests do not run this and need neither.
 */
export default async function setup() {
  try {
    await ensureRedis(TEST_REDIS_URL, 'data/test-redis', 'TEST_REDIS_URL');
    await ensureMariaDb(TEST_DATABASE_URL, 'TEST_DATABASE_URL');
  } catch (err) {
    if (!(err instanceof ServiceUnavailableError)) throw err;
    // One line saying what to do, instead of a stack and a misleading "no test files found".
    process.stderr.write(`\nnpm test: ${err.message}\n(npm run test:unit needs neither.)\n`);
    process.exit(1);
  }
}
