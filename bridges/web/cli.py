"""The ``ganshot serve`` flags for the web control page, and starting it from them.

Cheat sheet (in ``cli/_engine_cli.py``)::

    from ganshot.bridges.web.cli import add_web_arguments, start_web
    add_web_arguments(serve_parser)          # --web, --web-port, --web-host, --web-remote, --web-allow
    web = start_web(engine, osc, args)       # a WebServer, running; None without --web
    ...
    if web is not None:
        web.close()

The page sends its commands to the OSC server, so ``--web`` needs OSC on; its host rules
mirror OSC's: loopback unless ``--web-remote``, then ``--web-allow`` limits who may connect.
"""

from __future__ import annotations

import sys

from ganshot.engine.errors import UserInputError

__all__ = ["add_web_arguments", "start_web", "DEFAULT_HOST", "DEFAULT_PORT"]

# Repeated here (checked equal in tests) so that building the parser imports no server code.
DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8080


def add_web_arguments(parser) -> None:
    """Add the web page's flags to an argparse parser (as a "web page" argument group)."""
    group = parser.add_argument_group("web page", "a control page in the browser (pads, knobs, timbre map, "
                                                  "live status); it plays through the OSC server")
    group.add_argument("--web", action="store_true", help="serve the control page (needs OSC: not with --no-osc)")
    group.add_argument("--web-port", type=int, default=DEFAULT_PORT, help="TCP port of the page (0: any free port)")
    group.add_argument("--web-host", default=DEFAULT_HOST,
                       help="address to serve on; a non-loopback one needs --web-remote")
    group.add_argument("--web-remote", action="store_true",
                       help="allow --web-host to be a network address (prints a warning)")
    group.add_argument("--web-allow", action="append", default=[], metavar="CIDR",
                       help="with --web-remote: accept only these clients, e.g. 192.168.1.0/24 (repeatable; "
                            "loopback is always accepted)")


def check_web_arguments(args) -> None:
    """Refuse flag combinations that cannot work, before the engine warms up (UserInputError, one line)."""
    if not getattr(args, "web", False):
        for flag, value in (("--web-remote", args.web_remote), ("--web-allow", args.web_allow)):
            if value:
                raise UserInputError(f"{flag} only applies with --web")
        return
    if args.no_osc:
        raise UserInputError("--web sends its commands through the OSC server: drop --no-osc")
    if args.web_allow and not args.web_remote:
        raise UserInputError("--web-allow only applies with --web-remote (a loopback page is reachable only here)")


def start_web(engine, osc, args, out=None):
    """Start a :class:`~.server.WebServer` for ``engine`` through ``osc`` from parsed ``args``;
    None without ``--web``. Raises :class:`UserInputError` (one line) for a bad flag or a port in use."""
    check_web_arguments(args)
    if not args.web:
        return None
    if osc is None:
        raise UserInputError("--web sends its commands through the OSC server, which is not running")
    from .server import WebServer

    out = sys.stderr if out is None else out
    server = WebServer(engine, osc, host=args.web_host, port=args.web_port, allow_remote=args.web_remote,
                       allow=args.web_allow)
    if server.remote:
        allowed = ", ".join(map(str, server.allow)) or "ANY host"
        print(f"ganshot: WARNING: the web page on {server.url} is reachable from the network; accepting "
              f"{allowed}. Anyone allowed can play, load and save kits.", file=out)
    if osc.reply_port is not None:
        print(f"ganshot: note: --osc-reply-port sends OSC replies to port {osc.reply_port}, so the page shows "
              "no /fail or /matched answers", file=out)
    server.start()
    print(f"ganshot: web page on {server.url}", file=out)
    return server
