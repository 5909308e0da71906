import pytest

from droptune_trainer.data import load_dataset
from droptune_trainer.errors import TrainerError
from droptune_trainer.params import Params
from droptune_trainer.scoring import score
from droptune_trainer.storage import FileStore, store_for


def write(tmp_path, text: str, name: str = "d.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return f"file://{path}"


def test_labels_are_sorted_and_columns_mapped(tmp_path):
    rows = "\n".join(f"{'x' * (i % 5 + 1)} ticket {i},{['zeta', 'alpha', 'mid'][i % 3]},extra" for i in range(30))
    uri = write(tmp_path, "\ufeffbody,intent,other\n" + rows + "\n")
    ds = load_dataset(uri, Params(textColumn="body", labelColumn="intent"), salt="m")
    assert ds.labels == ["alpha", "mid", "zeta"]
    assert len(ds.train_texts) + len(ds.val_texts) == 30
    assert len(ds.sha256) == 64


@pytest.mark.parametrize(("content", "needle"), [
    ("text,label\na,x\nb,x\nc,x\n", "needs at least 2 classes"),
    ("body,label\na,x\n", "header has no column 'text'"),
    ("text,label\na,x\nb\n", "line 3 has 1 fields"),
    ("text,label\n,x\nb,y\n", "line 2 column 'text' is empty"),
    ("text,label,split\na,x,train\nb,y,holdout\n", "expected one of train, validation, test"),
    ("", "is empty"),
])
def test_bad_csv_is_rejected_with_row_and_column(tmp_path, content, needle):
    with pytest.raises(TrainerError) as info:
        load_dataset(write(tmp_path, content), Params(), salt="m")
    assert needle in info.value.message


def test_non_utf8_and_missing_files_are_clear_errors(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("text,label\ncaf\xe9,x\n".encode("latin-1"))
    with pytest.raises(TrainerError, match="not UTF-8"):
        load_dataset(f"file://{path}", Params(), salt="m")
    with pytest.raises(TrainerError) as info:
        load_dataset(f"file://{tmp_path}/nope.csv", Params(), salt="m")
    assert info.value.code == "not_found"


def test_file_uri_with_bucket_resolves_under_droptune_home(tmp_path, monkeypatch):
    monkeypatch.setenv("DROPTUNE_HOME", str(tmp_path / "home"))
    store = FileStore()
    assert store.path("file://datasets/m/a.csv") == tmp_path / "home" / "buckets" / "datasets" / "m" / "a.csv"
    assert str(store.path("file:///abs/dir/a.csv")) == "/abs/dir/a.csv"


def test_writes_are_create_only(tmp_path):
    store = FileStore()
    store.write_bytes(f"file://{tmp_path}/o/a.json", b"1")
    with pytest.raises(TrainerError) as info:
        store.write_bytes(f"file://{tmp_path}/o/a.json", b"2")
    assert info.value.code == "already_exists"
    assert (tmp_path / "o" / "a.json").read_bytes() == b"1"
    assert store.list_names(f"file://{tmp_path}/o") == ["a.json"]


def test_unknown_scheme_lists_the_known_ones():
    with pytest.raises(TrainerError, match="expected one of file://, gs://"):
        store_for("s3://bucket/x.csv")


def test_scores_match_hand_computed_values():
    r = score([0, 0, 1, 1, 2], [0, 1, 1, 1, 0], ["a", "b", "c"])
    assert r["accuracy"] == pytest.approx(3 / 5)
    assert r["confusion_matrix"] == [[1, 1, 0], [0, 2, 0], [1, 0, 0]]
    assert r["per_class"]["b"] == {"precision": pytest.approx(2 / 3), "recall": 1.0, "f1": pytest.approx(0.8), "support": 2}
    assert r["macro_f1"] == pytest.approx((0.5 + 0.8 + 0.0) / 3)
