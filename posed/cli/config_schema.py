"""`posed config schema`: the JSON Schema of the config file, for editors and validators.

With the YAML language server (VS Code's YAML extension, and other editors'), a first line
`# yaml-language-server: $schema=posed.schema.json` in posed.yaml makes the editor complete
keys and check values as they are typed. The schema covers the backends installed here.
"""

from __future__ import annotations

import argparse
import json
import sys

from posed.errors import EXIT_OK


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="config_command", required=True, metavar="ACTION")
    schema = actions.add_parser(
        "schema",
        help="Print the JSON Schema of the config file (every installed backend's section included).",
        description="Print the JSON Schema of the config file (every installed backend's section "
        "included). Save it beside posed.yaml and put `# yaml-language-server: $schema=posed.schema.json` "
        "on the config's first line, and editors complete and check the file as it is typed.",
    )
    schema.add_argument("--indent", type=int, default=2, help="Spaces per indent level; 0: one line.")


def execute(args: argparse.Namespace) -> int:
    from posed.config.editor_schema import installed_schema

    indent = args.indent if args.indent > 0 else None
    json.dump(installed_schema(), sys.stdout, indent=indent, ensure_ascii=False)
    sys.stdout.write("\n")
    return EXIT_OK
