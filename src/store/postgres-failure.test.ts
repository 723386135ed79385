import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NomineError } from '../core/errors.ts';
import { postgresFailure } from './postgres-failure.ts';

const where = 'postgres://nomine:***@db:5432/nomine';
const pgError = (code: string | undefined, message: string) => Object.assign(new Error(message), code ? { code } : {});

describe('PostgreSQL failures', () => {
  it('calls a database that is down, restarting or dropped our connection unreachable, naming the store', () => {
    for (const error of [
      pgError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'),
      pgError('57P01', 'terminating connection due to administrator command'),
      pgError('57P03', 'the database system is starting up'),
      pgError('08006', 'connection failure'),
      pgError('53300', 'sorry, too many clients already'),
      pgError(undefined, 'Connection terminated unexpectedly'),
      pgError(undefined, 'timeout exceeded when trying to connect'),
    ]) {
      const failure = postgresFailure(error, where, false);
      assert.equal(failure?.code, 'unreachable', error.message);
      assert.equal(failure?.part, `store ${where}`);
      assert.match(failure!.message, new RegExp(error.message));
    }
  });

  it('says when the credentials or the database are wrong', () => {
    assert.equal(postgresFailure(pgError('28P01', 'password authentication failed for user "nomine"'), where, true)?.code, 'unauthorized');
    assert.equal(postgresFailure(pgError('3D000', 'database "nomine" does not exist'), where, true)?.code, 'not-found');
  });

  it('leaves query errors alone, so callers still see constraint violations', () => {
    assert.equal(postgresFailure(pgError('23505', 'duplicate key value violates unique constraint'), where, false), undefined);
    assert.equal(postgresFailure(pgError('42601', 'syntax error at or near "selec"'), where, false), undefined);
    // Not accepting connections is only about reaching it while connecting.
    assert.equal(postgresFailure(pgError('55000', 'object not in prerequisite state'), where, false), undefined);
  });

  it('treats any failure while connecting as one of reaching the database, whatever was thrown', () => {
    assert.equal(postgresFailure(pgError('55000', 'database "x" is not currently accepting connections'), where, true)?.code, 'unreachable');
    assert.equal(postgresFailure('a string', where, true)?.code, 'unreachable');
    assert.equal(postgresFailure(undefined, where, true)?.code, 'unreachable');
    const already = new NomineError('timeout', 'slow', 'x');
    assert.equal(postgresFailure(already, where, false), already);
  });
});
