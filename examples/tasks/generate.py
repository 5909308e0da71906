"""Generates one small example CSV per task (deterministic, no network), beside this script.

    python examples/tasks/generate.py [--seed 20261207]

Each folder holds train.csv (to drop) and heldout.csv (to score with `droptune predict --input`),
built from the support-ticket templates (examples/support-tickets/generate.py) so the words are
realistic and held-out rows use templates and fill values training never saw:

- multilabel/  `text,labels`: a ticket about one or two intents (`billing|shipping`).
- pair/        `text,text_pair,label`: a ticket and a support reply; `match` when the reply answers
               that ticket's intent, else `no_match`.
- regression/  `text,score`: a product review and its score, 1.0 to 5.0 in tenths (more than 10
               distinct values, so the validator detects regression without droptune.json).
- long-text/   `text,label`: a long support thread (several hundred words) about one intent, with
               droptune.json `{"longText": "chunk"}` so the model reads every window, not only the
               first 128 tokens.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("tickets", HERE.parent / "support-tickets" / "generate.py")
assert _spec and _spec.loader
tickets = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tickets)
INTENTS = sorted(tickets.TEMPLATES)

REPLIES = {
    "billing": ["we have refunded the duplicate charge to your card", "your invoice has been corrected and re-sent",
                "the charge was your annual renewal; a receipt is attached", "we applied the discount and credited the difference"],
    "technical": ["please update the app to the latest version and clear the cache", "our engineers fixed the sync error this morning",
                  "reinstalling the app should stop the crash", "this was a known outage and it is now resolved"],
    "cancellation": ["your subscription is cancelled and will not renew", "we closed your account as requested",
                     "the plan ends at the close of this billing period", "your membership has been terminated today"],
    "account": ["use the reset link we just emailed to get back in", "we changed the email on your account",
                "two-factor login is now switched off for your account", "your colleague has been added to the team"],
    "shipping": ["your parcel is with the courier and arrives Thursday", "we are sending a replacement for the missing item",
                 "the tracking number is in your order confirmation", "we re-shipped the order by express at no charge"],
}

PRAISE = [("absolutely love it", 2.0), ("works perfectly", 1.6), ("great value", 1.2), ("does the job", 0.4),
          ("nice design", 0.8), ("fast delivery", 0.6), ("very comfortable", 1.0), ("better than expected", 1.4)]
BLAME = [("broke after a week", -2.0), ("total waste of money", -2.2), ("feels cheap", -1.0), ("a bit noisy", -0.5),
         ("battery drains fast", -1.2), ("arrived scratched", -0.8), ("instructions are confusing", -0.4),
         ("stopped charging", -1.8)]
PRODUCTS = (["headphones", "charger", "keyboard", "phone case", "monitor", "speaker"], ["desk lamp", "webcam"])


def multilabel(part: int, rng: random.Random) -> tuple[str, str]:
    first = rng.choice(INTENTS)
    if rng.random() < 0.4:
        second = rng.choice([i for i in INTENTS if i != first])
        text = f"{tickets.ticket(first, part, rng)}. Also, {tickets.ticket(second, part, rng)}"
        return text, "|".join(sorted({first, second}))
    return tickets.ticket(first, part, rng), first


def pair(part: int, rng: random.Random) -> tuple[str, str, str]:
    intent = rng.choice(INTENTS)
    match = rng.random() < 0.5
    reply_intent = intent if match else rng.choice([i for i in INTENTS if i != intent])
    replies = REPLIES[reply_intent][:-1] if part == 0 else REPLIES[reply_intent][-1:]
    return tickets.ticket(intent, part, rng), rng.choice(replies), "match" if match else "no_match"


def review(part: int, rng: random.Random) -> tuple[str, str]:
    pools = [p[:-2] if part == 0 else p[-2:] for p in (PRAISE, BLAME)]
    picked = [rng.choice(rng.choice(pools)) for _ in range(rng.randint(1, 3))]
    product = rng.choice(PRODUCTS[part])
    text = f"the {product}: " + ", ".join(p for p, _ in picked)
    score = 3 + sum(v for _, v in picked) / len(picked) + rng.gauss(0, 0.25)
    return text, f"{min(5.0, max(1.0, score)):.1f}"


def thread(part: int, rng: random.Random) -> tuple[str, str]:
    intent = rng.choice(INTENTS)
    messages = [tickets.ticket(intent, part, rng) for _ in range(rng.randint(8, 14))]
    # Off-topic chatter from every intent, so the intent is spread over the whole text.
    for _ in range(rng.randint(4, 8)):
        messages.insert(rng.randrange(len(messages)), "thanks for waiting, I am checking with the team")
    messages.insert(rng.randrange(len(messages)), tickets.ticket(rng.choice(INTENTS), part, rng))
    return ". ".join(messages), intent


def write(folder: str, name: str, header: list[str], rows: list[tuple[str, ...]]) -> None:
    path = HERE / folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


EXAMPLES = {
    # folder: (header, row maker, train rows, held-out rows, droptune.json or None)
    "multilabel": (["text", "labels"], multilabel, 800, 150, None),
    "pair": (["text", "text_pair", "label"], pair, 800, 150, None),
    "regression": (["text", "score"], review, 800, 150, None),
    "long-text": (["text", "label"], thread, 300, 60, {"longText": "chunk", "maxChunks": 8}),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=20261207)
    args = parser.parse_args()
    for folder, (header, make, train_rows, heldout_rows, settings) in EXAMPLES.items():
        rng = random.Random(f"{args.seed}-{folder}")
        write(folder, "train.csv", header, [make(0, rng) for _ in range(train_rows)])
        write(folder, "heldout.csv", header, [make(1, rng) for _ in range(heldout_rows)])
        if settings is not None:
            (HERE / folder / "droptune.json").write_text(json.dumps(settings, indent=2) + "\n")


if __name__ == "__main__":
    main()
