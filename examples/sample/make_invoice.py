#!/usr/bin/env python3
"""Write examples/sample/invoice.pdf, a one-page invoice from an invented
supplier, for the C example, the demo and the tests.

The PDF is version 1.4, uncompressed, and uses only the standard Helvetica
fonts, so the emulator can read its text. Every text line is one literal
string shown with `Tj`. The emulator takes the supplier name from the first
line and the other fields from these labels:

    Invoice Number: ...    Invoice Date: YYYY-MM-DD    Due Date: YYYY-MM-DD
    Total: 1234.50         Currency: AUD

Each label, colon included, appears on exactly one line. The output is
byte-for-byte reproducible: it has no timestamps.

Usage: make_invoice.py [OUTPUT]   (default: invoice.pdf next to this script)
"""

import sys
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

SUPPLIER = "Bellbird Office Fitouts Pty Ltd"
SUPPLIER_ADDRESS = [
    "Level 2, 48 Tallowwood Street",
    "Parramatta NSW 2150",
    "accounts@bellbird-fitouts.example.com",
    "Phone 02 5550 1738",
]
CUSTOMER = [
    "Quokka Analytics Pty Ltd",
    "Attn: Accounts Payable",
    "9 Banksia Road",
    "Fremantle WA 6160",
]
INVOICE_NUMBER = "BOF-2024-0417"
INVOICE_DATE = "2024-03-14"
DUE_DATE = "2024-04-13"
CURRENCY = "AUD"
GST_RATE = Decimal("0.10")

# Description, quantity, unit price excluding GST.
LINE_ITEMS = [
    ("Height-adjustable desk frame, white", 2, Decimal("289.00")),
    ("Desk top 1600 x 800 mm, oak laminate", 2, Decimal("96.50")),
    ("Ergonomic task chair, mesh back", 2, Decimal("159.00")),
    ("Monitor arm, dual, gas spring", 1, Decimal("36.77")),
]

PAGE_WIDTH = 595  # A4 in points
PAGE_HEIGHT = 842
LEFT = 56
RIGHT = PAGE_WIDTH - 56

# Glyph widths of Helvetica in 1/1000 em for the characters of right-aligned
# amounts, as in Adobe's Helvetica AFM (groff ships a copy as devps/HR).
HELVETICA_WIDTHS = {".": 278, ",": 278, "-": 333, " ": 278}
HELVETICA_DIGIT_WIDTH = 556


def money(value):
    """Format a Decimal amount with two decimals and no separators."""
    return str(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def amount_width(text, size):
    """Return the width in points of `text` set in Helvetica at `size`."""
    units = 0
    for char in text:
        if char.isdigit():
            units += HELVETICA_DIGIT_WIDTH
        elif char in HELVETICA_WIDTHS:
            units += HELVETICA_WIDTHS[char]
        else:
            raise ValueError(f"no Helvetica width for {char!r} in {text!r}")
    return units * size / 1000


def pdf_string(text):
    """Return `text` as a PDF literal string, escaping \\, ( and )."""
    # Raises UnicodeEncodeError on non-ASCII text, which this script does
    # not encode for the fonts' WinAnsiEncoding.
    text.encode("ascii")
    escaped = text.replace("\\", "\\\\").replace("(", "\\(")
    return "(" + escaped.replace(")", "\\)") + ")"


class Page:
    """Content stream of one page: text lines and rules at fixed positions."""

    def __init__(self):
        self.operations = []

    def text(self, x, y, text, font="F1", size=10):
        self.operations.append(
            f"BT /{font} {size} Tf {x:.2f} {y:.2f} Td {pdf_string(text)} Tj ET"
        )

    def text_right(self, right, y, text, font="F1", size=10):
        self.text(right - amount_width(text, size), y, text, font, size)

    def rule(self, y, width=0.6):
        self.operations.append(
            f"{width} w {LEFT} {y:.2f} m {RIGHT} {y:.2f} l S"
        )

    def content(self):
        return "\n".join(self.operations) + "\n"


def draw_invoice():
    """Lay out the invoice. Return the page content stream and the total."""
    page = Page()
    # The supplier name must be the first text line of the document.
    page.text(LEFT, 780, SUPPLIER, font="F2", size=16)
    y = 762
    for line in SUPPLIER_ADDRESS:
        page.text(LEFT, y, line, size=9)
        y -= 12

    page.text(380, 780, "TAX INVOICE", font="F2", size=16)
    page.text(380, 762, f"Invoice Number: {INVOICE_NUMBER}", size=10)
    page.text(380, 748, f"Invoice Date: {INVOICE_DATE}", size=10)
    page.text(380, 734, f"Due Date: {DUE_DATE}", size=10)
    page.text(380, 720, f"Currency: {CURRENCY}", size=10)

    page.rule(700)
    page.text(LEFT, 680, "Bill to", font="F2", size=10)
    y = 666
    for line in CUSTOMER:
        page.text(LEFT, y, line, size=10)
        y -= 13

    columns = {"quantity": 360, "unit": 450, "amount": RIGHT}
    y = 590
    page.text(LEFT, y, "Description", font="F2", size=10)
    page.text(columns["quantity"] - 24, y, "Qty", font="F2", size=10)
    page.text(columns["unit"] - 50, y, "Unit price", font="F2", size=10)
    page.text(columns["amount"] - 40, y, "Amount", font="F2", size=10)
    page.rule(y - 6)

    net = Decimal("0")
    y -= 22
    for description, quantity, unit_price in LINE_ITEMS:
        line_amount = unit_price * quantity
        net += line_amount
        page.text(LEFT, y, description, size=10)
        page.text_right(columns["quantity"], y, str(quantity))
        page.text_right(columns["unit"], y, money(unit_price))
        page.text_right(columns["amount"], y, money(line_amount))
        y -= 18
    page.rule(y + 6)

    gst = (net * GST_RATE).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    total = net + gst
    y -= 14
    # These two labels avoid the word "total" so that only one line
    # carries the `Total:` label.
    page.text(340, y, "Amount excluding GST:", size=10)
    page.text_right(RIGHT, y, money(net))
    y -= 16
    page.text(340, y, "GST 10%:", size=10)
    page.text_right(RIGHT, y, money(gst))
    y -= 20
    page.text(340, y, f"Total: {money(total)}", font="F2", size=12)

    y -= 60
    page.text(LEFT, y, "Payment terms: 30 days from the invoice date.",
              size=9)
    page.text(LEFT, y - 12, "Please pay by bank transfer and quote the "
              "invoice number.", size=9)
    page.text(LEFT, y - 24, "This invoice is a sample document for libsypht "
              "tests; the supplier is invented.", size=9)
    return page.content(), total


def build_pdf(content):
    """Return the bytes of a one-page PDF 1.4 showing `content`."""
    stream = content.encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (
            f"<< /Type /Page /Parent 2 0 R "
            f"/MediaBox [0 0 {PAGE_WIDTH} {PAGE_HEIGHT}] "
            f"/Resources << /Font << /F1 5 0 R /F2 6 0 R >> >> "
            f"/Contents 4 0 R >>"
        ).encode("ascii"),
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"endstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica "
        b"/Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold "
        b"/Encoding /WinAnsiEncoding >>",
        b"<< /Title (Tax invoice " + INVOICE_NUMBER.encode("ascii")
        + b") /Producer (libsypht examples/sample/make_invoice.py) >>",
    ]
    info_number = len(objects)

    # The comment of four bytes above 127 after the header marks the file
    # as binary for tools that guess the type from the first bytes.
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"

    xref_offset = len(out)
    out += b"xref\n0 %d\n" % (len(objects) + 1)
    # Each xref entry is exactly 20 bytes, ending in space and newline.
    out += b"0000000000 65535 f \n"
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += (
        b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\n"
        % (len(objects) + 1, info_number)
    )
    out += b"startxref\n%d\n%%%%EOF\n" % xref_offset
    return bytes(out)


def main(argv):
    if len(argv) == 2 and argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0
    if len(argv) > 2:
        print("usage: make_invoice.py [OUTPUT]", file=sys.stderr)
        return 2

    default = Path(__file__).resolve().parent / "invoice.pdf"
    output = Path(argv[1]) if len(argv) == 2 else default
    content, total = draw_invoice()
    output.write_bytes(build_pdf(content))
    print(f"wrote {output} (invoice {INVOICE_NUMBER}, "
          f"total {money(total)} {CURRENCY})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
