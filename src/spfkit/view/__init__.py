"""What spfkit shows, as plain data: the models the command line and the web both render.

* :mod:`~spfkit.view.check` — :class:`CheckReport`: one ``check_host()`` (RFC 7208 §4) with
  its request; its JSON and its ``Received-SPF:`` / ``Authentication-Results:`` headers.
* :mod:`~spfkit.view.trace` — :func:`trace_nodes`: the evaluation's trace as a tree, one
  branch per ``check_host()`` (the top record, each include, each redirect).
* :mod:`~spfkit.view.record_tree` — :func:`tree_view`: the include/redirect tree of
  ``spfkit show`` and the ``/check`` page, with its counts against the limits of §4.6.4.

``spfkit.cli`` draws these with rich, ``spfkit.web`` with its HTML templates and as JSON; the
policy server logs the trace. Nothing here renders: no rich, click, fastapi, jinja2 or
asyncio — and neither front end imports the other.
"""

from spfkit.view.check import CheckReport
from spfkit.view.record_tree import NodeView, TermRow, TreeView, tree_view
from spfkit.view.trace import TraceNode, trace_nodes

__all__ = [
    "CheckReport",
    "NodeView",
    "TermRow",
    "TraceNode",
    "TreeView",
    "trace_nodes",
    "tree_view",
]
