"""Every command and option of `caregraph` says what it does, with its default; and the README's
`caregraph path "the council"` reads as a newcomer means it."""

from __future__ import annotations

import argparse
import io
import json
import re

from caregraph.cli import build_parser, main


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


def test_path_reads_the_council_as_the_social_services_council_and_names_the_other(capsys):
    out = io.StringIO()
    assert main(["path", "the council", "--json"], out) == 0
    answer = json.loads(out.getvalue())
    assert answer["actor"]["id"] == "council-social-services"
    assert [a["id"] for a in answer["also_named"]] == ["housing-authority"]
    assert answer["chains"][0][-1]["id"] == "parliament"
    out = io.StringIO()
    assert main(["path", "the council"], out) == 0
    assert "it also names Local housing authority (`caregraph path housing-authority`)" in " ".join(
        out.getvalue().split())
    # A name with no usual meaning still lists the candidates with their ids and exits 2.
    assert main(["path", "the ombudsman"], io.StringIO()) == 2
    err = capsys.readouterr().err
    assert "lgsco (Local Government and Social Care Ombudsman)" in err and "give one of these ids" in err
