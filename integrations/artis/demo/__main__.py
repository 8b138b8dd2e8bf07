"""`python -m integrations.artis.demo`: run the demo artis.net in the foreground."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from integrations.artis.demo.server import serve_forever


def main() -> None:
    """Parse the command line and serve until Ctrl-C."""
    parser = argparse.ArgumentParser(description="Demo artis.net REST server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--db", type=Path, default=None, help="SQLite file (default: temporary)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    serve_forever(args.host, args.port, args.db)


if __name__ == "__main__":
    main()
