import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { parseDockerdArgs, parseSecurityOptions } from './dockerd-flags.ts';

describe('dockerd flags', () => {
  it('reads flags in daemon.json names: repeated hosts, booleans with and without values, log options', () => {
    const { settings } = parseDockerdArgs(['dockerd', '-H', 'fd://', '--host=tcp://0.0.0.0:2375', '--icc=false', '--live-restore', '--log-opt', 'max-size=10m', '--insecure-registry', 'r:5000', '--bridge=none']);
    assert.deepEqual(settings.hosts, ['fd://', 'tcp://0.0.0.0:2375']);
    assert.equal(settings.icc, false);
    assert.equal(settings['live-restore'], true);
    assert.deepEqual(settings['log-opts'], { 'max-size': '10m' });
    assert.deepEqual(settings['insecure-registries'], ['r:5000']);
    assert.equal(settings.bridge, 'none');
  });

  it('does not take the next flag as a boolean flag value', () => {
    const { settings } = parseDockerdArgs(['dockerd', '--no-new-privileges', '--data-root', '/x']);
    assert.equal(settings['no-new-privileges'], true);
    assert.equal(settings['data-root'], '/x');
  });

  it('parses /info security options', () => {
    assert.deepEqual(parseSecurityOptions(['name=seccomp,profile=unconfined', 'name=userns']), {
      seccomp: true, seccompProfile: 'unconfined', apparmor: false, selinux: false, userns: true, rootless: false, cgroupns: false,
    });
  });
});
