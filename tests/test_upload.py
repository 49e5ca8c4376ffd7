"""read_csv: every bad file gets a DataError that says what to fix."""
import pytest

from mmcore import DataError, fit, read_csv


def test_reads_a_good_file_and_fits():
    d = read_csv(b"y,x,g\n1,1,a\n2,2,a\n3,1,b\n5,2,b\n4,1,c\n6,2,c\n")
    assert d.shape == (6, 3) and d.attrs["notes"] == []
    fit("y ~ x + (1|g)", d)


def test_semicolon_and_decimal_comma():
    d = read_csv("y;x;g\n1,5;2;a\n2,5;3;b\n".encode())
    assert d["y"].tolist() == [1.5, 2.5] and any("decimal mark ','" in n for n in d.attrs["notes"])


def test_tab_delimited():
    assert read_csv(b"y\tx\n1\t2\n3\t4\n").shape == (2, 2)


def test_windows_1252_is_read_with_a_note():
    d = read_csv("name,value\nJosé,1\nZoë,2\n".encode("cp1252"))
    assert d["name"].tolist() == ["José", "Zoë"] and "Windows-1252" in d.attrs["notes"][0]


@pytest.mark.parametrize("raw,words", [
    (b"", "empty"),
    (b"   \n\n", "empty"),
    (b"y,x,g\n", "no data rows"),
    (b"PK\x03\x04\x00\x00binary", "not a CSV"),
    (b"y,x,g\n1,2,a\n1,2,a,9,9\n", "ragged"),
    (b"justonecolumn\n1\n2\n", "only one column"),
    (b"y,y\n1,2\n", "same name"),
])
def test_bad_files(raw, words):
    with pytest.raises(DataError) as err:
        read_csv(raw)
    assert words in str(err.value)


def test_size_limit():
    with pytest.raises(DataError, match="limit is 1 MB"):
        read_csv(b"y,x\n" + b"1,2\n" * 300_000, max_bytes=1_000_000)


def test_path_and_missing_path(tmp_path):
    p = tmp_path / "d.csv"
    p.write_bytes(b"a,b\n1,2\n")
    assert read_csv(p).shape == (1, 2)
    with pytest.raises(DataError, match="no file"):
        read_csv(tmp_path / "nope.csv")
