"""A folder of documents written by real producers (python-docx, openpyxl, python-pptx,
reportlab, fpdf2, the standard library's e-mail package), one file per format REM ingests, each
holding marker words; used by tests/test_documents.py and bench/ingest.py."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Dict, List

import docx  # python-docx
import fpdf  # fpdf2
import openpyxl
import pptx  # python-pptx
import xlwt  # Excel 97-2003 (.xls)
from odf.opendocument import OpenDocumentSpreadsheet  # odfpy
from odf.table import Table, TableCell, TableRow
from odf.text import P
from reportlab.pdfgen import canvas as reportlab_canvas

# Prose with known words, for the PDF word-split check.
TERMS = [
    "Liquidation preference: the holders of Series A Preferred Stock receive one times the original "
    "purchase price plus declared but unpaid dividends before any distribution to common stockholders. "
    "Anti-dilution protection follows a broad-based weighted average formula.",
    "Governance: the board of directors consists of five members, two elected by the Series A investors, "
    "two by the founders and one independent director approved by both. Protective provisions require "
    "investor consent for new senior securities.",
]


def words(text: str) -> List[str]:
    return [w.lower() for w in re.split(r"[^0-9A-Za-z]+", text) if w]


def broken_share(source: str, extracted: str) -> float:
    """Share of the source's words not found whole in the extracted text (multiset)."""
    have = Counter(words(extracted))
    want = words(source)
    found = 0
    for w in want:
        if have[w] > 0:
            have[w] -= 1
            found += 1
    return 1 - found / len(want)


def make_corpus(root: Path, extra: int = 0) -> Dict[str, Dict[str, Any]]:
    """Write one file per format into ``root``; return marker -> {file, place} (the place the
    marker's chunk must carry in its metadata, and for tables the row). ``extra`` adds that
    many paragraphs, pages, slides and 20-row blocks after the markers (for benchmarks)."""
    expect: Dict[str, Dict[str, Any]] = {}
    prose = [TERMS[i % 2] for i in range(extra)]

    d = docx.Document()
    d.add_heading("Deal overview", level=1)
    d.add_paragraph("The round is led by a growth fund.")
    d.add_heading("Board composition", level=2)
    d.add_paragraph("Marker quokkadocx: the board has five seats.")
    for p in prose:
        d.add_paragraph(p)
    table = d.add_table(rows=3, cols=2)
    for r, (a, b) in enumerate([("Investor", "Shares"), ("Fund One", "1200"), ("Marker wombattable", "800")]):
        table.cell(r, 0).text, table.cell(r, 1).text = a, b
    d.save(root / "memo.docx")
    expect["quokkadocx"] = {"file": "memo.docx", "place": {"headings": ["Deal overview", "Board composition"]}}
    expect["wombattable"] = {"file": "memo.docx", "place": {"table": 1}}

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Summary"
    ws.append(["metric", "value"])
    ws.append(["revenue", 1200])
    model = wb.create_sheet("Model")
    model.append(["company", "note"])
    for i in range(2, 40 + 20 * extra):
        model.append([f"co{i}", "Marker platypussheet" if i == 30 else f"row {i}"])
    wb.save(root / "model.xlsx")
    expect["platypussheet"] = {"file": "model.xlsx", "place": {"sheet": "Model"}, "row": 30}

    legacy = xlwt.Workbook()
    ws = legacy.add_sheet("Legacy")
    ws.write(0, 0, "company")
    ws.write(0, 1, "note")
    ws.write(4, 0, "co5")
    ws.write(4, 1, "Marker quollxls")
    legacy.save(str(root / "legacy.xls"))
    expect["quollxls"] = {"file": "legacy.xls", "place": {"sheet": "Legacy"}, "row": 5}

    ods = OpenDocumentSpreadsheet()
    sheet = Table(name="Open")
    for values in [["company", "note"], ["co2", "row 2"], ["co3", "Marker bandicootods"]]:
        tr = TableRow()
        for v in values:
            cell = TableCell(valuetype="string")
            cell.addElement(P(text=v))
            tr.addElement(cell)
        sheet.addElement(tr)
    ods.spreadsheet.addElement(sheet)
    ods.save(str(root / "open.ods"))
    expect["bandicootods"] = {"file": "open.ods", "place": {"sheet": "Open"}, "row": 3}

    prs = pptx.Presentation()
    for i, body in enumerate(["Company overview", "Marker echidnaslide market size"] + prose):
        s = prs.slides.add_slide(prs.slide_layouts[1])
        s.shapes.title.text = f"Slide title {i + 1}"
        s.placeholders[1].text = body
        s.notes_slide.notes_text_frame.text = "Marker numbatnotes speaker note" if i == 1 else "intro"
    prs.save(root / "deck.pptx")
    expect["echidnaslide"] = {"file": "deck.pptx", "place": {"slide": 2}}
    expect["numbatnotes"] = {"file": "deck.pptx", "place": {"slide": 2}}

    c = reportlab_canvas.Canvas(str(root / "terms_reportlab.pdf"))
    for i, page in enumerate(TERMS + ["Marker bilbyreportlab on the third page."] + prose):
        t = c.beginText(72, 720)
        t.setFont("Helvetica", 11)
        for line in re.findall(r".{1,80}(?:\s|$)", page):
            t.textLine(line.strip())
        c.drawText(t)
        c.showPage()
    c.save()
    expect["bilbyreportlab"] = {"file": "terms_reportlab.pdf", "place": {"page": 3}}

    pdf = fpdf.FPDF()
    pdf.set_font("helvetica", size=11)
    for page in TERMS + ["Marker dingofpdf on the third page."] + prose:
        pdf.add_page()
        pdf.multi_cell(0, 6, page, align="J")
    pdf.output(str(root / "terms_fpdf2.pdf"))
    expect["dingofpdf"] = {"file": "terms_fpdf2.pdf", "place": {"page": 3}}

    with open(root / "prices.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["ticker", "close"])
        w.writerow(["ACME", "12.5"])
        w.writerow(["Marker koalacsv", "7.25"])
        for i in range(20 * extra):
            w.writerow([f"T{i}", str(i)])
    expect["koalacsv"] = {"file": "prices.csv", "place": {}, "row": 3}
    (root / "prices.tsv").write_text("ticker\tclose\nMarker possumtsv\t3\n")
    expect["possumtsv"] = {"file": "prices.tsv", "place": {}, "row": 2}

    (root / "deal.json").write_text(json.dumps({"deal": {"name": "Marker wallabyjson", "stage": "A"}}))
    expect["wallabyjson"] = {"file": "deal.json", "place": {}}
    (root / "config.yaml").write_text("deal:\n  name: Marker emuyaml\n  stage: A\n")
    expect["emuyaml"] = {"file": "config.yaml", "place": {}}

    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "ana@fund.example", "deals@fund.example", "Marker cassowarymail"
    msg.set_content("The pro rata right is agreed.")
    msg.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename="terms.pdf")
    (root / "thread.eml").write_bytes(bytes(msg))
    expect["cassowarymail"] = {"file": "thread.eml", "place": {}}

    (root / "notes.md").write_text("# Pipeline\n\n" + TERMS[0] + "\n\n## Diligence\n\nMarker tuataramd check.\n"
                                   + "".join(f"\n## Term {i}\n\n{p}\n" for i, p in enumerate(prose)))
    expect["tuataramd"] = {"file": "notes.md", "place": {"headings": ["Pipeline", "Diligence"]}}
    (root / "page.html").write_text("<html><body><h1>News</h1><p>Marker kiwihtml story.</p></body></html>")
    expect["kiwihtml"] = {"file": "page.html", "place": {}}
    (root / "plain.txt").write_text("\n\n".join(["Marker kakapotext plain note."] + prose))
    expect["kakapotext"] = {"file": "plain.txt", "place": {}}

    (root / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    return expect
