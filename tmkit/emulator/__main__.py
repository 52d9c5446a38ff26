"""``python -m tmkit.emulator --port N``: run the AWS emulator in the foreground (``inv local.up`` runs it detached)."""

import argparse

from tmkit.emulator.server import serve


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tmkit.emulator", description=__doc__)
    parser.add_argument("--port", type=int, required=True, help="port on 127.0.0.1")
    try:
        serve(parser.parse_args().port)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
