import { afterAll, describe, expect, it } from 'vitest';
import { codeColumnType, outsideIdColumnType } from '../../src/db/column-types.js';
import { createSqliteDatabase, createTestDatabase, type TestDatabase } from '../helpers/db.js';

describe.each([
  ['MariaDB', false],
  ['SQLite', true],
])('column types for new codes and outside ids on %s', (_name, sqlite) => {
  const databases: TestDatabase[] = [];
  afterAll(async () => {
    for (const d of databases) await d.drop();
  });

  it('a code finds its other letter case but keeps accents apart; an outside id compares exactly', async () => {
    const d = sqlite ? await createSqliteDatabase() : await createTestDatabase({ poolMax: 2 });
    databases.push(d);
    const code = await codeColumnType(d.db, 64);
    const outside = await outsideIdColumnType(d.db, 64);
    await d.db.schema.createTable('column_type_probe', (t) => {
      t.increments('id');
      t.specificType('code', code).notNullable().unique();
      t.specificType('outside_id', outside).notNullable().unique();
    });
    await d.db('column_type_probe').insert([
      { code: 'CAFÉ', outside_id: 'ab-77' },
      { code: 'CAFE', outside_id: 'AB-77' },
    ]);
    // Stored as written; found in another letter case (of its ASCII letters: SQLite folds no others).
    expect((await d.db('column_type_probe').where({ code: 'caFÉ' }).first())?.code).toBe('CAFÉ');
    expect((await d.db('column_type_probe').where({ code: 'cafe' }).first())?.code).toBe('CAFE');
    expect(await d.db('column_type_probe').where({ outside_id: 'Ab-77' })).toHaveLength(0);
    await expect(d.db('column_type_probe').insert({ code: 'cafe', outside_id: 'x' })).rejects.toThrow();
  });
});
