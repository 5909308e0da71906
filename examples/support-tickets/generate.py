"""Generates the sample customer-support ticket dataset (deterministic, no network).

    python examples/support-tickets/generate.py [--seed 20261122]

Writes train.csv (2,500 rows) and heldout.csv (300 rows), columns `text,label`, five intents:
billing, technical, cancellation, account, shipping. Learnable but not trivial: templates of
different intents share vocabulary, and a quarter of the tickets use one intent's words with
another's label (a crash that makes someone cancel is `cancellation`; an error on the payment
page is `technical`), ~8% of texts carry typos, openers and
sign-offs are shared by all intents, and 2% of training labels are flipped (real ticket queues
are mislabelled too). heldout.csv uses templates and fill values that never occur in train.csv,
so it measures generalisation rather than memorised phrases.
"""

from __future__ import annotations

import argparse
import csv
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent

# Per intent: templates; the last 3 of each list are reserved for heldout.csv.
TEMPLATES = {
    "billing": [
        "I was charged twice for my {plan} plan this month",
        "why did my card get billed {amount} on {date}?",
        "the invoice for {date} shows the wrong amount, it should be {amount}",
        "can you send me a receipt for my last payment of {amount}",
        "my {plan} subscription price went up without notice",
        "I see an unknown charge of {amount} on my statement",
        "please refund the duplicate payment from {date}",
        "how do I update the credit card used for billing on my account",
        "the discount code was not applied and I paid {amount}",
        "I need a VAT invoice for my company for the {plan} plan",
        "payment failed but the money left my bank account",
        "you billed me {amount} after the free trial, I expected the trial to continue",
        "is there a cheaper yearly price for the {plan} plan",
        "my bank shows a pending charge of {amount} from you that I never authorised",
        "the tax on my last bill looks wrong",
        "can I pay by bank transfer instead of card for the {plan} plan",
    ],
    "technical": [
        "the {app} keeps crashing when I open {feature}",
        "I get error {code} every time I try to sync",
        "{feature} is not loading, just a blank screen",
        "after the latest update the {app} is extremely slow",
        "notifications stopped working on my {device}",
        "the export to {format} produces an empty file",
        "I can't upload files bigger than 10 MB, it times out",
        "the {app} freezes on the loading screen on my {device}",
        "search returns no results even though the items exist",
        "dark mode breaks the layout of {feature}",
        "the integration with {integration} throws error {code}",
        "{feature} shows the wrong data since yesterday",
        "the {app} logs me out of my account every few minutes and crashes",
        "video calls drop after two minutes on my {device}",
        "the API returns error {code} for every request to {feature}",
        "charts in {feature} don't render on {device}",
    ],
    "cancellation": [
        "please cancel my {plan} subscription",
        "I want to close my account and stop all payments",
        "how do I cancel before the next billing date on {date}?",
        "cancel my plan, I am switching to another provider",
        "I no longer need the service, please end my membership",
        "stop my subscription and refund the remaining months",
        "I tried to cancel in the app but the button does nothing",
        "do not renew my {plan} plan on {date}",
        "I'd like to terminate my contract effective immediately",
        "please delete my account and cancel the {plan} plan",
        "how much notice do I need to give to cancel",
        "I want to downgrade and then cancel at the end of the term",
        "end my trial now, I don't want to be charged {amount}",
        "I'm moving abroad so I need to cancel the service",
        "unsubscribe me from the {plan} plan and confirm by email",
        "I'm done with this, cancel everything on my account",
    ],
    "account": [
        "I forgot my password and the reset email never arrives",
        "how do I change the email address on my account",
        "my account is locked after too many login attempts",
        "I want to add a second user to my {plan} account",
        "two-factor authentication codes are not accepted",
        "please merge my two accounts into one",
        "how can I change my username",
        "someone else logged into my account from {city}",
        "I can't verify my phone number, the sms code never comes",
        "update the billing address on my profile to {city}",
        "I lost access to my old email, how do I recover my account",
        "how do I transfer account ownership to a colleague",
        "my profile picture won't update",
        "I need to reset two-factor authentication, I changed my phone",
        "please change the account name to my company name",
        "how do I download all my account data",
    ],
    "shipping": [
        "my order {order} hasn't arrived yet, it was due on {date}",
        "the tracking number for order {order} doesn't work",
        "the package arrived damaged, the {product} is broken",
        "can I change the delivery address for order {order} to {city}",
        "I received the wrong item, I ordered a {product}",
        "how long does shipping to {city} usually take",
        "the courier says delivered but there is no parcel",
        "order {order} is stuck in customs",
        "can I get express delivery for my {product}",
        "part of my order {order} is missing",
        "I want to return the {product}, how do I get a return label",
        "the delivery was left outside in the rain and the box is wet",
        "my {product} was shipped to my old address in {city}",
        "when will order {order} be dispatched, it still says processing",
        "do you ship {product} to {city}",
        "the parcel for order {order} was returned to sender",
    ],
}

# Cross-intent tickets: the words of one intent, the label of another (what the customer wants
# decides the label). First 3 of each list go to train.csv, the last 2 to heldout.csv. A quarter
# of all tickets come from here, so keyword matching alone is not enough.
CONFUSERS = {
    "billing": [
        "I cancelled last month but you still charged me {amount}",
        "the app crashed during checkout and I was billed {amount} twice",
        "I never received order {order} but the card was charged, I want my money back",
        "after I closed my account you kept taking payments",
        "my login works but the invoice page shows a charge I don't recognise",
    ],
    "technical": [
        "the payment page shows error {code} when I try to pay",
        "I can't cancel because the cancel button throws error {code}",
        "tracking page for order {order} crashes the {app}",
        "the refund form freezes on my {device}",
        "the account settings page gives error {code}",
    ],
    "cancellation": [
        "the {app} keeps crashing so I want to cancel my subscription",
        "your prices went up again, cancel my {plan} plan",
        "shipping always takes weeks, just close my account and stop the plan",
        "too many bugs, I'm ending my membership today",
        "billing is a mess, terminate my contract now",
    ],
    "account": [
        "I can't log in to update my credit card",
        "I need to change the email that receives my invoices",
        "my account shows someone else's orders",
        "how do I change the password on the {app}",
        "I want to add my colleague so he can see the billing history",
    ],
    "shipping": [
        "I paid for express delivery but order {order} came a week late",
        "the {product} I ordered arrived but the charger was missing from the box",
        "my account says delivered for order {order} but nothing came",
        "I was charged for shipping twice on order {order}, which courier has it",
        "the app says my {product} shipped but the tracking link gives an error",
    ],
}

FILLS = {
    "plan": (["Pro", "Basic", "Team", "Premium", "Starter"], ["Enterprise", "Family"]),
    "amount": (["$9.99", "$49", "€120", "$19.00", "£15", "$240"], ["€75.50", "$310"]),
    "date": (["March 3", "the 1st", "last Friday", "June 12", "01/04", "yesterday"], ["October 30", "next Monday"]),
    "app": (["app", "desktop app", "mobile app", "web app"], ["browser extension"]),
    "feature": (["the dashboard", "reports", "the calendar", "settings", "the inbox"], ["the analytics page", "team chat"]),
    "code": (["500", "E1042", "403", "0x80070005", "timeout 504"], ["E2201", "429"]),
    "device": (["iPhone", "Android phone", "iPad", "Windows laptop", "Mac"], ["Chromebook", "Pixel tablet"]),
    "format": (["CSV", "PDF", "Excel"], ["JSON"]),
    "integration": (["Slack", "Google Drive", "Salesforce"], ["Zapier", "Dropbox"]),
    "city": (["Berlin", "Toronto", "Austin", "Lyon", "Madrid", "Osaka"], ["São Paulo", "Kraków"]),
    "order": (["#48213", "A-1932", "#77410", "100-2291", "#50002"], ["B-7781", "#90314"]),
    "product": (["headphones", "charger", "keyboard", "phone case", "monitor"], ["desk lamp", "webcam"]),
}

OPENERS = (["", "", "", "Hi, ", "Hello, ", "Hey team, ", "Good morning, ", "URGENT: ", "hi there "],
           ["Dear support, ", "Quick question: "])
CLOSERS = (["", "", "", " thanks", " Thank you!", " please help", " asap", " Regards, Sam", "!!", " ?"],
           [" cheers", " - Maria"])


def typo(text: str, rng: random.Random) -> str:
    """One keyboard slip: a swapped, dropped or doubled letter."""
    letters = [i for i, c in enumerate(text) if c.isalpha()]
    if len(letters) < 4:
        return text
    i = rng.choice(letters[1:-1])
    kind = rng.choice(("swap", "drop", "double"))
    if kind == "swap" and i + 1 < len(text):
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    if kind == "drop":
        return text[:i] + text[i + 1 :]
    return text[:i] + text[i] + text[i:]


def ticket(label: str, part: int, rng: random.Random) -> str:
    if rng.random() < 0.25:
        templates = CONFUSERS[label][:-2] if part == 0 else CONFUSERS[label][-2:]
    else:
        templates = TEMPLATES[label][:-3] if part == 0 else TEMPLATES[label][-3:]
    text = rng.choice(templates)
    for slot, values in FILLS.items():
        while "{" + slot + "}" in text:
            text = text.replace("{" + slot + "}", rng.choice(values[part]), 1)
    text = rng.choice(OPENERS[part]) + text + rng.choice(CLOSERS[part])
    if rng.random() < 0.3:
        text = text.lower()
    for _ in range(2):
        if rng.random() < 0.08:
            text = typo(text, rng)
    return text


def generate(rows: int, part: int, flip: float, rng: random.Random) -> list[tuple[str, str]]:
    labels = sorted(TEMPLATES)
    out = []
    for n in range(rows):
        label = labels[n % len(labels)]
        text = ticket(label, part, rng)
        if rng.random() < flip:
            label = rng.choice([x for x in labels if x != label])
        out.append((text, label))
    rng.shuffle(out)
    return out


def write(path: Path, rows: list[tuple[str, str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["text", "label"])
        w.writerows(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--train-rows", type=int, default=2500)
    parser.add_argument("--heldout-rows", type=int, default=300)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    write(HERE / "train.csv", generate(args.train_rows, 0, 0.02, rng))
    write(HERE / "heldout.csv", generate(args.heldout_rows, 1, 0.0, rng))


if __name__ == "__main__":
    main()
