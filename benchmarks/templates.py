"""The templates the benchmarks create.

Every component script takes its own timestamps with bash's
``$EPOCHREALTIME`` on its first line and writes them on its last, to
``<stamps>/<component>``: "<start> <end>". That is the user-visible time a
script started and exited, independent of anything softorch records.
"""

LOCAL_ENV = {'resource_registry': {'OS::Nova::Server':
                                   'OS::SoftOrch::LocalServer'}}

VERSION = '2018-08-31'


def stamped_script(body=''):
    """A script writing '<start> <end>' to $stamps/$deploy_resource_name."""
    return ('#!/bin/bash\n'
            't0=$EPOCHREALTIME\n'
            '%s'
            'echo "$t0 $EPOCHREALTIME" > "$stamps/$deploy_resource_name"\n'
            % body)


CHAIN_BODY = 'echo -n $((${prev:-0} + 1)) > $heat_outputs_path.n\n'


# Heat's converge_stack sleeps 1 s after triggering each leaf of the
# graph: with its agents as leaves, a stack of 100 agents spends 100 s
# before its last VM even starts, softorch or not, and in the 30-chain the
# second VM comes a second after the first. Every template here has one
# leaf, a root every agent depends on, so that its VMs start together as
# they would in a cloud.
ROOT = {'root': {'type': 'OS::Heat::None'}}


def _agents(resources, names):
    resources.update(ROOT)
    for a in names:
        resources['agent_' + a] = {'type': 'OS::SoftOrch::Agent',
                                   'depends_on': ['root']}
        resources['server_' + a] = {
            'type': 'OS::Nova::Server', 'properties': {
                'image': 'cirros', 'flavor': 'm1.tiny',
                'user_data_format': 'RAW',
                'user_data': {'get_attr': ['agent_' + a, 'user_data']}}}


def _component(agent, inputs, values, outputs=('n',)):
    # The script is a parameter, as a template author would share it: a
    # 1,000-component template with the script inline exceeds Heat's
    # max_template_size (512 KiB).
    return {'type': 'OS::SoftOrch::SoftwareComponent', 'properties': {
        'agent': {'get_resource': 'agent_' + agent},
        'inputs': [{'name': 'stamps'}] + [{'name': i} for i in inputs],
        'outputs': [{'name': o} for o in outputs],
        'input_values': dict(values, stamps={'get_param': 'stamps'}),
        'configs': [{'actions': ['CREATE', 'UPDATE'],
                     'config': {'get_param': 'script'}}]}}


def _template(resources, outputs=None, body=CHAIN_BODY):
    return {'heat_template_version': VERSION,
            'parameters': {'stamps': {'type': 'string'},
                           'script': {'type': 'string',
                                      'default': stamped_script(body)}},
            'resources': resources, 'outputs': outputs or {}}


def chain(n):
    """n components c0..c{n-1} alternating between two agents, each
    wired to the previous one's output through ZooKeeper (as
    tests/functional/test_heat_plugin.py's chain_template)."""
    resources = {}
    _agents(resources, 'ab')
    for i in range(n):
        values = {}
        if i:
            values['prev'] = {'get_attr': ['c%d' % (i - 1), 'n']}
        resources['c%d' % i] = _component('ab'[i % 2], ['prev'], values)
    return _template(resources, {'last': {'value': {
        'get_attr': ['c%d' % (n - 1), 'n']}}})


def chain_heat_wired(n):
    """The same chain with every edge a Heat dependency that waits for the
    upstream component to finish: an OS::Heat::Value between consecutive
    components, whose value is the upstream's output. Heat starts c_i only
    after value_i, which starts only after c_{i-1} is CREATE_COMPLETE,
    i.e. after its script ran: what a SoftwareDeployment chain does,
    minus its polling."""
    resources = {}
    _agents(resources, 'ab')
    for i in range(n):
        values = {}
        if i:
            resources['value_%d' % i] = {
                'type': 'OS::Heat::Value', 'properties': {
                    'value': {'get_attr': ['c%d' % (i - 1), 'n']}}}
            values['prev'] = {'get_attr': ['value_%d' % i, 'value']}
        resources['c%d' % i] = _component('ab'[i % 2], ['prev'], values)
    return _template(resources, {'last': {'value': {
        'get_attr': ['c%d' % (n - 1), 'n']}}})


# -- scale: a layered DAG ---------------------------------------------------

LAYERS = 10


def layered_shape(n, layers=LAYERS, max_agents=100):
    """(agents, {component: (agent index, [upstreams])}) of n components
    in ``layers`` layers of n/layers; component j of layer l reads
    components j and j+1 (mod width) of layer l-1; it runs on agent
    (j + l) mod agents, so that every edge crosses agents."""
    width = max(1, n // layers)
    agents = max(2, min(max_agents, width))
    comps = {}
    for layer in range(layers):
        for j in range(width):
            ups = []
            if layer:
                ups = ['l%d_%d' % (layer - 1, j)]
                if width > 1:
                    ups.append('l%d_%d' % (layer - 1, (j + 1) % width))
            comps['l%d_%d' % (layer, j)] = ((j + layer) % agents, ups)
    return agents, comps


SUM_BODY = ('echo -n $(( ${a:-0} + ${b:-0} + 1 )) > $heat_outputs_path.n\n')


def layered(n, layers=LAYERS, max_agents=100):
    agents, comps = layered_shape(n, layers, max_agents)
    resources = {}
    _agents(resources, ['%d' % i for i in range(agents)])
    for name, (agent, ups) in comps.items():
        values = {k: {'get_attr': [u, 'n']} for k, u in zip('ab', ups)}
        resources[name] = _component('%d' % agent, ['a', 'b'], values)
    return _template(resources, body=SUM_BODY)


def layered_none(n, layers=LAYERS, max_agents=100, scheme='wired',
                 heat_deps=None):
    """The same shape made of OS::Heat::None: agents, servers and
    components, so that Heat's own cost of it can be set beside softorch's.

    ``scheme`` says which Heat dependencies a component has:
    'wired' (the scale baseline): its agent's server and every upstream
    component, as a Heat-wired deployment would; 'own': its own agent and
    server only; 'softorch' and 'softorch-all': what softorch gives the
    component in Heat, ``heat_deps`` {component: [resource]}
    (shapes.heat_dependencies of the softorch template: in a create, or in
    other operations), which names agents and servers alike;
    'softorch-reads': the other operations' without other agents' servers,
    what softorch would need if a waiting action did not hold an engine
    thread (what it and its upstreams read, its own server).
    """
    agents, comps = layered_shape(n, layers, max_agents)
    resources = dict(ROOT)
    for i in range(agents):
        resources['agent_%d' % i] = {'type': 'OS::Heat::None',
                                     'depends_on': ['root']}
        resources['server_%d' % i] = {'type': 'OS::Heat::None',
                                      'depends_on': ['agent_%d' % i]}
    for name, (agent, ups) in comps.items():
        if scheme == 'wired':
            deps = ['server_%d' % agent] + ups
        elif scheme == 'own':
            deps = ['agent_%d' % agent, 'server_%d' % agent]
        elif scheme in ('softorch', 'softorch-all'):
            deps = sorted(heat_deps[name])
        elif scheme == 'softorch-reads':
            own = 'server_%d' % agent
            deps = sorted(d for d in heat_deps[name]
                          if d == own or not d.startswith('server_'))
        else:
            raise ValueError('unknown dependency scheme %r' % scheme)
        resources[name] = {'type': 'OS::Heat::None', 'depends_on': deps}
    return {'heat_template_version': VERSION, 'resources': resources}


def heat_graph_size(template):
    """(edges, leaves) of a template's Heat graph from its depends_on: the
    leaves are what the stack's completion sync point waits for."""
    resources = template['resources']
    needed = set()
    edges = 0
    for res in resources.values():
        deps = res.get('depends_on', [])
        edges += len(deps)
        needed.update(deps)
    return edges, len(set(resources) - needed)


# -- groups ---------------------------------------------------------------

GROUP_MEMBER = 'bench_member.yaml'


def group_member(alone=False):
    """A group member: its agent, server and one component reading the
    parent's db through ../db; ``alone``, the same stack on its own, with
    db's value as a parameter instead (what one member costs without a
    group)."""
    resources = {
        'agent': {'type': 'OS::SoftOrch::Agent'},
        'server': {'type': 'OS::Nova::Server', 'properties': {
            'image': 'cirros', 'flavor': 'm1.tiny',
            'user_data_format': 'RAW',
            'user_data': {'get_attr': ['agent', 'user_data']}}},
        'app': {'type': 'OS::SoftOrch::SoftwareComponent', 'properties': {
            'agent': {'get_resource': 'agent'},
            'inputs': [{'name': 'stamps'}, {'name': 'db_url'}],
            'outputs': [{'name': 'url'}],
            'input_values': {'stamps': {'get_param': 'stamps'}},
            'configs': [{'actions': ['CREATE', 'UPDATE'], 'config':
                         stamped_script('echo -n "app:$db_url" > '
                                        '$heat_outputs_path.url\n')}]}}}
    params = {'stamps': {'type': 'string'}}
    if alone:
        params['db_url'] = {'type': 'string', 'default': 'db://bench'}
        resources['app']['properties']['input_values']['db_url'] = {
            'get_param': 'db_url'}
    else:
        resources['db_link'] = {'type': 'OS::SoftOrch::ComponentLink',
                                'properties': {'from': '../db', 'to': 'app',
                                               'map': {'db_url': 'db_url'}}}
    return {'heat_template_version': VERSION, 'parameters': params,
            'resources': resources}


def group_parent():
    """db and lb on agents of their own, and an application tier of
    ``count`` members (a ResourceGroup of group_member()) between them: lb
    reads every member's url."""
    resources = {}
    _agents(resources, ['db', 'lb'])
    resources['db'] = _component('db', [], {}, outputs=('db_url',))
    resources['db']['properties']['configs'][0]['config'] = stamped_script(
        'echo -n db://bench > $heat_outputs_path.db_url\n')
    resources['lb'] = _component('lb', ['backends'], {}, outputs=())
    resources['app_tier'] = {
        'type': 'OS::Heat::ResourceGroup', 'depends_on': ['root'],
        'properties': {'count': {'get_param': 'count'}, 'resource_def': {
            'type': GROUP_MEMBER,
            'properties': {'stamps': {'get_param': 'stamps'}}}}}
    resources['lb_backends'] = {
        'type': 'OS::SoftOrch::ComponentLink', 'properties': {
            'from': 'app_tier/app', 'to': 'lb',
            'map': {'backends': 'url'}}}
    t = _template(resources)
    t['parameters']['count'] = {'type': 'number', 'default': 2}
    return t


def as_none(template):
    """The same resources as OS::Heat::None, each depending on what it
    read: Heat's own cost of the shape."""
    out = {'heat_template_version': VERSION,
           'parameters': {k: v for k, v in (
               template.get('parameters') or {}).items() if k == 'count'},
           'resources': {}}
    for name, res in template['resources'].items():
        if res['type'] == 'OS::Heat::ResourceGroup':
            props = dict(res['properties'])
            props['resource_def'] = dict(props['resource_def'],
                                         properties={})
            out['resources'][name] = dict(res, properties=props)
            continue
        deps = sorted(_refs(res.get('properties')) & set(
            template['resources']))
        out['resources'][name] = {'type': 'OS::Heat::None'}
        if deps or res.get('depends_on'):
            out['resources'][name]['depends_on'] = sorted(
                set(deps) | set(res.get('depends_on') or ()))
    return out


def _refs(snippet):
    found = set()
    if isinstance(snippet, dict):
        for k, v in snippet.items():
            if k in ('get_resource',) and isinstance(v, str):
                found.add(v)
            elif k == 'get_attr' and isinstance(v, list) and v:
                found.add(v[0])
            else:
                found |= _refs(v)
    elif isinstance(snippet, list):
        for v in snippet:
            found |= _refs(v)
    return found


# -- Heat's own software deployments (the peer) ------------------------------

# OS::Nova::Server as a LocalServer and Heat's deployment as its local
# variant (examples/env-local.yaml): the native path of `make up`'s cloud.
NATIVE_ENV = {'resource_registry': {
    'OS::Nova::Server': 'OS::SoftOrch::LocalServer',
    'OS::Heat::SoftwareDeployment': 'OS::SoftOrch::LocalSoftwareDeployment',
    'OS::Neutron::Port': 'OS::Heat::None',
    'OS::Neutron::FloatingIP': 'OS::Heat::None'}}


def native_server(polling_interval):
    """A Heat-ready server whose os-collect-config polls every
    ``polling_interval`` s (its os-collect-config metadata, as an image's
    os-collect-config.conf template reads it)."""
    return {'type': 'OS::Nova::Server', 'depends_on': ['root'],
            'metadata': {'os-collect-config': {
                'polling_interval': polling_interval}},
            'properties': {'image': 'heat-ready-image', 'flavor': 'm1.tiny',
                           'user_data_format': 'SOFTWARE_CONFIG'}}


def warmup(servers, seconds):
    """A resource that completes ``seconds`` after ``servers`` exist: what
    depends on it reaches os-collect-config once it polls at its steady
    ``polling_interval`` (it starts at 1 s and doubles: 1, 2, 4, 8, 16 s,
    then the interval: 31 s of ramp)."""
    return {'type': 'OS::Heat::TestResource', 'depends_on': list(servers),
            'properties': {'action_wait_secs': {'create': seconds}}}


def native_chain(n, polling_interval, warmup_s=0):
    """chain(n) as Heat's own SoftwareDeployments: c0..c{n-1} alternating
    between two SOFTWARE_CONFIG servers, c_i reading c_{i-1}'s output
    (a Heat dependency: Heat creates c_i once c_{i-1} has signalled), the
    same stamped script. With ``warmup_s``, c0 waits that long after the
    servers exist (warm agents)."""
    resources = dict(ROOT)
    for s in 'ab':
        resources['server_' + s] = native_server(polling_interval)
    resources['step'] = {'type': 'OS::Heat::SoftwareConfig',
                         'depends_on': ['root'], 'properties': {
                             'group': 'script',
                             'inputs': [{'name': 'stamps'},
                                        {'name': 'prev'}],
                             'outputs': [{'name': 'n'}],
                             'config': {'get_param': 'script'}}}
    if warmup_s:
        resources['warmup'] = warmup(['server_a', 'server_b'], warmup_s)
    for i in range(n):
        prev = {'get_attr': ['c%d' % (i - 1), 'n']} if i else '0'
        resources['c%d' % i] = {
            'type': 'OS::Heat::SoftwareDeployment', 'properties': {
                'config': {'get_resource': 'step'},
                'server': {'get_resource': 'server_' + 'ab'[i % 2]},
                'input_values': {'stamps': {'get_param': 'stamps'},
                                 'prev': prev}}}
        if i == 0 and warmup_s:
            resources['c0']['depends_on'] = ['warmup']
    return _template(resources, {'last': {'value': {
        'get_attr': ['c%d' % (n - 1), 'n']}}})


def one_leaf(template):
    """The template with a root every resource of its own without a
    dependency depends on (see ROOT): Heat then starts its VMs together,
    not one a second."""
    import json
    resources = dict(template['resources'])
    for name, res in list(resources.items()):
        text = json.dumps(res)
        if 'depends_on' in res or 'get_resource' in text or \
                'get_attr' in text:
            continue
        resources[name] = dict(res, depends_on=['root'])
    resources.update(ROOT)
    return dict(template, resources=resources)
