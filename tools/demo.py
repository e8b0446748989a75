"""`make demo`: the three-tier example on a private local Heat, end to end.

Starts the services of `make up` (under .run/demo), creates the stack with
the openstack client (a db, an application tier of two apps, each a member
stack of an AutoScalingGroup, and a load balancer), shows who runs where
and who waits on whom while it deploys, fetches the application through
its load balancer, updates the database's content and shows that only the
db and the apps re-ran, scales the application tier to three and back
with stack updates and then with its scaling policies' signals, showing
the load balancer following each time, deletes the stack and stops
everything. Each step prints its duration; the scaling steps also the time
from the request (stack update POST, signal) to the load balancer serving
the new set of apps.
"""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUN = os.path.join(REPO, '.run', 'demo')
VENV = os.environ.get('VENV') or os.path.join(REPO, '.venv')
AGENT_VENV = os.environ.get('SOFTORCH_AGENT_VENV') or os.path.join(
    REPO, '.venv-agent')
EXAMPLE = os.path.join(REPO, 'examples', 'three-tier', 'three-tier.yaml')
ENV_LOCAL = os.path.join(REPO, 'examples', 'env-local.yaml')
STACK = 'demo'
T0 = time.monotonic()


def say(text):
    print('[%5.1fs] %s' % (time.monotonic() - T0, text), flush=True)


def step(title):
    print('\n==> %s' % title, flush=True)
    return time.monotonic()


def done(started, what):
    say('%s in %.1f s' % (what, time.monotonic() - started))


def read_env():
    env = {}
    with open(os.path.join(RUN, 'env')) as f:
        for line in f:
            key, sep, value = line.strip().partition('=')
            if sep and not key.startswith('#'):
                env[key.replace('export ', '')] = value.strip("'\"")
    return env


def client_env(env):
    """The environment of a user who sourced the openrc (Keystone password
    auth as admin, SOFTORCH_CONFIG_FILE for ZooKeeper)."""
    e = {k: v for k, v in os.environ.items() if not k.startswith('OS_')}
    with open(env['OPENRC']) as f:
        for line in f:
            key, sep, value = line.strip().partition('=')
            if sep and key.startswith('export '):
                e[key[len('export '):]] = value.strip("'\"")
    e['PYTHONWARNINGS'] = 'ignore'
    return e


def openstack(env, *args):
    cmd = [os.path.join(VENV, 'bin', 'openstack')] + list(args)
    print('    $ openstack ' + ' '.join(args), flush=True)
    r = subprocess.run(cmd, env=client_env(env), capture_output=True,
                       text=True)
    if r.returncode != 0:
        sys.exit('openstack %s failed:\n%s%s' % (args[0], r.stdout,
                                                 r.stderr))
    return r.stdout


def softorch(env, *args):
    cmd = [os.path.join(VENV, 'bin', 'softorch')] + list(args)
    return subprocess.run(cmd, env=client_env(env), capture_output=True,
                          text=True)


_HEAT = []


def heat(env):
    """python-heatclient through Keystone, as the softorch commands make
    it from the OS_* variables (one session: one token)."""
    if not _HEAT:
        from heat_softorch.cmd import access
        # openstacksdk's loader reads os.environ itself: this process
        # sources the openrc, as the user would.
        os.environ.update((k, v) for k, v in client_env(env).items()
                          if k.startswith('OS_'))
        _HEAT.append(access.heat_client()[0])
    return _HEAT[0]


def free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(('127.0.0.1', 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def follow(env, action, quiet=False):
    """Show the components' table whenever it changes (``quiet``: don't),
    until the stack leaves <action>_IN_PROGRESS."""
    hc = heat(env)
    last = None
    while True:
        stack = hc.stacks.get(STACK, resolve_outputs=False)
        if quiet:
            if stack.stack_status != '%s_IN_PROGRESS' % action:
                return stack
            time.sleep(0.1)
            continue
        table = softorch(env, 'status', STACK).stdout.rstrip()
        # The agents' "up for" ticks every second: show the table again
        # only when a component moved.
        components = table.split('\nagents')[0]
        if table and components != last:
            print(table, flush=True)
            last = components
        if stack.stack_status != '%s_IN_PROGRESS' % action:
            return stack
        time.sleep(0.5)


def fetch(url):
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=10) as r:
        return r.read().decode()


def component_runs(env, since):
    """{component: (action it last ran, whether it did not run since
    ``since``, a wall-clock time)}, from softorch status: the parent's
    components, and the app tier's members by name (a member's app re-runs
    as soon as db publishes, whatever its own stack is doing)."""
    doc = json.loads(softorch(env, 'status', STACK, '--format',
                              'json').stdout)
    runs = {r['component']: (r['action'], r['confirmed'])
            for r in doc['components']}
    for m in doc['groups']:
        runs['app (member %s)' % m['member']] = (
            m['action'], (m['last_run'] or 0) < since)
    return runs


def lb_status(url):
    """The load balancer's own view: {'backends': [...], 'served': ...}."""
    return json.loads(fetch(url + '_lb/status'))


def wait_for_backends(url, count, started, limit=300):
    """Seconds from ``started`` until the load balancer serves ``count``
    apps (its status page answers from the new process once lb re-ran)."""
    while time.monotonic() - started < limit:
        try:
            if len(lb_status(url)['backends']) == count:
                return time.monotonic() - started
        except OSError:
            pass  # restarting
        time.sleep(0.05)
    sys.exit('the load balancer did not reach %d backends in %d s'
             % (count, limit))


def show_lb(url, what):
    backends = lb_status(url)['backends']
    pages = {fetch(url).split('Served by ')[1].split('<')[0].strip()
             for _ in range(2 * len(backends))}
    print('    %s: lb serves %d apps (%s)' % (what, len(backends),
                                              ', '.join(sorted(pages))))


def scale_by_update(env, url, count):
    """A stack update of app_count; (seconds POST to COMPLETE, seconds to
    the load balancer serving ``count`` apps)."""
    # The request itself, timed from its POST (the client's own start-up
    # is no part of it): openstack stack update --existing --parameter
    # app_count=N.
    print('    $ openstack stack update --existing --parameter app_count=%d '
          '%s' % (count, STACK), flush=True)
    hc = heat(env)
    sid = hc.stacks.get(STACK, resolve_outputs=False).id
    t0 = time.monotonic()
    hc.stacks.update(sid, existing=True, parameters={'app_count': count})
    served = wait_for_backends(url, count, t0)
    stack = follow(env, 'UPDATE', quiet=True)
    took = time.monotonic() - t0
    if stack.stack_status != 'UPDATE_COMPLETE':
        sys.exit('%s: %s' % (stack.stack_status, stack.stack_status_reason))
    return took, served


def scale_by_signal(env, url, policy, count):
    """A scaling policy's signal; seconds until the load balancer serves
    ``count`` apps. No stack update: lb follows the membership."""
    print('    $ openstack stack resource signal %s %s' % (STACK, policy),
          flush=True)
    hc = heat(env)
    sid = hc.stacks.get(STACK, resolve_outputs=False).id
    t0 = time.monotonic()
    hc.resources.signal(sid, policy)
    return wait_for_backends(url, count, t0)


def scaling_done(env):
    """The group takes a signal once done with the last one."""
    hc = heat(env)
    while hc.resources.metadata(STACK, 'app_tier').get(
            'scaling_in_progress') is not False:
        time.sleep(0.2)


def main():
    os.chdir(REPO)
    started = step('Starting a private Heat with heat-softorch (make up)')
    up = subprocess.run([os.path.join(REPO, 'tools', 'localheat.sh'), 'up',
                         RUN], env=dict(os.environ, VENV=VENV,
                                        AGENT_VENV=AGENT_VENV))
    if up.returncode:
        sys.exit('make up failed')
    env = read_env()
    done(started, 'Keystone, Heat, ZooKeeper, MariaDB and RabbitMQ up')
    try:
        run(env)
    finally:
        started = step('Stopping everything (make down)')
        subprocess.run([os.path.join(REPO, 'tools', 'localheat.sh'), 'down',
                        RUN])
        done(started, 'Stopped')
    say('demo complete')


def run(env):
    db_port, lb_port = free_ports(2)
    # The apps share 127.0.0.1 here: app_port=0 lets each take a free port.
    params = ['--parameter', 'db_port=%d' % db_port, '--parameter',
              'lb_port=%d' % lb_port, '--parameter', 'app_port=0']

    started = step('Creating the three-tier stack (a db, two apps in an '
                   'AutoScalingGroup, a load balancer: 4 LocalServers)')
    openstack(env, 'stack', 'create', '-t', os.path.relpath(EXAMPLE), '-e',
              os.path.relpath(ENV_LOCAL), *params, '--parameter',
              'db_content=Hello from version one', STACK)
    stack = follow(env, 'CREATE')
    if stack.stack_status != 'CREATE_COMPLETE':
        sys.exit('%s: %s' % (stack.stack_status, stack.stack_status_reason))
    done(started, 'CREATE_COMPLETE')
    print(openstack(env, 'stack', 'output', 'show', STACK, '--all'))

    url = heat(env).stacks.get(STACK).outputs
    url = [o['output_value'] for o in url if o['output_key'] == 'app_url'][0]
    started = step('Fetching the application through the load balancer')
    for _ in range(4):
        page = fetch(url)
        print('    GET %s -> %s' % (url, ' '.join(page.split())[:110]))
    done(started, 'Served')

    started = step('Updating one tier: the db\'s content')
    since = time.time()
    openstack(env, 'stack', 'update', '--existing', '--parameter',
              'db_content=Hello from version two', STACK)
    time.sleep(1)
    stack = follow(env, 'UPDATE')
    if stack.stack_status != 'UPDATE_COMPLETE':
        sys.exit('%s: %s' % (stack.stack_status, stack.stack_status_reason))
    done(started, 'UPDATE_COMPLETE')
    after = component_runs(env, since)
    for name in sorted(after):
        action, confirmed = after[name]
        print('    %-14s %s' % (name, 'unchanged, not re-run' if confirmed
                                else 're-ran %s' % action))
    page = fetch(url)
    print('    GET %s -> %s' % (url, ' '.join(page.split())[:110]))

    step('What scaling the app tier to 3 would re-run (softorch plan)')
    r = softorch(env, 'plan', STACK, '-t', os.path.relpath(EXAMPLE), '-e',
                 os.path.relpath(ENV_LOCAL), '--existing', '-P',
                 'app_count=3')
    print(r.stdout + r.stderr)

    for count in (3, 2):
        started = step('Scaling the app tier to %d with a stack update'
                       % count)
        took, served = scale_by_update(env, url, count)
        say('lb served %d apps %.1f s after the update request; '
            'UPDATE_COMPLETE after %.1f s' % (count, served, took))
        show_lb(url, 'after the update')

    for policy, count in (('scale_out', 3), ('scale_in', 2)):
        step('Signalling the scaling policy %s (no stack update)' % policy)
        scaling_done(env)
        served = scale_by_signal(env, url, policy, count)
        say('lb served %d apps %.1f s after the signal' % (count, served))
        show_lb(url, 'after the signal')
    print(softorch(env, 'status', STACK).stdout)

    started = step('Deleting the stack (DELETE configs run lb, apps, db)')
    openstack(env, 'stack', 'delete', '-y', '--wait', STACK)
    done(started, 'DELETE_COMPLETE')


if __name__ == '__main__':
    main()
