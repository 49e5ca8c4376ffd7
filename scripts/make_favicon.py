"""Draws the app's favicon, lab/assets/favicon.png (committed): a few lines over a blue square, the
mixed model's picture. A file served by the app itself: a Material icon as page_icon made every browser
fetch the favicon from Google's font CDN, and the app must not reach outside the machine.

    .venv/bin/python scripts/make_favicon.py
"""
from pathlib import Path

from PIL import Image, ImageDraw

SIZE = 64
OUT = Path(__file__).resolve().parent.parent / "lab" / "assets" / "favicon.png"


def main() -> None:
    img = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    draw.rounded_rectangle([0, 0, SIZE - 1, SIZE - 1], radius=12, fill="#0072B2")
    for start, end, colour in ((44, 22, "#FFFFFF"), (50, 34, "#E69F00"), (38, 14, "#56B4E9")):
        draw.line([(10, start), (54, end)], fill=colour, width=5)
    draw.line([(10, 47), (54, 25)], fill="#000000", width=3)
    img.save(OUT)


if __name__ == "__main__":
    main()
