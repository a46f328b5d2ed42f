"""The ``ganshot serve`` flags for the OSC server, and starting it from them.

Cheat sheet (in ``cli/_engine_cli.py``)::

    from ganshot.bridges.osc.cli import add_osc_arguments, start_osc
    add_osc_arguments(serve_parser)          # --osc-port, --osc-host, --osc-remote, --osc-allow, ...
    server = start_osc(engine, args)         # an OscServer, running; None with --no-osc
    ...
    if server is not None:
        server.close()
"""

from __future__ import annotations

import sys

from ganshot.engine.errors import UserInputError

from .render_cache import DEFAULT_MAX_BYTES, DEFAULT_MAX_FILES
from .server import DEFAULT_BUFFER_KIB, DEFAULT_HOST, DEFAULT_MAX_AHEAD_S, DEFAULT_PORT, OscServer

__all__ = ["add_osc_arguments", "start_osc"]


def add_osc_arguments(parser) -> None:
    """Add the OSC flags to an argparse parser (as an "OSC" argument group)."""
    group = parser.add_argument_group("OSC", "control over Open Sound Control (UDP); see the README's address table")
    group.add_argument("--no-osc", action="store_true", help="do not start the OSC server")
    group.add_argument("--osc-port", type=int, default=DEFAULT_PORT, help="UDP port to listen on (0: any free port)")
    group.add_argument("--osc-host", default=DEFAULT_HOST,
                       help="address to listen on; a non-loopback one needs --osc-remote")
    group.add_argument("--osc-remote", action="store_true",
                       help="allow --osc-host to be a network address (prints a warning)")
    group.add_argument("--osc-allow", action="append", default=[], metavar="CIDR",
                       help="with --osc-remote: accept only these senders, e.g. 192.168.1.0/24 (repeatable; "
                            "loopback is always accepted)")
    group.add_argument("--osc-reply-port", "--reply-port", dest="osc_reply_port", type=int, default=None,
                       metavar="PORT", help="send replies to this port on the sender's host (default: its source port)")
    group.add_argument("--osc-max-ahead", "--max-ahead", dest="osc_max_ahead", type=float,
                       default=DEFAULT_MAX_AHEAD_S, metavar="SECONDS",
                       help="refuse bundles timed more than this far ahead")
    group.add_argument("--osc-buffer-kib", type=int, default=DEFAULT_BUFFER_KIB, metavar="KIB",
                       help="socket receive buffer: what may wait for dispatch before the kernel drops new "
                            "datagrams (counted); ~1 KiB per small message, capped by net.core.rmem_max")
    group.add_argument("--osc-kit-dir", default=".", metavar="DIR",
                       help="/kit/load and /kit/save paths must lie inside this folder")
    group.add_argument("--osc-render-dir", default=None, metavar="DIR",
                       help="folder for /render WAVs (default: $XDG_CACHE_HOME/ganshot/osc-renders)")
    group.add_argument("--osc-render-files", type=int, default=DEFAULT_MAX_FILES, metavar="N",
                       help="keep at most this many /render WAVs (oldest deleted)")
    group.add_argument("--osc-render-mb", type=float, default=DEFAULT_MAX_BYTES / 2**20, metavar="MB",
                       help="keep at most this many MiB of /render WAVs (oldest deleted)")


def start_osc(engine, args, out=None):
    """Start an :class:`OscServer` for ``engine`` from parsed ``args``; None with ``--no-osc``.

    Raises :class:`UserInputError` (one line) for a bad flag or a port in use.
    """
    if args.no_osc:
        return None
    out = sys.stderr if out is None else out
    if not 0 < args.osc_render_mb < float("inf"):
        raise UserInputError(f"--osc-render-mb must be positive, got {args.osc_render_mb}")
    if args.osc_allow and not args.osc_remote:
        raise UserInputError("--osc-allow only applies with --osc-remote (a loopback server hears only this machine)")
    server = OscServer(
        engine, host=args.osc_host, port=args.osc_port, allow_remote=args.osc_remote, allow=args.osc_allow,
        reply_port=args.osc_reply_port, max_ahead_s=args.osc_max_ahead, buffer_kib=args.osc_buffer_kib,
        render_dir=args.osc_render_dir, render_max_files=args.osc_render_files,
        render_max_bytes=max(1, int(args.osc_render_mb * 2**20)), kit_dir=args.osc_kit_dir,
    )
    if server.remote:
        allowed = ", ".join(map(str, server.allow)) or "ANY host"
        print(f"ganshot: WARNING: OSC listens on {args.osc_host}:{server.port}, reachable from the network; "
              f"accepting {allowed}. Anyone allowed can play, load and save kits.", file=out)
    server.start()
    reply = f", replies to port {args.osc_reply_port}" if args.osc_reply_port else ""
    print(f"ganshot: OSC on {args.osc_host}:{server.port}{reply}", file=out)
    return server
