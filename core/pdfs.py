"""PDF evidence is checked by parsing it, never by searching its bytes.

A byte search misses names written with #-escapes (`/J#61vaScript` is `/JavaScript`) and
anything inside a compressed object stream. qpdf (through pikepdf) decodes both, and the check
walks every object the file holds, referenced or not, so nothing active hides anywhere.

A PDF is accepted when it only shows pages: links may go to a web page (http, https, mailto)
or to a place in the document, and nothing else acts; the document may open at a page of its
own (/OpenAction as a destination or a plain /GoTo). Refused: JavaScript, any other action that
runs by itself (/AA, an /OpenAction that opens a web page or does anything but show a page),
any other kind of action (Launch, SubmitForm, ImportData, GoToR, GoToE, Hide, Named...),
embedded files, XFA forms, multimedia annotations, files that need a password to open, and
files qpdf cannot read.

The parse runs in a child process limited in memory and time. qpdf holds every parsed token
as an object: measured here, a 10 MB PDF of small numbers took 740 MB and 2.5 s, and a 389 KB
file whose object stream inflates to 200 MB took 1.1 GB and 6 s. No object count bounds that;
the limits of the child do, and a crash of C++ code on a hostile file ends the child only.
"""

import io
import logging
import os
import resource
import subprocess
import sys
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit

import pikepdf
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

# Receipts, statements and exported chats have hundreds of objects, long reports a few
# thousand. Each object costs about 100 microseconds to resolve and walk (measured: 20,000
# objects, each a link, in 2 s), so the upload waits seconds at most; a file with more is
# refused from its cross-reference table, before any object is read.
MAX_OBJECTS = 20_000
# The child starts at about 45 MB of address space; that 20,000-object file peaks at 136 MB.
CHILD_MEMORY_BYTES = 512 * 1024 * 1024
# Five times what the largest genuine file above needs, for a busy machine.
CHILD_SECONDS = 10

# Actions a viewer runs only when the reader clicks, and which stay in the document or open a
# web page the viewer shows first. Every other action type is refused.
ALLOWED_ACTIONS = frozenset({"/URI", "/GoTo"})
LINK_SCHEMES = frozenset({"http", "https", "mailto"})
# Every action type of PDF 2.0 (ISO 32000-2, table 201) and RichMediaExecute: a dictionary with
# one of these as /S is an action wherever it sits, even in an object nothing refers to.
ACTION_TYPES = frozenset(
    {
        "/GoTo", "/GoToR", "/GoToE", "/GoToDp", "/Launch", "/Thread", "/URI", "/Sound", "/Movie", "/Hide",
        "/Named", "/SubmitForm", "/ResetForm", "/ImportData", "/SetOCGState", "/Rendition", "/Trans",
        "/GoTo3DView", "/JavaScript", "/RichMediaExecute",
    }
)  # fmt: skip
# Keys whose mere presence makes a document active: additional (automatic) actions,
# JavaScript (an action's /JS or the document's /Names /JavaScript tree), embedded files
# (the /EmbeddedFiles name tree, a file specification's /EF), XFA forms.
ACTIVE_KEYS = frozenset({"/AA", "/JS", "/JavaScript", "/EmbeddedFiles", "/EF", "/XFA"})
# Annotations that carry a file or play media (Flash, 3D models with their own scripts, sound).
ACTIVE_SUBTYPES = frozenset({"/FileAttachment", "/RichMedia", "/3D", "/Movie", "/Sound", "/Screen"})


class Verdict(StrEnum):
    ACCEPTED = "accepted"
    ACTIVE = "active"
    DAMAGED = "damaged"
    PASSWORD = "password"
    TOO_COMPLEX = "too_complex"


def check_pdf(data: bytes) -> None:
    """Raise ValidationError (code active_pdf or invalid_pdf) unless the PDF only shows pages."""
    verdict = pdf_verdict(data)
    if verdict == Verdict.ACTIVE:
        raise ValidationError(
            _(
                "В PDF есть скрипты, автоматические действия, вложенные файлы или формы XFA. Сохраните его заново "
                "как обычный PDF, например через «Печать → Сохранить как PDF»."
            ),
            code="active_pdf",
        )
    if verdict == Verdict.PASSWORD:
        raise ValidationError(
            _("PDF-файл защищён паролем. Сохраните его без пароля и загрузите снова."), code="invalid_pdf"
        )
    if verdict == Verdict.TOO_COMPLEX:
        raise ValidationError(
            _("PDF-файл слишком сложный для проверки. Сохраните его заново через «Печать → Сохранить как PDF»."),
            code="invalid_pdf",
        )
    if verdict == Verdict.DAMAGED:
        raise ValidationError(_("PDF-файл повреждён или обрезан."), code="invalid_pdf")


def pdf_verdict(data: bytes) -> Verdict:
    """scan_pdf in a child process limited to CHILD_MEMORY_BYTES and CHILD_SECONDS."""
    try:
        child = subprocess.run(  # our own interpreter running this file, no shell
            # -I: no environment variables, user site or current directory decide what is imported.
            [sys.executable, "-I", str(Path(__file__).resolve())],
            input=data,
            capture_output=True,
            timeout=CHILD_SECONDS,
            # A parser of hostile input gets no secrets from the settings' environment; only the
            # switch of a coverage run (the test suite's, CI's) passes, so the child is measured.
            env={name: value for name, value in os.environ.items() if name == "COVERAGE_PROCESS_CONFIG"},
            check=False,
        )
    except subprocess.TimeoutExpired:
        return Verdict.TOO_COMPLEX
    except OSError:  # no interpreter to start: every PDF would be refused, so say so loudly
        logger.exception("PDF check child could not start")
        return Verdict.TOO_COMPLEX
    answer = child.stdout.decode("ascii", "replace").strip()
    if child.returncode == 0 and answer in Verdict:
        return Verdict(answer)
    # Stopped by the memory limit (qpdf aborts), or broken by a bug in the check: logged, as the
    # latter would refuse every PDF.
    logger.warning(
        "PDF check child ended with %s: %s", child.returncode, child.stderr.decode("utf-8", "replace")[-500:]
    )
    return Verdict.TOO_COMPLEX


def scan_pdf(data: bytes) -> Verdict:
    """Parse the PDF in this process and judge every object in it. Unbounded: see pdf_verdict."""
    try:
        # No password: a file that needs one to open is refused; one restricted only by an owner
        # password opens in every viewer without asking, and qpdf reads it decrypted.
        pdf = pikepdf.open(io.BytesIO(data), conversion_mode="explicit")
    except pikepdf.PasswordError:
        return Verdict.PASSWORD
    except MemoryError:
        return Verdict.TOO_COMPLEX
    except pikepdf.PdfError:
        return Verdict.DAMAGED
    with pdf:
        try:
            # Counted from the cross-reference table, before any object is resolved.
            stored = sum(1 for entry in pdf.get_xref_table().values() if entry.type in (1, 2))
            if stored > MAX_OBJECTS:
                return Verdict.TOO_COMPLEX
            # pdf.objects is every object in the file, those inside object streams too.
            roots = [pdf.trailer, *pdf.objects]
            if len(roots) > MAX_OBJECTS + 1:
                return Verdict.TOO_COMPLEX
            return Verdict.ACTIVE if any(_holds_active(root) for root in roots) else Verdict.ACCEPTED
        except MemoryError:
            return Verdict.TOO_COMPLEX
        except pikepdf.PdfError:  # an object that fails to parse
            return Verdict.DAMAGED


def _holds_active(root: pikepdf.Object) -> bool:
    """Whether an object, or anything written inside it, is active. References are not followed:
    the object they point to is a root of its own."""
    pending = [root]
    while pending:
        node = pending.pop()
        if isinstance(node, pikepdf.Array):
            children = list(node)
        elif isinstance(node, pikepdf.Dictionary | pikepdf.Stream):
            if _is_active(node):
                return True
            children = [value for _key, value in node.items()]
        else:
            continue
        # Null comes back as None, and numbers or names hold nothing to look into.
        pending.extend(
            child
            for child in children
            if isinstance(child, pikepdf.Array | pikepdf.Dictionary) and not child.is_indirect
        )
    return False


def _is_active(node: pikepdf.Object) -> bool:
    keys = node.keys()  # looked up first: most dictionaries have none of the keys below
    if keys & ACTIVE_KEYS or ("/Subtype" in keys and _name(node.get("/Subtype")) in ACTIVE_SUBTYPES):
        return True
    if "/OpenAction" in keys and _open_action_refused(node.get("/OpenAction")):
        return True
    is_action = ("/S" in keys and _name(node.get("/S")) in ACTION_TYPES) or (
        "/Type" in keys and _name(node.get("/Type")) == "/Action"
    )
    if is_action and _action_refused(node):
        return True
    # What a link, a bookmark or a form field does on a click, including kinds no table lists.
    for key in keys & {"/A", "/Next"}:
        value = node.get(key)
        actions = list(value) if isinstance(value, pikepdf.Array) else [value]
        if any(isinstance(action, pikepdf.Dictionary) and _action_refused(action) for action in actions):
            return True
    return False


def _action_refused(action: pikepdf.Object) -> bool:
    kind = _name(action.get("/S"))
    if kind not in ALLOWED_ACTIONS:
        return True
    if kind == "/URI":
        # A javascript: or file: address is an action dressed as a link.
        uri = action.get("/URI")
        if not isinstance(uri, pikepdf.String):
            return True
        return urlsplit(str(uri).strip()).scheme.lower() not in LINK_SCHEMES
    return False


def _open_action_refused(value: pikepdf.Object | None) -> bool:
    """What the viewer does by itself as the document opens: showing a page is allowed, written as
    a destination (an array: LibreOffice) or as a /GoTo action (Word, Acrobat). Anything else runs
    unasked, a web link included, and so does every action chained after it with /Next."""
    if isinstance(value, pikepdf.Array):
        return False
    pending, seen = [value], 0
    while pending:
        action = pending.pop()
        seen += 1
        # A chain longer than any writer makes, or one that loops back on itself through /Next.
        if seen > 32 or not isinstance(action, pikepdf.Dictionary) or _name(action.get("/S")) != "/GoTo":
            return True
        chained = action.get("/Next")
        if chained is not None:
            pending.extend(chained if isinstance(chained, pikepdf.Array) else [chained])
    return False


def _name(value: pikepdf.Object | None) -> str | None:
    return str(value) if isinstance(value, pikepdf.Name) else None


def _child_main() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY_BYTES, CHILD_MEMORY_BYTES))
    # qpdf aborts when memory runs out; no core file of it lands in the working directory.
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    # The parent's timeout ends the child; this also ends it should the parent die first.
    resource.setrlimit(resource.RLIMIT_CPU, (CHILD_SECONDS + 1, CHILD_SECONDS + 1))
    data = sys.stdin.buffer.read()
    sys.stdout.write(scan_pdf(data).value)


if __name__ == "__main__":
    _child_main()
