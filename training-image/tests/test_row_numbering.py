"""The row-numbering rule (docs/contracts.md), on the golden cases the TypeScript validator shares."""

import json
from pathlib import Path

import pytest

from droptune_trainer.data import load_dataset
from droptune_trainer.errors import TrainerError
from droptune_trainer.params import Params

GOLDEN = json.loads((Path(__file__).parents[2] / "shared/contracts/fixtures/row-numbering.json").read_text())


@pytest.mark.parametrize("case", GOLDEN["cases"], ids=[c["name"] for c in GOLDEN["cases"]])
def test_the_trainer_names_the_line_an_editor_shows(tmp_path, case):
    path = tmp_path / "data.csv"
    path.write_text(case["csv"], encoding="utf-8", newline="")
    with pytest.raises(TrainerError) as info:
        load_dataset(f"file://{path}", Params(), salt="m")
    assert f"line {case['line']} " in info.value.message
