"""The trainer reads exactly the object the trigger validated: URIs are split, never URL-decoded
or cut at `#`/`?`, a `file://` object cannot leave its bucket, and file contents reach an error
only as a short escaped excerpt."""

import pytest

from droptune_trainer.data import load_dataset
from droptune_trainer.errors import TrainerError
from droptune_trainer.params import Params
from droptune_trainer.storage import FileStore, split_uri

SECRET = "s3cr3t-api-token-do-not-echo"


@pytest.fixture()
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("DROPTUNE_HOME", str(tmp_path))
    (tmp_path / "api-token").write_text(SECRET + "\n")
    (tmp_path / "buckets" / "datasets" / "tickets").mkdir(parents=True)
    return tmp_path


def test_percent_escapes_are_not_decoded_into_a_path_outside_the_bucket(home):
    uri = "file://datasets/tickets/%2e%2e%2f%2e%2e%2f%2e%2e%2fapi-token"
    with pytest.raises(TrainerError) as info:
        FileStore().read_bytes(uri)
    assert info.value.code == "not_found"
    assert SECRET not in str(info.value)


def test_dot_dot_segments_cannot_leave_the_bucket(home):
    with pytest.raises(TrainerError) as info:
        FileStore().read_bytes("file://datasets/tickets/../../../api-token")
    assert info.value.code == "invalid_argument"
    assert "outside its bucket" in str(info.value)


@pytest.mark.parametrize("name", ["data#.csv", "data?x=1.csv"])
def test_hash_and_question_mark_do_not_cut_the_name(home, name):
    folder = home / "buckets" / "datasets" / "tickets"
    (folder / name).write_bytes(b"the validated object")
    (folder / name.split("#")[0].split("?")[0]).write_bytes(b"a different object")
    assert FileStore().read_bytes(f"file://datasets/tickets/{name}") == b"the validated object"


def test_split_uri_takes_the_object_literally():
    assert split_uri("gs://b/m/a%2Fb#c?d.csv") == ("gs", "b", "m/a%2Fb#c?d.csv")
    assert split_uri("file:///abs/p.csv") == ("file", "", "abs/p.csv")


def test_a_huge_header_gives_a_short_missing_column_error(home):
    path = home / "buckets" / "datasets" / "tickets" / "wide.csv"
    path.write_text(SECRET + "," * 100_000 + "\nx" + "," * 100_000 + "\n")
    with pytest.raises(TrainerError) as info:
        load_dataset("file://datasets/tickets/wide.csv", Params(), salt="tickets")
    message = str(info.value)
    assert len(message) < 2000
    assert "and 99981 more" in message
