"""The zNode layout of a stack.

::

    <root>                                   engine
    <root>/stacks/<stack_id>                 the manifest                      engine
        hosts/<host>                         host record                       engine; host r
        hosts/<host>/enroll                  one-time credential hand-over     engine; enroll token r
        hosts/<host>/seen                    the agent's last start            engine; host rw
        hosts/<host>/agent/<lock nodes>      liveness (kazoo Lock, ephemeral)  engine; host rcd
        hosts/<host>/components              the host's component index        engine; host r
        hosts/<host>/components/<name>       a component's spec                engine; host r
            .../status                       what the agent did, timestamps    engine; host rw
            .../outputs                      the publication downstream reads  engine; host rw; readers r

A component lives under the host that runs it: moving it to another agent
makes Heat replace it, and the replacement gets a path of its own while the
old one still runs its DELETE config.
"""

import urllib.parse


def segment(name):
    """Quote a Heat name into one safe zNode path segment."""
    quoted = urllib.parse.quote(str(name), safe='-_.~')
    if quoted in ('', '.', '..', 'zookeeper'):
        quoted = '%' + quoted.encode().hex() if quoted else '%00'
    return quoted


def unsegment(seg):
    return urllib.parse.unquote(seg)


class StackPaths(object):
    """Paths of one stack's zNodes under a root."""

    def __init__(self, root, stack_id):
        self.root = '/' + root.strip('/')
        self.stacks = self.root + '/stacks'
        self.stack_id = stack_id
        self.stack = '%s/%s' % (self.stacks, segment(stack_id))
        self.hosts = self.stack + '/hosts'

    def host(self, host):
        return '%s/%s' % (self.hosts, segment(host))

    def enroll(self, host):
        return self.host(host) + '/enroll'

    def seen(self, host):
        return self.host(host) + '/seen'

    def liveness(self, host):
        return self.host(host) + '/agent'

    def components(self, host):
        return self.host(host) + '/components'

    def spec(self, host, name):
        return '%s/%s' % (self.components(host), segment(name))

    def status(self, host, name):
        return self.spec(host, name) + '/status'

    def outputs(self, host, name):
        return self.spec(host, name) + '/outputs'
