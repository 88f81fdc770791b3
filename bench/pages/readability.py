"""How plain the words on the pages are: the Flesch reading ease of every text shown to
advocates (duty descriptions, route steps, the guided path's questions and choices), scored
by textstat, as a distribution per kind and the hardest texts to rewrite first. GOV.UK
writes for a reading age of about 9, a reading ease of 60 or more.

    pip install 'textstat>=0.7.3,<0.7.5'   # later versions fetch a word list at run time
    python bench/pages/readability.py [--worst 15]
"""

from __future__ import annotations

import argparse
import statistics

import textstat

from caregraph import guided_path
from caregraph.build import open_store
from caregraph.namespaces import short_id
from caregraph.store import value

TARGET = 60.0


def texts(store) -> list[tuple[str, str, str]]:
    """(kind, id, text) for every text shown to advocates."""
    found = [(value(r["kind"]), short_id(r["subject"].value), value(r["text"])) for r in store.select("readable_texts")]
    for question in guided_path.load(store).questions.values():
        found.append(("guided path", question.id, question.label))
        if question.hint:
            found.append(("guided path", question.id + " (hint)", question.hint))
        found += [("guided path", choice.id, choice.label) for choice in question.choices]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--worst", type=int, default=15, help="how many of the hardest texts to list")
    args = parser.parse_args()
    store, _ = open_store()
    scored = [(textstat.flesch_reading_ease(text), kind, ident, text) for kind, ident, text in texts(store)]
    print(f"{'texts':<18}{'n':>5}{'median':>9}{'p25':>8}{'p75':>8}{'>= 60':>8}")
    for kind in sorted({s[1] for s in scored}) + ["all"]:
        scores = [s[0] for s in scored if kind in ("all", s[1])]
        q1, _, q3 = statistics.quantiles(scores, n=4)
        share = sum(s >= TARGET for s in scores) / len(scores)
        print(f"{kind:<18}{len(scores):>5}{statistics.median(scores):>9.1f}{q1:>8.1f}{q3:>8.1f}{share:>8.0%}")
    print(f"\nThe {args.worst} hardest to read:")
    for score, kind, ident, text in sorted(scored)[:args.worst]:
        print(f"{score:7.1f}  {kind}: {ident}: {text[:110]}{'...' if len(text) > 110 else ''}")


if __name__ == "__main__":
    main()
