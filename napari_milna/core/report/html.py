"""The report as one self-contained HTML page: inline CSS, images as base64 PNG.

Every number sits in a table cell that carries its key and its exact value
(``<td data-key="peak_p_fwe" data-value="0.01234...">0.0123</td>``): the page shows a
few digits, a script (or a test) reads the value the CLI's JSON has.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

from .figures import data_uri

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#212529;
  margin:0;background:#f8f9fa}
main{max-width:1120px;margin:0 auto;padding:24px 28px 60px;background:#fff}
h1{font-size:26px;margin:0 0 4px}h2{font-size:20px;margin:34px 0 8px;
  border-bottom:2px solid #dee2e6;padding-bottom:4px}h3{font-size:16px;margin:22px 0 6px}
p.meta{color:#495057;margin:2px 0}nav ol{margin:6px 0 0;padding-left:22px}
table{border-collapse:collapse;margin:6px 0 10px;font-size:12.5px}
th,td{padding:3px 8px;border-bottom:1px solid #e9ecef;text-align:right;white-space:nowrap}
th{background:#f1f3f5;font-weight:600}th.group{background:#e7f5ff;text-align:center}
td.text,th.text{text-align:left;white-space:normal}
tr.first td{border-top:1px solid #adb5bd}
td.ok{color:#2b8a3e;font-weight:600}td.warn{color:#e67700;font-weight:600}
td.fail{color:#c92a2a;font-weight:600}
figure{margin:8px 0 16px}figure img{max-width:100%;border:1px solid #dee2e6}
figcaption{font-size:12px;color:#495057}
.foot{font-size:12px;color:#495057}.figs{display:flex;flex-wrap:wrap;gap:10px}
.note{color:#862e9c}.row{display:flex;flex-wrap:wrap;gap:18px;align-items:flex-start}
figure.mosaic{flex:0 0 330px}figure.mosaic img{width:330px}
div.scroll{overflow-x:auto}td[data-key=reason]{min-width:240px}
table.kv th{background:#f8f9fa;font-weight:500}
table.kv td{border-right:1px solid #e9ecef}
"""


def esc(text) -> str:
    """HTML-escaped text."""
    return html.escape(str(text))


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def fmt_p(value) -> str:
    """A p value: three significant digits, small ones as ``4.9e-5``."""
    if _missing(value):
        return ""
    value = float(value)
    if value >= 1e-3 or value == 0:
        return f"{value:.3g}"
    mantissa, exponent = f"{value:.1e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def fmt_num(value, digits: int = 4) -> str:
    """A number with ``digits`` significant digits (integers as they are)."""
    if _missing(value):
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()
                                  and abs(value) < 1e6):
        return f"{int(value)}"
    return f"{float(value):.{digits}g}"


def fmt_mm(value) -> str:
    """A coordinate in mm (one decimal)."""
    return "" if _missing(value) else f"{float(value):.1f}"


FORMATS = {"p": fmt_p, "num": fmt_num, "mm": fmt_mm, "int": fmt_num}


def _value_attr(value) -> str:
    if _missing(value):
        return ' data-value=""'
    if isinstance(value, bool):
        return f' data-value="{str(value).lower()}"'
    if isinstance(value, int):
        return f' data-value="{value}"'
    return f' data-value="{float(value)!r}"'


def cell(key: str, value, kind: str = "num", css: str = "") -> str:
    """One ``<td>``: text cells carry their key, number cells their exact value as well."""
    if kind == "text":
        klass = f"text {css}".strip()
        text = esc("" if value is None else value)
        return f'<td class="{klass}" data-key="{esc(key)}">{text}</td>'
    value = None if _missing(value) else value
    shown = FORMATS[kind](value)
    klass = f' class="{css}"' if css else ""
    return f'<td{klass} data-key="{esc(key)}"{_value_attr(value)}>{esc(shown)}</td>'


def table(table_id: str, columns: Sequence[tuple], rows: Sequence[dict], *,
          groups: Sequence[tuple] | None = None, row_class=None) -> str:
    """A table: ``columns`` are ``(key, header, kind)``; ``rows`` dicts by key.

    Parameters
    ----------
    table_id : str
        ``data-table`` of the table (what a reader looks it up by).
    columns : sequence of (str, str, str)
        Key, header text and kind (``"num"``, ``"int"``, ``"p"``, ``"mm"``, ``"text"``).
    rows : sequence of dict
    groups : sequence of (str, int), optional
        A header row above: ``(title, number of columns)``.
    row_class : callable, optional
        ``row_class(row) -> str`` (CSS class of a row).
    """
    out = [f'<table data-table="{esc(table_id)}">']
    if groups:
        out.append("<tr>" + "".join(
            f'<th class="group" colspan="{n}">{esc(title)}</th>' if title else
            f'<th colspan="{n}"></th>' for title, n in groups) + "</tr>")
    out.append("<tr>" + "".join(
        f'<th class="{"text" if kind == "text" else ""}">{esc(header)}</th>'
        for _, header, kind in columns) + "</tr>")
    for row in rows:
        klass = row_class(row) if row_class else ""
        out.append(f'<tr class="{klass}">' if klass else "<tr>")
        for key, _, kind in columns:
            css = row.get(f"{key}__class", "")
            out.append(cell(key, row.get(key), kind, css))
        out.append("</tr>")
    out.append("</table>")
    return '<div class="scroll">' + "".join(out) + "</div>"


def key_values(table_id: str, items: Sequence[tuple], per_row: int = 3) -> str:
    """A table of ``(key, label, value, kind)``, ``per_row`` label / value pairs a row."""
    out = [f'<table class="kv" data-table="{esc(table_id)}">']
    for start in range(0, len(items), per_row):
        out.append("<tr>")
        for key, label, value, kind in items[start:start + per_row]:
            out.append(f'<th class="text">{esc(label)}</th>{cell(key, value, kind)}')
        out.append("</tr>")
    out.append("</table>")
    return "".join(out)


def figure(png: bytes, caption: str, alt: str, css: str = "") -> str:
    """An inline image with its caption."""
    klass = f' class="{css}"' if css else ""
    return (f'<figure{klass}><img alt="{esc(alt)}" src="{data_uri(png)}">'
            f"<figcaption>{esc(caption)}</figcaption></figure>")


# ----------------------------------------------------------------------------- sections
def section(key: str, heading: str, parts) -> str:
    """``<section id="key"><h2>heading</h2>`` with ``parts`` (HTML) inside."""
    return f'<section id="{key}"><h2>{esc(heading)}</h2>' + "".join(parts) + "</section>"


def _qc_section(rep) -> list[str]:
    from .tables import QC_ROI_COLUMNS, QC_RUN_COLUMNS

    if not rep.qc:
        return []
    out = ['<p class="foot">Per run and ROI, as <code>milna qc RUN --roi ...</code>. '
           "Mosaics: mean EPI through the PAG and RVM, dropout in red, SPM's implicit-mask "
           "drop in yellow, ROIs in cyan.</p>"]
    for i, run in enumerate(rep.qc):
        name = run["file"].rsplit("/", 1)[-1]
        out.append(f"<h3>{esc(name)}</h3>")
        tables = [table(f"qc-run:{i}", QC_RUN_COLUMNS, [dict(run, **{
            "verdict__class": run["verdict"]})])]
        rows = [dict(r, **{"verdict__class": r["verdict"]}) for r in run["rois"]]
        if rows:
            tables.append(table(f"qc-rois:{i}", QC_ROI_COLUMNS, rows))
        if run.get("notes"):
            tables.append('<ul class="foot">' + "".join(
                f"<li>{esc(n)}</li>" for n in run["notes"]) + "</ul>")
        out.append('<div class="row"><div>' + "".join(tables) + "</div>"
                   + figure(run["mosaic_png"], "QC mosaic", f"QC mosaic {name}", "mosaic")
                   + "</div>")
    return out


def _svc_section(rep) -> list[str]:
    from .tables import PEAK_COLUMNS, SPM_GROUPS, peak_row, search_items, spm_columns, spm_rows

    if not rep.svc:
        return []
    out = ['<p class="foot">Each contrast in each ROI, as <code>milna svc STAT ROI</code>: '
           "SPM's results table (set, cluster and peak level) inside the ROI, the ROI's "
           "strongest voxel, and the search volume.</p>"]
    for i, (entry, png) in enumerate(zip(rep.svc, rep.svc_figures)):
        s = entry.summary
        out.append(f'<h3 id="svc-{i}">{esc(entry.roi.name)} in {esc(entry.contrast.name)}</h3>')
        columns = spm_columns(entry.result.stat_type)
        out.append(table(f"svc-spm:{i}", columns, spm_rows(entry.result), groups=SPM_GROUPS,
                         row_class=lambda r: "first" if r.get("cluster_k") is not None else ""))
        peak_columns = (("value", entry.result.stat_type, "num"),) + PEAK_COLUMNS[1:]
        out.append("<p class=\"foot\">The ROI's strongest voxel:</p>")
        out.append(table(f"svc-peak:{i}", peak_columns, [peak_row(s["peak"])]))
        out.append("<p class=\"foot\">Search volume and thresholds:</p>")
        out.append(key_values(f"svc-search:{i}", search_items(s)))
        caption = (f"Axial slices through {entry.roi.name} (outline) of {entry.contrast.name}; "
                   "the cross marks the ROI's peak.")
        out.append(figure(png, caption, f"lightbox {entry.roi.name}"))
    return out


def _crossover_section(rep) -> list[str]:
    from .tables import CROSSOVER_COLUMNS

    if not rep.crossover:
        return []
    out = []
    for i, (entry, pngs) in enumerate(zip(rep.crossover, rep.paired_figures)):
        s = entry.summary
        out.append(f"<h3>{esc(entry.table.name)}: {esc(s['contrast']['label'])}, "
                   f"{s['n_subjects']} subjects</h3>")
        rows = [dict(r, ci_low=r["ci95"][0], ci_high=r["ci95"][1]) for r in s["rois"]]
        out.append(table(f"crossover:{i}", CROSSOVER_COLUMNS, rows))
        if pngs:
            out.append('<div class="figs">' + "".join(
                figure(png, f"{stats.name}: placebo to drug per subject; squares: means "
                       "with 95 % CI", f"paired {stats.name}")
                for stats, png in zip(entry.rois, pngs)) + "</div>")
    return out


def _motion_section(rep) -> list[str]:
    from .tables import MOTION_COLUMNS

    if not rep.motion:
        return []
    out, rows = [], []
    for m in rep.motion:
        d = m.to_dict()
        rows.append(dict(d, file=str(d["file"]).rsplit("/", 1)[-1],
                         scrubbed_volumes=", ".join(map(str, d["scrubbed_volumes"]))))
    out.append(table("motion", MOTION_COLUMNS, rows))
    for row, png in zip(rows, rep.motion_figures):
        out.append(figure(png, f"Framewise displacement of {row['file']} (dashed: "
                               f"{row['threshold']:g} mm; dots: volumes to scrub)",
                          f"FD {row['file']}"))
    return out


def _physio_section(rep) -> list[str]:
    from .tables import physio_items

    if not rep.physio:
        return []
    out = []
    for i, p in enumerate(rep.physio):
        name = str(p["physio"]).rsplit("/", 1)[-1]
        out.append(f"<h3>{esc(name)}</h3>")
        out.append(key_values(f"physio:{i}", physio_items(p)))
    return out


def _summary_section(rep) -> list[str]:
    """The key results at a glance: each SVC's peak, each crossover ROI."""
    if not rep.svc:
        return []
    rows = []
    for entry in rep.svc:
        peak = entry.summary["peak"]
        x, y, z = peak["xyz_mm"]
        level = entry.result.levels
        rows.append({"contrast": entry.contrast.name, "roi": entry.roi.name,
                     "stat_type": entry.result.stat_type, "value": peak["value"],
                     "z": peak["z"], "p_fwe": peak["p_fwe"], "q_fdr": peak["q_fdr"],
                     "x_mm": x, "y_mm": y, "z_mm": z,
                     "n_clusters": None if level is None else level.n_clusters})
    columns = (("contrast", "contrast", "text"), ("roi", "ROI", "text"),
               ("stat_type", "stat", "text"), ("value", "peak", "num"), ("z", "Z", "num"),
               ("p_fwe", "p(FWE)", "p"), ("q_fdr", "q(FDR)", "p"), ("x_mm", "x", "mm"),
               ("y_mm", "y", "mm"), ("z_mm", "z", "mm"), ("n_clusters", "clusters", "int"))
    return ['<p class="foot">The strongest voxel of each ROI in each contrast, small-volume '
            "corrected (details below).</p>", table("svc-summary", columns, rows)]


def _rois_section(rep) -> str:
    rows = [{"name": r.name, "origin": r.origin,
             "file": "" if r.path is None else rep.roi_source(r.path).rsplit("/", 1)[-1],
             "label": r.label} for r in rep.inputs.rois]
    if not rows:
        return ""
    return table("rois", (("name", "ROI", "text"), ("origin", "origin", "text"),
                          ("file", "file", "text"), ("label", "label", "int")), rows)


def render_report(rep) -> str:
    """The whole page of a :class:`~.build.StudyReport`."""
    source = rep.inputs.source
    title = f"Study report: {rep.label or source.name}"
    methods = [f"<p>{esc(p)}</p>" for p in rep.methods()] + [_rois_section(rep)]
    # (key, name in the contents, heading, parts): a section without parts is left out
    parts = [
        ("summary", "Summary", "Summary", _summary_section(rep)),
        ("methods", "Methods", "Methods", [p for p in methods if p]),
        ("qc", "Coverage and dropout QC", "Coverage and dropout QC", _qc_section(rep)),
        ("svc", "Small-volume correction", "Small-volume correction", _svc_section(rep)),
        ("crossover", "Crossover", "Crossover: drug vs placebo", _crossover_section(rep)),
        ("motion", "Motion", "Motion", _motion_section(rep)),
        ("physio", "Physiology", "Physiology", _physio_section(rep)),
    ]
    body = [f"<h1>{esc(title)}</h1>",
            f'<p class="meta">{esc(rep.inputs.mode)}: {esc(rep.source_name)}</p>',
            f'<p class="meta">study folder: {esc(rep.inputs.root or "none")}; made '
            f"{esc(rep.created)}</p>",
            "<nav><ol>" + "".join(f'<li><a href="#{key}">{esc(name)}</a></li>'
                                  for key, name, _, content in parts if content)
            + ('<li><a href="#notes">Notes</a></li>' if rep.notes else "") + "</ol></nav>"]
    body += [section(key, heading, content) for key, _, heading, content in parts if content]
    if rep.notes:
        body.append(section("notes", "Notes", ["<ul>" + "".join(
            f'<li class="note">{esc(n)}</li>' for n in rep.notes) + "</ul>"]))
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"generator\" content=\"napari-milna\"><title>{esc(title)}</title>"
            f"<style>{CSS}</style></head><body><main>" + "\n".join(body)
            + "</main></body></html>\n")


__all__ = ["cell", "fmt_mm", "fmt_num", "fmt_p", "key_values", "render_report", "table"]
