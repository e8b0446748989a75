"""The operator's commands, run as an operator would (subprocesses, exit
codes, sentences) against templates and a real stack: Heat's engine with
the plugin under convergence, a real ZooKeeper, LocalServer agents."""

import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import time
import uuid
import xml.etree.ElementTree as ET

import pytest

from tests import fabricenv as fe
from tests import heatenv

SOFTORCH = [os.path.join(os.path.dirname(sys.executable), 'softorch')]
PNG_MAGIC = b'\x89PNG\r\n\x1a\n'
SVG_NS = '{http://www.w3.org/2000/svg}'


def template(name):
    return os.path.join(heatenv.TEMPLATES, name)


def softorch(*args, env=None, timeout=120):
    return subprocess.run(SOFTORCH + [str(a) for a in args],
                          capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, **(env or {})))


def png_size(path):
    with open(path, 'rb') as f:
        data = f.read(24)
    assert data[:8] == PNG_MAGIC, data[:8]
    assert data[12:16] == b'IHDR'
    return struct.unpack('>II', data[16:24])


def svg_groups(path, cls):
    root = ET.parse(path).getroot()
    assert root.tag == SVG_NS + 'svg'
    return [g for g in root.iter(SVG_NS + 'g') if g.get('class') == cls]


def svg_titles(groups):
    return sorted(g.find(SVG_NS + 'title').text for g in groups)


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


# -- templates, no stack ------------------------------------------------------

DIAMOND = [template('diamond.yaml'), '-e', template('env-local.yaml'),
           '-P', 'runlog=/tmp/x']


def test_graph_of_a_template_as_png_svg_dot_and_mermaid(tmp_path):
    png, svg = tmp_path / 'd.png', tmp_path / 'd.svg'
    r = softorch('graph', *DIAMOND, '-o', png)
    assert r.returncode == 0, r.stderr
    width, height = png_size(png)
    assert width > 100 and height > 100
    r = softorch('graph', *DIAMOND, '--format', 'svg', '-o', svg)
    assert r.returncode == 0, r.stderr
    nodes = svg_groups(svg, 'node')
    assert svg_titles(nodes) == ['join', 'left', 'right', 'top']
    clusters = svg_groups(svg, 'cluster')
    assert len(clusters) == 3
    labels = ' '.join(t.text for c in clusters
                      for t in c.iter(SVG_NS + 'text'))
    assert 'agent: agent_a' in labels and 'server_a' in labels
    edges = svg_groups(svg, 'edge')
    assert len(edges) == 4
    edge_text = ' '.join(t.text for e in edges
                         for t in e.iter(SVG_NS + 'text'))
    assert 'up \u2190 top.word' in edge_text
    assert 'l \u2190 left.word' in edge_text

    r = softorch('graph', *DIAMOND)   # dot on standard output
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith('digraph softorch {')
    assert 'subgraph cluster_' in r.stdout
    r = softorch('graph', *DIAMOND, '--format', 'mermaid')
    assert r.returncode == 0, r.stderr
    assert r.stdout.count('subgraph g') == 3
    assert '-->|"r \u2190 right.word"|' in r.stdout


def test_graph_dashes_ordering_edges(tmp_path):
    svg = tmp_path / 'c.svg'
    # cycle.yaml has a depends_on edge; a cyclic template is still drawn,
    # with its problems on standard error.
    r = softorch('graph', template('cycle.yaml'), '-o', svg)
    assert r.returncode == 0, r.stderr
    assert 'form a cycle' in r.stderr
    assert svg_titles(svg_groups(svg, 'node')) == ['alpha', 'beta', 'gamma']
    dashed = [e for e in svg_groups(svg, 'edge')
              if any(p.get('stroke-dasharray') for p in e.iter(
                  SVG_NS + 'path'))]
    assert svg_titles(dashed) == ['beta->gamma']


LIVE_TEMPLATE = """
heat_template_version: 2018-08-31
resources:
  agent: {type: OS::SoftOrch::Agent}
  server:
    type: OS::Nova::Server
    properties: {image: cirros, flavor: m1.tiny, user_data_format: RAW,
                 user_data: {get_attr: [agent, user_data]}}
  web:
    type: OS::SoftOrch::SoftwareComponent
    properties:
      agent: {get_resource: agent}
      inputs: [{name: ip}, {name: sid}, {name: page}]
      input_values:
        ip: {get_attr: [server, first_address]}
        sid: {get_resource: server}
        page: {get_file: page.html}
      configs:
        - config: {str_replace: {template: "echo $A", params: {
                    $A: {get_attr: [server, networks, local, 0]}}}}
"""


def test_plan_knows_which_values_only_heat_resolves(tmp_path):
    from heat_softorch.engine import offline
    from heat_softorch.engine import preview
    (tmp_path / 'page.html').write_text('<p>hello</p>')
    (tmp_path / 't.yaml').write_text(LIVE_TEMPLATE)
    defn, analysis = offline.load(str(tmp_path / 't.yaml'),
                                  [template('env-local.yaml')])
    assert analysis.ok, analysis.problems
    spec, refs = preview.component_specs(defn, analysis, 's')['web']
    assert spec['values']['page'] == '<p>hello</p>'   # text, not bytes
    assert {k: [str(r) for r in v] for k, v in refs.items()} == {
        'configs': ['server.networks.local.0'],
        'values.ip': ['server.first_address'],
        'values.sid': ['get_resource server']}
    live = preview.with_live_data(defn, {'server': ('uuid-1', {
        'first_address': '10.0.0.5', 'networks': {'local': ['10.0.0.5']},
        ('networks', 'local', 0): '10.0.0.5'})})
    spec, _ = preview.component_specs(live, analysis, 's')['web']
    assert spec['values']['ip'] == '10.0.0.5'
    assert spec['values']['sid'] == 'uuid-1'
    assert spec['configs']['CREATE']['config'] == 'echo 10.0.0.5'


def test_template_errors_are_sentences(tmp_path):
    for args, expected in [
            (['graph', 'nope.yaml'], 'nope.yaml: no such file'),
            (['graph'], 'give a TEMPLATE or --stack NAME'),
            (['graph', template('diamond.yaml'), '-P', 'oops'],
             "parameter 'oops' is not KEY=VALUE")]:
        r = softorch(*args)
        assert r.returncode != 0
        assert expected in r.stderr, r.stderr
        assert 'Traceback' not in r.stderr


def test_zookeeper_errors_are_sentences(tmp_path):
    port = free_port()
    r = softorch('status', 'whatever', '--zookeeper', '127.0.0.1:%d' % port,
                 '--engine-password', 'x', '--connect-timeout', '2',
                 env={'OS_AUTH_TYPE': '', 'OS_ENDPOINT': '',
                      'OS_AUTH_URL': '', 'OS_CLOUD': ''})
    assert r.returncode == 1
    assert 'ZooKeeper unreachable at 127.0.0.1:%d' % port in r.stderr, \
        r.stderr
    assert 'Traceback' not in r.stderr
    r = softorch('timeline', 'whatever', '--config-file',
                 tmp_path / 'missing.conf')
    assert r.returncode == 1
    assert 'missing.conf does not exist' in r.stderr
    conf = tmp_path / 'heat.conf'
    conf.write_text('[softorch]\nzookeeper_hosts = 127.0.0.1:%d\n' % port)
    r = softorch('status', 'whatever', '--config-file', conf)
    assert r.returncode == 1
    assert 'no engine password for ZooKeeper' in r.stderr
    assert 'Traceback' not in r.stderr


# -- a real stack -------------------------------------------------------------

def stack_name(prefix):
    return '%s-%s' % (prefix, uuid.uuid4().hex[:6])


@pytest.fixture(scope='module')
def heat(heat_engines):
    return heat_engines('convergence')


def heat_env(heat):
    return {'OS_AUTH_TYPE': 'none', 'OS_ENDPOINT': heat.endpoint,
            'OS_AUTH_URL': '', 'OS_CLOUD': ''}


def cli(heat, *args, **kw):
    return softorch(*(list(args) + ['--config-file', heat.conf]),
                    env=heat_env(heat), **kw)


def status_json(heat, name):
    r = cli(heat, 'status', name, '--format', 'json')
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def rows_by_name(doc):
    return {r['component']: r for r in doc['components']}


def plan_json(heat, name, *args):
    r = cli(heat, 'plan', name, '-t', template('diamond.yaml'), '-e',
            template('env-local.yaml'), '--format', 'json', *args)
    assert r.returncode == 0, r.stderr
    return {e['component']: e for e in json.loads(r.stdout)['components']}


def verdicts(plan, verdict):
    return sorted(n for n, e in plan.items() if e['verdict'] == verdict)


def test_status_graph_plan_update_and_timeline_of_a_live_stack(
        heat, tmp_path):
    runlog = str(tmp_path / 'runs')
    name = stack_name('views')
    params = {'runlog': runlog, 'top_delay': 20}
    sid, _ = heat.create(name, 'diamond.yaml', params, wait=False)

    # While top sleeps, left and right wait on its output, on server_a.
    def left_waits():
        r = cli(heat, 'status', name, '--format', 'json')
        if r.returncode:   # no zNodes before the first agent registers
            return None
        doc = json.loads(r.stdout)
        rows = rows_by_name(doc)
        ok = rows.get('left', {}).get('state') == 'WAITING' and \
            rows.get('top', {}).get('state') == 'RUNNING'
        return doc if ok else None
    doc = fe.wait_for(left_waits, timeout=90, interval=0.5,
                      what='left to wait on top')
    rows = rows_by_name(doc)
    assert rows['left']['waiting_on'] == [{
        'component': 'top', 'output': 'word', 'server': 'server_a',
        'host': rows['top']['host']}]
    assert doc['stack']['id'] == sid
    assert doc['stack']['status'] == 'CREATE_IN_PROGRESS'
    r = cli(heat, 'status', name)
    assert r.returncode == 0, r.stderr
    line = [ln for ln in r.stdout.splitlines() if ln.startswith('left ')]
    assert line and 'waiting on top.word @ server_a' in line[0], r.stdout
    assert 'WAITING' in line[0]
    top_line = [ln for ln in r.stdout.splitlines()
                if ln.startswith('top ')][0]
    assert 'RUNNING' in top_line and 'running for' in top_line
    assert 'alive' in r.stdout

    # Live graph: coloured by state, the same nodes as the template's.
    svg = tmp_path / 'live.svg'
    r = cli(heat, 'graph', '--stack', name, '-o', svg)
    assert r.returncode == 0, r.stderr
    nodes = {n.find(SVG_NS + 'title').text: n
             for n in svg_groups(svg, 'node')}
    assert sorted(nodes) == ['join', 'left', 'right', 'top']
    text = ' '.join(t.text for t in nodes['top'].iter(SVG_NS + 'text'))
    assert 'RUNNING' in text

    state = heat.wait(sid, 'CREATE', timeout=120)
    assert state[0] == 'CREATE_COMPLETE', state

    doc = status_json(heat, name)
    assert {r['state'] for r in doc['components']} == {'COMPLETE'}
    assert all(a['alive'] for a in doc['agents'])
    assert len(doc['agents']) == 3

    # timeline: the critical path is top -> (left or right) -> join.
    png = tmp_path / 'timeline.png'
    r = cli(heat, 'timeline', name, '-o', png)
    assert r.returncode == 0, r.stderr
    png_size(png)
    assert 'critical path (*): top (ran' in r.stdout, r.stdout
    assert r.stdout.rstrip().endswith(')') and '\u2192 join' in r.stdout

    # plan: the same template and parameters re-run nothing.
    plan = plan_json(heat, name, '-P', 'runlog=%s' % runlog,
                     '-P', 'top_delay=20')
    assert verdicts(plan, 'certain') == []
    assert verdicts(plan, 'uncertain') == []
    # --existing takes the stack's parameters from Heat.
    plan = plan_json(heat, name, '--existing', '-P', 'left_word=LEFT')
    assert verdicts(plan, 'certain') == ['left']
    assert 'input word' in plan['left']['reasons'][0]
    assert verdicts(plan, 'uncertain') == ['join']
    assert plan['join']['sources'] == ['left']
    assert verdicts(plan, 'unchanged') == ['right', 'top']
    r = cli(heat, 'plan', name, '-t', template('diamond.yaml'), '-e',
            template('env-local.yaml'), '-P', 'runlog=%s' % runlog,
            '-P', 'top_delay=20', '-P', 'left_word=LEFT')
    assert r.returncode == 0, r.stderr
    assert "input word: 'left' \u2192 'LEFT'" in r.stdout, r.stdout
    assert "re-runs if left's outputs change" in r.stdout
    assert 'unchanged (confirmed without running): top, right' in \
        r.stdout or 'unchanged (confirmed without running): right, top' \
        in r.stdout

    # The plan wrote nothing: specs and statuses are as they were.
    before = status_json(heat, name)
    assert rows_by_name(before) == rows_by_name(doc)

    # The update then re-runs exactly what the plan listed; status --watch
    # follows it through ZooKeeper's watches.
    watch = subprocess.Popen(
        SOFTORCH + ['status', name, '--watch', '--config-file', heat.conf],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=dict(os.environ, **heat_env(heat)))
    t_update = time.time()
    state = heat.update(sid, 'diamond.yaml', dict(params, left_word='LEFT'))
    assert state[0] == 'UPDATE_COMPLETE', state
    time.sleep(1.5)
    watch.send_signal(signal.SIGINT)
    out, err = watch.communicate(timeout=30)
    assert watch.returncode == 0, err
    assert 'Traceback' not in err
    final = [ln for ln in out.splitlines() if ln.startswith('left ')][-1]
    assert 'COMPLETE update' in final, out
    after = rows_by_name(status_json(heat, name))
    reran = sorted(n for n, r in after.items()
                   if not r['confirmed'] and r['started'] and
                   r['started'] >= t_update)
    planned = verdicts(plan, 'certain') + verdicts(plan, 'uncertain')
    assert reran == sorted(planned) == ['join', 'left']
    for n in ('top', 'right'):
        assert after[n]['confirmed'] is True
        assert after[n]['generation'] == rows_by_name(before)[n][
            'generation']
    assert after['left']['generation'] == \
        rows_by_name(before)['left']['generation'] + 1
    assert after['left']['action'] == 'UPDATE'

    r = cli(heat, 'timeline', name)
    assert r.returncode == 0, r.stderr
    assert 'unchanged, not run' in r.stdout

    r = cli(heat, 'status', name)
    assert 'UPDATE_COMPLETE' in r.stdout
    assert heat.delete(sid)[0] == 'DELETE_COMPLETE'
    r = cli(heat, 'status', name)
    assert r.returncode == 1
    assert 'stack %s not found in Heat at %s' % (name, heat.endpoint) in \
        r.stderr, r.stderr
    assert 'Traceback' not in r.stderr


def test_status_of_a_failed_component(heat, tmp_path):
    runlog = str(tmp_path / 'runs')
    name = stack_name('views-failing')
    sid, state = heat.create(name, 'failing.yaml', {'runlog': runlog})
    assert state[0] == 'CREATE_FAILED'
    doc = status_json(heat, name)
    rows = rows_by_name(doc)
    assert rows['db']['state'] == 'FAILED'
    assert rows['db']['exit_code'] == 3
    assert rows['db']['detail'][0] == 'exit 3 (CREATE)'
    assert 'No space left on device' in rows['db']['detail'][-1]
    # Heat may stop the traversal before it starts app (see
    # test_heat_plugin): then app was never registered and has no row.
    if 'app' in rows:
        assert rows['app']['state'] == 'FAILED'
        assert rows['app']['detail'] == [
            'not run: upstream db failed (exit 3 on server_a)']
    r = cli(heat, 'status', name)
    assert 'No space left on device' in r.stdout
    # Without the OS_* environment the name is found in ZooKeeper.
    r = softorch('status', name, '--config-file', heat.conf,
                 env={'OS_AUTH_TYPE': '', 'OS_ENDPOINT': '',
                      'OS_AUTH_URL': '', 'OS_CLOUD': ''})
    assert r.returncode == 0, r.stderr
    assert 'stack %s (%s)' % (name, sid) in r.stdout
    r = cli(heat, 'status', name, '--engine-password', 'wrong')
    assert r.returncode == 1
    assert 'engine credential was not accepted' in r.stderr, r.stderr
    assert heat.delete(sid)[0] == 'DELETE_COMPLETE'


def test_status_graph_and_plan_of_a_stack_with_a_group(
        heat_engines, tmp_path):
    # The views read ZooKeeper and Heat's API alike under either engine;
    # test_groups.py runs groups under both.
    heat = heat_engines('convergence')
    runlog = str(tmp_path / 'runs')
    name = stack_name('viewgroup')
    sid, state = heat.create(name, 'group_parent.yaml',
                             {'runlog': runlog, 'app_count': 2}, timeout=200)
    assert state[0] == 'CREATE_COMPLETE', state

    doc = status_json(heat, name)
    members = doc['groups']
    assert [(m['group'], m['component'], m['member'], m['membership'],
             m['state'], m['action'], m['consumers']) for m in members] == [
        ('app_tier', 'app', str(i), 'JOINED', 'COMPLETE', 'CREATE', ['lb'])
        for i in range(2)]
    assert all(m['server'] == 'server' and m['host'].startswith('agent-')
               for m in members)
    assert [(e['component'], len(e['readers'])) for e in doc['exports']] == \
        [('db', 2)]
    table = cli(heat, 'status', name).stdout
    assert 'groups (members are stacks of their own)' in table
    assert 'app_tier/app' in table and 'joined' in table

    r = cli(heat, 'graph', '--stack', name, '--format', 'mermaid')
    assert r.returncode == 0, r.stderr
    assert 'group app_tier: 2 members' in r.stdout
    assert '["app_tier/0/app<br/>COMPLETE · member 0"]' in r.stdout, r.stdout
    for i in range(2):
        assert '|"backends ← app_tier/%d/app.url"|' % i in r.stdout, r.stdout

    # What a count change re-runs: lb, once; one new member; nobody else.
    r = cli(heat, 'plan', name, '-t', template('group_parent.yaml'), '-e',
            template('env-local.yaml'), '-P', 'runlog=%s' % runlog, '-P',
            'app_count=3')
    assert r.returncode == 0, r.stderr
    assert re.search(r'lb +UPDATE +group app_tier: 2 -> 3 members; it '
                     r're-runs once with the new list', r.stdout), r.stdout
    assert ('group app_tier: 2 -> 3 members: 1 new member of app_tier runs '
            'CREATE; the 2 there are not re-run') in r.stdout, r.stdout
    assert 'unchanged (confirmed without running): db' in r.stdout
    r = cli(heat, 'plan', name, '-t', template('group_parent.yaml'), '-e',
            template('env-local.yaml'), '-P', 'runlog=%s' % runlog, '-P',
            'app_count=1', '--format', 'json')
    plan = json.loads(r.stdout)
    assert plan['groups'] == [{
        'group': 'app_tier', 'component': 'app', 'now': 2, 'then': 1,
        'joining': 0, 'leaving': 1, 'consumers': ['lb']}]
    assert heat.delete(sid, timeout=200)[0] == 'DELETE_COMPLETE'
