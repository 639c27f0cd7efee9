import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeStoreContract } from '../contract/store-contract';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store';

describeStoreContract('sqlite (memory)', async () => openSqliteStore(':memory:'));

const dir = mkdtempSync(join(tmpdir(), 'linkcare-contract-'));
let n = 0;
describeStoreContract('sqlite (file)', async () => openSqliteStore(join(dir, `db-${n++}.sqlite`)));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
