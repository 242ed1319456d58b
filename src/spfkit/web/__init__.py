"""``spfkit web``: the wizard, the checker and the tester in a browser, over a JSON API.

:func:`create_app` builds the ASGI application (FastAPI, Jinja2 templates) around one
resolver; ``spfkit.cli.web`` serves it with uvicorn. The web layer only adapts spfkit's
functions (``wizard``, ``lint``, ``tree``, ``evaluate``, ``headers``) and bounds what anyone
who reaches it can make it do (``spfkit.web.limits``).
"""

from spfkit.web.app import create_app

__all__ = ["create_app"]
