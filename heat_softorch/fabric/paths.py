"""The zNode layout of a stack.

::

    node (under <root>/stacks/<id>)    holds                  ACL (engine: all)
    ---------------------------------  ---------------------  ----------------
    .                                  the manifest           -
    hosts/<h>                          host record            h: r
    hosts/<h>/enroll                   password until claimed enroll token: c
    hosts/<h>/enroll/claim-<n>         a VM's claim           world: r
    hosts/<h>/grants/claim-<n>         password or refusal    claimant: r
    hosts/<h>/seen                     agent's last start     h: rw
    hosts/<h>/agent/<lock nodes>       liveness (kazoo Lock)  h: rcd
    hosts/<h>/components               the host's index       h: r
    hosts/<h>/components/<c>           the component's spec   h: r
    hosts/<h>/components/<c>/status    what the agent did     h: rw
    hosts/<h>/components/<c>/outputs   its publication        h: rw; readers: r
    hosts/<h>/components/<c>/readers   who is wired to it     -
    exports/<c>                        where <c> publishes    readers: r
    exports/<c>/readers/<r>            who reads <c> from     -
                                       another stack
    groups/<g>/<c>/members             the members of group   consumers: r
                                       <g> holding <c>
    groups/<g>/<c>/members/<h>         one member (its        consumers: r
                                       component's host h)
    groups/<g>/<c>/readers/<r>         who reads <g>/<c>      -

Enrollment (fabric/enrollment.py): the enroll token only creates claims;
the first claim's grant carries the password, readable by that claimant's
own secret.

Across stacks (fabric/family.py): a member template's ``from: ../<c>``
reads component <c> of the parent stack through ``exports/<c>`` of the
parent's subtree, which says on which host <c> publishes; a parent's
``from: <g>/<c>`` reads the members the engine lists under
``groups/<g>/<c>/members``, each keyed by the host of the member's
component (one per member incarnation: a replaced member is a new one).
Only the engine writes these nodes; a reader host is granted read on
exactly the nodes and publications it is wired to, and loses it when the
wire goes.

A component lives under the host that runs it: moving it to another agent
makes Heat replace it, and the replacement gets a path of its own while the
old one still runs its DELETE config.
"""

import urllib.parse
import uuid


def segment(name):
    """Quote a Heat name into one safe zNode path segment."""
    quoted = urllib.parse.quote(str(name), safe='-_.~')
    if quoted in ('', '.', '..', 'zookeeper'):
        quoted = '%' + quoted.encode().hex() if quoted else '%00'
    return quoted


def unsegment(seg):
    return urllib.parse.unquote(seg)


def new_host(agent):
    """A new host identity for the Agent resource named ``agent``: the
    name and six random hex digits, so that a replacement has its own."""
    return '%s-%s' % (agent, uuid.uuid4().hex[:6])


def agent_of_host(host):
    """The Agent resource name a new_host() identity was made for."""
    return host.rsplit('-', 1)[0]


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

    def grants(self, host):
        return self.host(host) + '/grants'

    def grant(self, host, claim):
        return '%s/%s' % (self.grants(host), claim)

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

    def readers(self, host, name):
        return self.spec(host, name) + '/readers'

    # -- across stacks --------------------------------------------------

    @property
    def exports(self):
        return self.stack + '/exports'

    def export(self, name):
        return '%s/%s' % (self.exports, segment(name))

    def export_readers(self, name):
        return self.export(name) + '/readers'

    @property
    def groups(self):
        return self.stack + '/groups'

    def group(self, group, name):
        return '%s/%s/%s' % (self.groups, segment(group), segment(name))

    def members(self, group, name):
        return self.group(group, name) + '/members'

    def member(self, group, name, host):
        return '%s/%s' % (self.members(group, name), segment(host))

    def group_readers(self, group, name):
        return self.group(group, name) + '/readers'
