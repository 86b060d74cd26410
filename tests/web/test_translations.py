"""Every Japanese text of the web templates has an English translation in locale/en (the .po is committed)."""
import re
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
TRANSLATE = re.compile(r"""{%\s*translate\s+["']([^"']+)["']""")
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
MAIL_DIRS = ("templates/accounts/mail", "templates/transfers/mail")  # mail templates carry both languages


def test_every_japanese_template_text_has_an_english_translation():
    with (ROOT / "locale/en/LC_MESSAGES/django.po").open("rb") as po:
        translated = {message.id: message.string for message in read_po(po) if message.id}
    texts = set()
    template_dirs = [ROOT / "templates", *ROOT.glob("*/templates")]  # the project's and every app's
    for template in (path for folder in template_dirs for path in folder.rglob("*.html")):
        if not str(template.relative_to(ROOT)).startswith(MAIL_DIRS):
            texts |= {text for text in TRANSLATE.findall(template.read_text(encoding="utf-8")) if JAPANESE.search(text)}
    assert texts
    missing = sorted(text for text in texts if not translated.get(text))
    assert not missing, missing
