import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { collapsePatterns, generalisePath, generaliseSegment, matchesPattern, patternCovers } from './generalise-path.ts';

describe('generalising written paths', () => {
  it('learns one pattern for temp files with random names', () => {
    assert.equal(generalisePath('/tmp/abc123'), '/tmp/*');
    assert.equal(generalisePath('/tmp/xyz789'), '/tmp/*');
    assert.equal(generalisePath('/dev/shm/sem.mp-k2j3l4'), '/dev/shm/*');
    assert.equal(generalisePath('/tmp/systemd-private-3f2a/tmp/cache.db'), '/tmp/*/tmp/cache.db');
  });

  it('keeps ordinary file names exact', () => {
    for (const path of ['/var/log/nginx/access.log', '/dev/null', '/run/nginx.pid', '/var/run/httpd.pid', '/etc/nginx/conf.d/default.conf',
      '/usr/lib/python3/dist-packages/x.py', '/data/facade.txt', '/home/app/.bash_history']) {
      assert.equal(generalisePath(path), path);
    }
  });

  it('turns numbers, hex ids, UUIDs and interleaved tokens into wildcards', () => {
    assert.equal(generalisePath('/proc/self/fd/3'), '/proc/self/fd/*');
    assert.equal(generalisePath('/proc/4242/oom_score_adj'), '/proc/*/oom_score_adj');
    assert.equal(generalisePath('/var/log/app-2024-01-02.log'), '/var/log/app-*.log');
    assert.equal(generalisePath('/var/log/nginx/access.log.1'), '/var/log/nginx/access.log.*');
    assert.equal(generalisePath('/var/run/worker.1234.pid'), '/var/run/worker.*.pid');
    assert.equal(generalisePath('/data/uploads/9b2e4c1a-7d3f-4e8a-b1c2-0f9e8d7c6b5a.bin'), '/data/uploads/*.bin');
    assert.equal(generalisePath('/var/cache/app/7f9c0a1b2c3d/entry'), '/var/cache/app/*/entry');
    assert.equal(generaliseSegment('tmp8kz2x1'), '*');
    assert.equal(generaliseSegment('python3'), 'python3');
    assert.equal(generaliseSegment('x86_64'), 'x86_*');
  });

  it('resolves .. before generalising, so a pattern cannot be escaped', () => {
    assert.equal(generalisePath('/tmp/../etc/passwd'), '/etc/passwd');
    assert.equal(matchesPattern('/tmp/../etc/shadow', '/tmp/*'), false);
    assert.equal(matchesPattern('/tmp//a', '/tmp/*'), true);
  });
});

describe('matching patterns', () => {
  it('matches one segment with * and any depth with **', () => {
    assert.equal(matchesPattern('/tmp/abc', '/tmp/*'), true);
    assert.equal(matchesPattern('/tmp/abc/def', '/tmp/*'), false);
    assert.equal(matchesPattern('/var/cache/app/a/b/c', '/var/cache/app/**'), true);
    assert.equal(matchesPattern('/var/cache/app', '/var/cache/app/**'), false);
    assert.equal(matchesPattern('/var/cache/other/a', '/var/cache/app/**'), false);
    assert.equal(matchesPattern('/var/log/app-2024-03-04.log', '/var/log/app-*.log'), true);
    assert.equal(matchesPattern('/var/log/app-x.txt', '/var/log/app-*.log'), false);
    assert.equal(matchesPattern('/a/x/y/b', '/a/**/b'), true);
  });

  it('treats regular-expression characters in patterns literally', () => {
    assert.equal(matchesPattern('/var/log/appXlog', '/var/log/app.log'), false);
    assert.equal(matchesPattern('/data/(x)+', '/data/(x)+'), true);
  });

  it('knows when one pattern covers another', () => {
    assert.equal(patternCovers('/tmp/*', '/tmp/app-*.log'), true);
    assert.equal(patternCovers('/tmp/*', '/tmp/**'), false);
    assert.equal(patternCovers('/tmp/**', '/tmp/*/x'), true);
    assert.equal(patternCovers('/var/log/*.log', '/var/log/*'), false);
  });
});

describe('collapsing churn', () => {
  it('collapses many distinct siblings in one directory into dir/*', () => {
    const names = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india'].map((name) => `/srv/spool/${name}`);
    assert.deepEqual(collapsePatterns(['/var/log/app.log', ...names.slice(0, 8)]).sort(), ['/var/log/app.log', ...names.slice(0, 8)].sort());
    assert.deepEqual(collapsePatterns(['/var/log/app.log', ...names]).sort(), ['/srv/spool/*', '/var/log/app.log']);
  });

  it('collapses churn in depth into dir/**, but never next to the root', () => {
    const deep = ['aa', 'bb', 'cc', 'dd', 'ee', 'ff', 'gg', 'hh', 'ii'].map((name) => `/var/lib/app/${name}/data/file`);
    assert.deepEqual(collapsePatterns(deep), ['/var/lib/app/**']);
    const shallow = ['aa', 'bb', 'cc', 'dd', 'ee', 'ff', 'gg', 'hh', 'ii'].map((name) => `/etc/${name}/conf`);
    assert.ok(!collapsePatterns(shallow).some((pattern) => pattern.includes('**')));
  });

  it('drops patterns a broader one covers', () => {
    assert.deepEqual(collapsePatterns(['/tmp/*', '/tmp/x', '/var/log/a.log', '/var/log/a.log']).sort(), ['/tmp/*', '/var/log/a.log']);
  });
});
