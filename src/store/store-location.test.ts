import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NomineError } from '../core/errors.ts';
import { databaseOf, isPostgresUrl, redactUrl, storeLocationOf, withPassword } from './store-location.ts';

describe('store locations', () => {
  it('takes a data directory for SQLite and a postgres:// or postgresql:// URL for PostgreSQL', () => {
    assert.deepEqual(storeLocationOf('/var/lib/nomine'), { kind: 'sqlite', home: '/var/lib/nomine' });
    assert.deepEqual(storeLocationOf('postgres://nomine@db:5432/nomine'), { kind: 'postgres', url: 'postgres://nomine@db:5432/nomine' });
    assert.equal(storeLocationOf('PostgreSQL://nomine@db/console').kind, 'postgres');
    assert.equal(isPostgresUrl('./postgres://not-a-url'), false);
  });

  it('refuses URLs without a host or a database, or that do not parse, naming them without the password', () => {
    for (const url of ['postgres://u:hunter2hunter2@db', 'postgres://u:hunter2hunter2@db/', 'postgres://u:hunter2hunter2@db/a/b', 'postgres://u:hunter2hunter2@[::1/db', 'postgres://u:hunter2hunter2@/db']) {
      assert.throws(
        () => storeLocationOf(url),
        (error: unknown) => error instanceof NomineError && error.code === 'invalid-input' && !error.describe().includes('hunter2') && error.describe().includes('***'),
        url,
      );
    }
  });

  it('never shows a password, in the user part or the query', () => {
    assert.equal(redactUrl('postgres://nomine:s3cr%40t@db:5432/nomine'), 'postgres://nomine:***@db:5432/nomine');
    assert.equal(redactUrl('postgres://nomine@db/nomine?password=s3cret&sslmode=require'), 'postgres://nomine@db/nomine?password=***&sslmode=require');
    assert.equal(redactUrl('postgres://nomine@db/nomine'), 'postgres://nomine@db/nomine');
    assert.equal(redactUrl('postgres://nomine:s3cret@[db/x'), 'postgres://nomine:***@[db/x');
    assert.doesNotMatch(redactUrl('postgres://a:b:c@d@e/f'), /b:c/);
  });

  it('puts a password from a file into the URL, encoding what a URL cannot hold as is', () => {
    const url = withPassword('postgres://nomine@db/nomine', 'p@ss:/word#1 é');
    assert.equal(decodeURIComponent(new URL(url).password), 'p@ss:/word#1 é');
    assert.equal(new URL(url).hostname, 'db');
    assert.equal(databaseOf(url), 'nomine');
    assert.throws(() => withPassword('postgres://db/nomine', 'x'), /user name/);
  });
});
