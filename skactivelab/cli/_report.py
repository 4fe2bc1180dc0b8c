"""``--report FILE.html``: one self-contained page about a round, for a team lead.

The annotators (estimated accuracy with its interval, as a table and a dot plot), how
confident the consensus is (a histogram), and the batch (re-labels and first labels, each
pick). The plots are inline SVG drawn here: no plotting library, no script, no network
resource, so the page opens the same in any browser and in an e-mail attachment.
"""

from __future__ import annotations

import html
from datetime import datetime, timezone

import numpy as np

__all__ = ["round_report"]

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
margin:2em auto;max-width:980px;color:#222;padding:0 1em}
h1{font-size:1.5em;margin-bottom:.2em}h2{font-size:1.15em;margin-top:1.6em;
border-bottom:1px solid #ccc;padding-bottom:.2em}
table{border-collapse:collapse;font-size:.9em;margin:.5em 0}
th,td{padding:.25em .6em;border-bottom:1px solid #e4e4e4;text-align:left}
th{background:#f4f4f4}td.num{text-align:right;font-variant-numeric:tabular-nums}
.note{color:#555;font-size:.88em;max-width:52em}.facts span{margin-right:1.5em}
svg text{font-family:inherit;font-size:11px;fill:#333}
"""

_BLUE, _ORANGE, _GREY = "#3b6fb6", "#e08a2c", "#9aa3ad"


def _e(x):
    return html.escape(str(x), quote=True)


def _pct(x):
    return "" if x is None or not np.isfinite(x) else f"{100 * float(x):.0f}%"


def _table(header, rows, numeric=(), row_class=None):
    """An HTML table; ``numeric`` holds the positions of right-aligned columns."""
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = []
    for r in rows:
        cells = "".join(f'<td class="num">{_e(c)}</td>' if k in numeric else f"<td>{_e(c)}</td>"
                        for k, c in enumerate(r))
        cls = f' class="{row_class}"' if row_class else ""
        body.append(f"<tr{cls}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _accuracy_plot(annotators, order):
    """A dot per annotator at its estimated accuracy, a line over its 95% interval."""
    n = len(order)
    left, width, row = 170, 560, 18
    height = 34 + row * n
    x = (lambda v: left + width * float(v))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="plot" '
             f'id="accuracy-plot" width="{left + width + 30}" height="{height}" '
             f'aria-label="estimated accuracy of each annotator">',
             f'<rect x="0" y="0" width="{left + width + 30}" height="{height}" fill="#fff"/>']
    for t in np.linspace(0, 1, 6):
        parts.append(f'<line x1="{x(t):.1f}" y1="10" x2="{x(t):.1f}" y2="{height - 20}" '
                     'stroke="#e2e2e2"/>')
        parts.append(f'<text x="{x(t):.1f}" y="{height - 6}" text-anchor="middle">'
                     f'{100 * t:.0f}%</text>')
    for k, j in enumerate(order):
        y = 20 + row * k
        name = str(annotators.ids[j])
        parts.append(f'<text x="{left - 8}" y="{y + 4}" text-anchor="end">'
                     f'{_e(name if len(name) <= 26 else name[:25] + "…")}</text>')
        lo, hi, a = annotators.low[j], annotators.high[j], annotators.accuracy[j]
        parts.append(f'<line x1="{x(lo):.1f}" y1="{y}" x2="{x(hi):.1f}" y2="{y}" '
                     f'stroke="{_GREY}" stroke-width="3"/>')
        parts.append(f'<circle cx="{x(a):.1f}" cy="{y}" r="5" fill="{_BLUE}"/>')
    parts.append("</svg>")
    return "".join(parts)


def _histogram(values, bins=10):
    """Bars of the consensus confidence in ``bins`` equal bins over [0, 1]."""
    counts = np.histogram(np.clip(values, 0, 1), bins=bins, range=(0, 1))[0]
    left, width, height, top = 40, 600, 180, 12
    bar = width / bins
    peak = max(int(counts.max()), 1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="plot" '
             f'id="confidence-histogram" width="{left + width + 20}" height="{height + 40}" '
             'aria-label="histogram of the consensus confidence">',
             f'<rect x="0" y="0" width="{left + width + 20}" height="{height + 40}" '
             'fill="#fff"/>']
    for k, c in enumerate(counts.tolist()):
        h = (height - top) * c / peak
        colour = _ORANGE if k < bins // 2 else _BLUE
        parts.append(f'<rect x="{left + k * bar + 1:.1f}" y="{height - h:.1f}" '
                     f'width="{bar - 2:.1f}" height="{h:.1f}" fill="{colour}">'
                     f'<title>{100 * k / bins:.0f}-{100 * (k + 1) / bins:.0f}%: {c}</title></rect>')
        if c:
            parts.append(f'<text x="{left + (k + .5) * bar:.1f}" y="{height - h - 3:.1f}" '
                         f'text-anchor="middle">{c}</text>')
    for k in range(bins + 1):
        parts.append(f'<text x="{left + k * bar:.1f}" y="{height + 16}" '
                     f'text-anchor="middle">{100 * k / bins:.0f}%</text>')
    parts.append(f'<line x1="{left}" y1="{height}" x2="{left + width}" y2="{height}" '
                 'stroke="#555"/>')
    parts.append(f'<text x="{left + width / 2}" y="{height + 34}" text-anchor="middle">'
                 'probability that the consensus label is right</text></svg>')
    return "".join(parts)


def _annotator_section(annotators):
    if annotators is None or not len(annotators.ids):
        return ("<h2>Annotators</h2><p>No labels yet: the annotators appear once the first "
                "labels are in.</p>")
    order = [int(j) for j in annotators.order() if annotators.n_labels[j] > 0]
    rows = [[annotators.ids[j], _pct(annotators.accuracy[j]),
             f"{_pct(annotators.low[j])} – {_pct(annotators.high[j])}",
             int(annotators.n_labels[j]), annotators.worst[j] or "-"] for j in order]
    return (
        "<h2>Annotators</h2>"
        '<p class="note"><b>Estimated accuracy</b>: the probability that this annotator\'s '
        "label is right: for each of their labels, the probability that it is the example's "
        "true class (from the consensus of the example: every label and the model), "
        "averaged. The interval (95%) says how "
        "much their number of labels can tell: few labels, wide interval. Least accurate "
        "first.</p>"
        + _accuracy_plot(annotators, order)
        + '<div id="annotator-table">'
        + _table(["annotator", "estimated accuracy", "95% interval", "labels",
                  "weakest class"], rows, numeric=(1, 2, 3),
                 row_class="annotator-row")
        + "</div>")


def _consensus_section(consensus):
    if consensus is None or not len(consensus.ids):
        return "<h2>Consensus</h2><p>No labeled example yet.</p>"
    q = np.asarray(consensus.confidence, dtype=float)
    return (
        "<h2>Consensus</h2>"
        f'<p class="facts"><span>{len(q)} labeled examples</span><span>about '
        f"{_pct(np.mean(q))} of consensus labels expected right</span><span>"
        f"{int((q < 0.5).sum())} below 50%</span></p>"
        '<p class="note">Each labeled example\'s consensus label (CROWDLAB: the labels and '
        "the model together) and the estimated probability that it is right (the crowd "
        "model of the annotators' accuracy). Orange bars are the unsure ones (below 50%): "
        "re-labels go there first.</p>" + _histogram(q))


def _batch_section(batch, pending, consensus):
    picks = batch.picks()
    conf = {} if consensus is None else dict(zip(consensus.ids, consensus.confidence.tolist()))
    n_re = sum(p["reason"] == "relabel" for p in picks)
    rows = [[p["rank"], p["example_id"], "re-label" if p["reason"] == "relabel" else
             "first label", f"{p['score']:.4f}", ", ".join(p["labeled_by"]) or "-",
             p.get("consensus_label", "") or "-", _pct(conf.get(p["example_id"])),
             p.get("suggested_annotator") or "-"] for p in picks]
    header = ["rank", "example", "why", "score", "labeled by", "consensus", "confidence",
              "suggested annotator"]
    held = (f"<span>{len(pending)} pending (handed out earlier, not answered yet; left "
            "out)</span>") if len(pending) else ""
    share = batch.share_summary()
    return (
        "<h2>Next batch</h2>"
        f'<p class="facts"><span>{len(picks)} examples</span><span>{n_re} re-labels</span>'
        f"<span>{len(picks) - n_re} first labels</span>{held}</p>"
        + (f'<p class="note">{_e(share)}</p>' if share else "")
        + '<p class="note">Lowest ActiveLab scores first: the examples whose next label is '
        "expected to help most.</p>"
        + '<div id="batch-table">' + _table(header, rows, numeric=(0, 3, 6),
                                             row_class="batch-row") + "</div>")


def round_report(results, *, title):
    """The HTML page (text) of a round from :class:`~skactivelab.cli._score.ScoreResults`."""
    ann = results.ann
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    facts = (f"<span>{results.n_labeled} labeled examples</span><span>{results.n_pool} "
             f"unlabeled</span><span>{ann.n_annotators} annotators</span><span>"
             f"{ann.n_labels} labels</span><span>{len(results.classes)} classes</span>")
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{_e(title)}</h1><p class=\"note\">Written {when} by skactivelab.</p>"
        f'<p class="facts">{facts}</p>'
        + _annotator_section(results.annotators)
        + _consensus_section(results.consensus)
        + _batch_section(results.batch, results.pending, results.consensus)
        + "</body></html>\n")
