"""The component DAG of a stack: built, checked and queried. No I/O.

The engine reduces resource definitions to the plain data of ``model`` and
calls ``analyse()``; the command line does the same from a template. This
package imports networkx and the standard library only, never Heat.

Modules, one job each:

- ``model``: the plain data the engine hands over.
- ``dag``: the component graph and its cycles.
- ``checks``: what each definition declares, and the DAG property.
- ``heatgraph``: the Heat dependencies wiring adds, and their cycles.
- ``analysis``: ``analyse()`` and the questions the engine asks.
- ``update``: what an update will re-run.
- ``problems``: the Problem record and shared phrasing.
"""

from heat_softorch.graph.analysis import analyse
from heat_softorch.graph.analysis import Analysis
from heat_softorch.graph.analysis import GraphError
from heat_softorch.graph.model import Component
from heat_softorch.graph.model import Group
from heat_softorch.graph.model import Input
from heat_softorch.graph.model import Link
from heat_softorch.graph.model import NestedRef
from heat_softorch.graph.model import Ref
from heat_softorch.graph.model import Resource
from heat_softorch.graph.model import StackModel
from heat_softorch.graph.model import Wire
from heat_softorch.graph.problems import Problem
from heat_softorch.graph.update import affected

__all__ = [
    'Analysis', 'Component', 'GraphError', 'Group', 'Input', 'Link',
    'NestedRef', 'Problem', 'Ref', 'Resource', 'StackModel', 'Wire',
    'affected', 'analyse',
]
