"""`read_csv`: a user's file (bytes or a path) -> DataFrame, or a DataError that says what to fix.

Uploaded files are the worst input the app meets. Everything here is checked before pandas sees
it: size, binary content, encoding (UTF-8, else Windows-1252 with a note), the delimiter and the
decimal mark (sniffed), ragged rows, a header with no rows. pandas then reads the text.
"""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pandas as pd

from ..errors import DataError

MAX_BYTES = 50 * 1024 * 1024  # the default upload limit, as in .streamlit/config.toml
MAX_ROWS = 2_000_000


def _decode(raw: bytes, notes: list[str]) -> str:
    if b"\x00" in raw[:100_000]:
        raise DataError(
            "This file is not a CSV text file (it holds binary data: a spreadsheet, an image or a zip?). "
            "Save or export it as CSV (comma-separated values) and upload that."
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = raw.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise DataError(
            "This file is not UTF-8 text and could not be read in any other common encoding. Save it as "
            "'CSV UTF-8' (Excel: File > Save As > CSV UTF-8) and upload it again."
        ) from exc
    notes.append("The file is not UTF-8; it was read as Windows-1252 (Excel's usual encoding). Check that "
                 "accented names look right; if not, save it as 'CSV UTF-8'.")
    return text


def _dialect(text: str) -> tuple[str, str]:
    """Delimiter and decimal mark from the first lines."""
    sample = "\n".join(text.splitlines()[:50])
    try:
        delim = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        counts = {d: sample.count(d) for d in ",;\t|"}
        delim = max(counts, key=counts.get) if max(counts.values()) else ","
    decimal = "," if delim != "," and re.search(r"(^|[;\t|])\s*-?\d+,\d+\s*($|[;\t|])", sample, re.M) else "."
    return delim, decimal


def read_csv(source, max_bytes: int = MAX_BYTES) -> pd.DataFrame:
    """Read a CSV from bytes, a file-like object or a path. attrs["notes"] lists what was assumed."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise DataError(f"There is no file at '{path}'.")
        if path.stat().st_size > max_bytes:
            raise DataError(_too_big(path.stat().st_size, max_bytes))
        raw = path.read_bytes()
    elif isinstance(source, (bytes, bytearray)):
        raw = bytes(source)
    elif hasattr(source, "read"):
        raw = source.read(max_bytes + 1)
    else:
        raise DataError("read_csv takes the file's bytes or its path.")
    if len(raw) > max_bytes:
        raise DataError(_too_big(len(raw), max_bytes))
    if not raw.strip():
        raise DataError("The file is empty. Upload a CSV with a header row and at least a few data rows.")
    notes: list[str] = []
    text = _decode(raw, notes)
    delim, decimal = _dialect(text)
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if len(lines) < 2:
        raise DataError("The file has a header but no data rows. Add the data below the header row.")
    header = [h.strip() for h in next(csv.reader([lines[0]], delimiter=delim))]
    repeated = sorted({h for h in header if h and header.count(h) > 1})
    if repeated:  # pandas would quietly rename the second one 'x.1'
        raise DataError(f"Two columns have the same name ({', '.join(repeated)}). Give each column its own "
                        "name in the header.")
    try:
        # Missing is what R's read.csv calls missing: "NA" and empty fields (and NaN). pandas' default
        # list also drops "None", "null", "n/a"...: a treatment called None would vanish without a word.
        df = pd.read_csv(io.StringIO(text), sep=delim, decimal=decimal, skipinitialspace=True,
                         on_bad_lines="error", engine="c", nrows=MAX_ROWS + 1,
                         keep_default_na=False, na_values=["NA", "", "NaN"])
    except pd.errors.ParserError as exc:
        m = re.search(r"line (\d+).*?(\d+) fields.*?saw (\d+)", str(exc))
        where = f" Line {m.group(1)} has {m.group(3)} values where the header has {m.group(2)}." if m else ""
        raise DataError(
            f"The rows of this file do not all have the same number of values (ragged rows).{where} "
            "Check for a stray delimiter or a missing value, and that text with commas is in quotes."
        ) from exc
    except (UnicodeError, ValueError) as exc:
        raise DataError(f"This file could not be read as CSV ({exc}). Check that it is a plain CSV file.") from exc
    if len(df) > MAX_ROWS:
        raise DataError(f"The file has more than {MAX_ROWS:,} rows; the app handles up to that many. "
                        "Upload a sample or an aggregate of your data.")
    if df.shape[1] < 2:
        raise DataError(
            "The file has only one column, so there is nothing to model (a response and a grouping "
            f"factor at least). If it should have more, check the delimiter: I read '{delim}'."
        )
    df.columns = [str(c).strip() for c in df.columns]
    unnamed = [c for c in df.columns if c.startswith("Unnamed:")]
    if unnamed:
        notes.append(f"{len(unnamed)} column(s) had no name in the header and were called {', '.join(unnamed)}.")
    if delim != "," or decimal != ".":
        notes.append(f"Read with delimiter '{'tab' if delim == chr(9) else delim}' and decimal mark '{decimal}'.")
    df.attrs["notes"] = notes
    return df


def _too_big(size: int, limit: int) -> str:
    mb = 2**20  # MB as Streamlit counts them (maxUploadSize)
    return (f"The file is {size / mb:.1f} MB; the limit is {limit / mb:.0f} MB. Upload a smaller file "
            "(a sample of the rows, or only the columns the model needs).")
