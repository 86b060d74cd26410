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


PYTHON_DIRS = ("accounts", "auth_app", "balance", "outbox", "transfers", "config", "corebanking_mock")
GETTEXT_KEYWORDS = {"_": None, "gettext": None, "gettext_lazy": None}


def _python_msgids() -> set[str]:
    from babel.messages.extract import extract_from_dir

    ids: set[str] = set()
    for folder in PYTHON_DIRS:
        for _filename, _lineno, message, _comments, _context in extract_from_dir(
                ROOT / folder, method_map=[("**.py", "python")], keywords=GETTEXT_KEYWORDS):
            if isinstance(message, str) and message:
                ids.add(message)
    return ids


def _catalog(language: str) -> dict[str, str]:
    with (ROOT / f"locale/{language}/LC_MESSAGES/django.po").open("rb") as po:
        return {message.id: message.string for message in read_po(po) if message.id}


def test_every_english_text_in_the_python_code_has_a_japanese_translation():
    # given the English msgids of models, fields, admin filters and actions (the staff admin's words)
    english = {text for text in _python_msgids() if not JAPANESE.search(text)}
    assert "outbox messages" in english and "account balances" in english
    # then locale/ja translates each one
    ja = _catalog("ja")
    missing = sorted(text for text in english if not ja.get(text))
    assert not missing, missing


def test_every_japanese_text_in_the_python_code_has_an_english_translation():
    japanese = {text for text in _python_msgids() if JAPANESE.search(text)}
    assert "サンプル銀行 スタッフ管理画面" in japanese
    en = _catalog("en")
    missing = sorted(text for text in japanese if not en.get(text))
    assert not missing, missing


def test_every_english_text_of_the_admin_templates_has_a_japanese_translation():
    # given the staff pages' own templates, whose texts are written in English
    admin_templates = [path for folder in (ROOT / "templates" / "admin", *ROOT.glob("*/templates/admin"))
                       for path in folder.rglob("*.html")]
    texts = {text for template in admin_templates for text in TRANSLATE.findall(template.read_text(encoding="utf-8"))
             if not JAPANESE.search(text)}
    texts.discard("Home")  # Django's own admin catalog translates it
    assert "Outbox status" in texts
    # then locale/ja translates each one
    ja = _catalog("ja")
    missing = sorted(text for text in texts if not ja.get(text))
    assert not missing, missing
