"""Every command and option of `caregraph` says what it does, with its default."""

from __future__ import annotations

import argparse
import re

from caregraph.cli import build_parser


def commands(parser: argparse.ArgumentParser, prefix: str = "caregraph") -> dict[str, argparse.ArgumentParser]:
    found = {prefix: parser}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found |= commands(sub, f"{prefix} {name}")
    return found


def test_every_command_and_option_has_help_text():
    missing = []
    for name, parser in commands(build_parser()).items():
        assert parser.description, f"{name} has no description"
        for action in parser._actions:
            if isinstance(action, (argparse._HelpAction, argparse._VersionAction, argparse._SubParsersAction)):
                continue
            if not (action.help or "").strip():
                missing.append(f"{name} {'/'.join(action.option_strings) or action.dest}")
    assert not missing, "no help text: " + ", ".join(missing)
    assert len(commands(build_parser())) >= 14


def test_options_with_a_default_say_what_it_is():
    for name, parser in commands(build_parser()).items():
        for action in parser._actions:
            if action.option_strings and action.default not in (None, False, [], argparse.SUPPRESS) \
                    and not isinstance(action, (argparse._HelpAction, argparse._VersionAction)):
                assert re.search(rf"default:? {re.escape(str(action.default))}\b", action.help), \
                    f"{name} {action.option_strings[0]} does not show its default {action.default!r}"


def test_the_top_level_help_names_the_environment_variables(capsys):
    help_text = build_parser().format_help()
    for variable in ("CAREGRAPH_STORE", "CAREGRAPH_DATA_DIR", "CAREGRAPH_UPDATE_TOKEN", "CAREGRAPH_QUERY_TIMEOUT"):
        assert variable in help_text
    serve = commands(build_parser())["caregraph serve"].format_help()
    assert "default 127.0.0.1" in serve and "default 8000" in serve and "default 1" in serve
    assert "Java" in commands(build_parser())["caregraph check"].format_help()
    imports = commands(build_parser())["caregraph import"].format_help()
    for source in ("cqc-directory", "cqc-export", "cqc-api", "ods", "geography"):
        assert re.search(rf"^  {source}\s+\S", imports, re.M), f"import help does not explain {source}"
