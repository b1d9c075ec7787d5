"""The `serve` and `apikey` subcommands of `gn-pipelines` (registered by cli.py)."""

from __future__ import annotations

import argparse
import sys

from gn_pipelines.openapi.keys import DEFAULT_DAILY_LIMIT
from gn_pipelines.settings import DataZones


def _serve(args: argparse.Namespace) -> int:
    from gn_pipelines.openapi.server import serve

    return serve(DataZones.from_env().root, args.host, args.port, access_log=not args.no_access_log,
                 workers=args.workers)


def _key_store():
    from gn_pipelines.openapi.keys import KeyStore

    return KeyStore.under(DataZones.from_env().root)


def _issue(args: argparse.Namespace) -> int:
    try:
        record, key = _key_store().issue(args.owner, args.daily_limit)
    except ValueError as error:
        print(f"not issued: {error}", file=sys.stderr)
        return 2
    print(f"issued {record.key_id} to {record.owner}, {record.daily_limit:,} calls a day (Asia/Seoul days)")
    print("the key is shown once, now; only its hash is stored. Send it URL-encoded as serviceKey:")
    print(key)
    return 0


def _list(args: argparse.Namespace) -> int:
    keys = _key_store().list_keys()
    print(f"{'key id':<18} {'owner':<24} {'daily limit':>11} {'today':>7}  {'issued':<25} status")
    for key in keys:
        status = f"revoked {key.revoked_at}" if key.revoked_at else "active"
        print(f"{key.key_id:<18} {key.owner:<24} {key.daily_limit:>11,} {key.calls_today:>7,}  {key.issued_at:<25} {status}")
    print(f"{len(keys)} key(s)")
    return 0


def _revoke(args: argparse.Namespace) -> int:
    revoked = _key_store().revoke(args.key)
    if revoked is None:
        print("no such key", file=sys.stderr)
        return 1
    print(f"revoked {revoked.key_id} of {revoked.owner} at {revoked.revoked_at}")
    return 0


def _usage(args: argparse.Namespace) -> int:
    rows = _key_store().usage()
    print(f"{'day':<11} {'key id':<18} {'owner':<24} {'calls':>8} {'refused (22)':>13}")
    for key_id, owner, day, calls, refused in rows:
        print(f"{day:<11} {key_id:<18} {owner:<24} {calls:>8,} {refused:>13,}")
    return 0


def add_commands(commands) -> None:
    """Add `serve` and `apikey` to the subparsers of the `gn-pipelines` parser."""
    serve = commands.add_parser("serve", help="serve the open-data portal and the OpenAPI over the open release")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--workers", type=int, default=1, help="server processes (default 1)")
    serve.add_argument("--no-access-log", action="store_true", help="do not write the JSON access log to stdout")
    serve.set_defaults(handler=_serve)

    apikey = commands.add_parser("apikey", help="issue, list and revoke OpenAPI keys")
    actions = apikey.add_subparsers(dest="action", required=True)
    issue = actions.add_parser("issue", help="issue a key (printed once, on the last line)")
    issue.add_argument("--owner", required=True, help="who the key is for")
    issue.add_argument("--daily-limit", type=int, default=DEFAULT_DAILY_LIMIT,
                       help=f"calls a day (default {DEFAULT_DAILY_LIMIT:,}, a data.go.kr development account)")
    issue.set_defaults(handler=_issue)
    actions.add_parser("list", help="every key, its limit and today's calls").set_defaults(handler=_list)
    revoke = actions.add_parser("revoke", help="revoke a key (the key or its id)")
    revoke.add_argument("key")
    revoke.set_defaults(handler=_revoke)
    actions.add_parser("usage", help="calls per key and day").set_defaults(handler=_usage)

