"""PDF evidence is parsed, not searched: a PDF that only shows pages (links to web pages or to its
own pages included) is kept as sent; anything that acts, carries a file or hides from a byte
search is refused with a reason next to the field, and nothing of it is stored."""

import io
import re

import pikepdf
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pikepdf import Array, Dictionary, Name, String

from core import pdfs
from core.pdfs import MAX_OBJECTS, Verdict, check_pdf, pdf_verdict
from disputes.models import Attachment

from .disputes_helpers import open_dispute, png_file, raw_pdf, stored_files
from .test_upload_lifecycle import assert_disk_matches_rows

# What the old byte search looked for: the escaped and compressed cases below contain none of it.
OLD_MARKERS = (b"/JavaScript", b"/JS", b"/Launch", b"/EmbeddedFile", b"/OpenAction")
LINK = b"/Annots [<< /Type /Annot /Subtype /Link /Rect [0 0 100 100] /A %s >>]"


def save(pdf: pikepdf.Pdf, **options) -> bytes:
    buffer = io.BytesIO()
    pdf.save(buffer, **options)
    return buffer.getvalue()


def one_page(*, link: Dictionary | None = None) -> pikepdf.Pdf:
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(595, 842))
    if link is not None:
        annotation = Dictionary(Type=Name.Annot, Subtype=Name.Link, Rect=Array([0, 0, 100, 100]), A=link)
        pdf.pages[0].obj.Annots = pdf.make_indirect(Array([pdf.make_indirect(annotation)]))
    return pdf


def uri(address: str) -> Dictionary:
    return Dictionary(S=Name.URI, URI=String(address))


def javascript() -> Dictionary:
    return Dictionary(S=Name.JavaScript, JS=String("app.alert(document.cookie)"))


def plain_pdf_with_link() -> bytes:
    return save(one_page(link=uri("https://aliexpress.ru/order/1")))


def openaction_javascript() -> bytes:
    pdf = one_page()
    pdf.Root.OpenAction = javascript()
    return save(pdf)


def page_additional_action() -> bytes:
    # Even an action of an allowed type is refused when it runs by itself as the page opens.
    pdf = one_page()
    pdf.pages[0].obj.AA = Dictionary(O=uri("https://tracker.example/opened"))
    return save(pdf)


def javascript_in_object_stream() -> bytes:
    pdf = one_page(link=Dictionary())
    annotation = pdf.pages[0].obj.Annots[0]
    annotation.A = pdf.make_indirect(javascript())
    return save(pdf, object_stream_mode=pikepdf.ObjectStreamMode.generate)


def embedded_file() -> bytes:
    pdf = one_page()
    pdf.attachments["invoice.exe"] = pikepdf.AttachedFileSpec(
        pdf,
        b"MZ\x90\x00",
        description="Счёт",
        filename="invoice.exe",
        mime_type="application/x-msdownload",
        creation_date="",
        mod_date="",
    )
    return save(pdf)


def xfa_form() -> bytes:
    pdf = one_page()
    xfa = pdf.make_stream(b'<xdp:xdp xmlns:xdp="http://ns.adobe.com/xdp/"/>')
    pdf.Root.AcroForm = Dictionary(Fields=Array(), XFA=xfa)
    return save(pdf)


def encrypted(*, user: str) -> bytes:
    return save(one_page(), encryption=pikepdf.Encryption(user=user, owner="owner-secret"))


def test_a_plain_pdf_with_a_web_link_is_accepted():
    check_pdf(plain_pdf_with_link())  # raises nothing
    assert pdf_verdict(plain_pdf_with_link()) == Verdict.ACCEPTED


@pytest.mark.parametrize(
    "data",
    [
        plain_pdf_with_link(),
        save(one_page(link=Dictionary(S=Name.GoTo, D=Array([0, Name.Fit])))),
        save(one_page(link=uri("mailto:shop@example.com")), object_stream_mode=pikepdf.ObjectStreamMode.generate),
        # LibreOffice writes /OpenAction as a page to open at, not as an action.
        raw_pdf(catalog=b"/OpenAction [3 0 R /XYZ null null 0]"),
        # Restricted by an owner password only: every viewer opens it without asking.
        encrypted(user=""),
    ],
    ids=["web-link", "link-to-a-page", "mail-link-in-object-stream", "open-at-page", "owner-password-only"],
)
def test_pdfs_that_only_show_pages_are_accepted(data):
    assert pdf_verdict(data) == Verdict.ACCEPTED


def open_at(action: Dictionary) -> bytes:
    pdf = one_page()
    pdf.Root.OpenAction = action
    return save(pdf)


def goto_first_page(**chained) -> Dictionary:
    return Dictionary(S=Name.GoTo, D=Array([0, Name.Fit]), **chained)


@pytest.mark.parametrize(
    "data",
    [
        # Word and Acrobat write "open at page 1, whole page" as a /GoTo action.
        open_at(goto_first_page()),
        raw_pdf(catalog=b"/OpenAction 4 0 R", extra=(b"<< /Type /Action /S /GoTo /D [3 0 R /XYZ null null 0] >>",)),
        raw_pdf(catalog=b"/OpenAction << /S /GoTo /D (chapter-1) /Next << /S /GoTo /D [3 0 R /Fit] >> >>"),
    ],
    ids=["goto-page", "goto-page-indirect", "goto-named-destination-then-goto"],
)
def test_a_pdf_that_opens_at_one_of_its_own_pages_is_accepted(data):
    check_pdf(data)  # raises nothing
    assert pdf_verdict(data) == Verdict.ACCEPTED


@pytest.mark.parametrize(
    "action",
    [
        Dictionary(S=Name.URI, URI=String("https://tracker.example/opened")),
        Dictionary(S=Name.Launch, F=String("calc.exe")),
        Dictionary(S=Name.GoToR, F=String("other.pdf"), D=Array([0, Name.Fit])),
        Dictionary(S=Name.GoToE, D=Array([0, Name.Fit]), T=Dictionary(R=Name.C, N=String("a.pdf"))),
        Dictionary(S=Name.SubmitForm, F=String("https://a.example/collect")),
        Dictionary(S=Name.ImportData, F=String("data.fdf")),
        Dictionary(S=Name.Named, N=Name.Print),
        goto_first_page(Next=Dictionary(S=Name.URI, URI=String("https://tracker.example/opened"))),
        goto_first_page(Next=Array([goto_first_page(), javascript()])),
    ],
    ids=[
        "web-page", "launch", "goto-remote", "goto-embedded", "submit-form", "import-data", "print",
        "goto-then-web-page", "goto-then-javascript",
    ],
)  # fmt: skip
def test_a_pdf_that_does_anything_else_as_it_opens_is_refused(action):
    with pytest.raises(ValidationError, match="скрипты, автоматические действия") as refused:
        check_pdf(open_at(action))
    assert refused.value.code == "active_pdf"


@pytest.mark.parametrize(
    "data",
    [
        openaction_javascript(),
        raw_pdf(page=LINK % b"<< /S /J#61vaScript /J#53 (app.alert(1)) >>"),
        raw_pdf(page=LINK % b"<< /S /L#61unch /F (C:\\\\Windows\\\\System32\\\\calc.exe) >>"),
        raw_pdf(catalog=b"/Names << /J#61vaScript << /Names [(x) << /S /URI /URI (https://a.example) >>] >> >>"),
        page_additional_action(),
        raw_pdf(catalog=b"/AA << /WC << /S /URI /URI (https://a.example) >> >>"),
        javascript_in_object_stream(),
        raw_pdf(extra=(b"<< /S /JavaScript /JS (app.alert(1)) >>",)),  # nothing refers to it
        raw_pdf(page=LINK % b"<< /S /GoTo /D [3 0 R /Fit] /Next << /S /SubmitForm /F (https://a.example) >> >>"),
        raw_pdf(page=LINK % b"<< /S /URI /URI (javascript:app.alert(1)) >>"),
        raw_pdf(page=LINK % b"<< /S /URI /URI (file:///etc/passwd) >>"),
        raw_pdf(page=LINK % b"<< /S /Named /N /Print >>"),
        raw_pdf(page=LINK % b"<< /S /VendorAction >>"),
        embedded_file(),
        raw_pdf(page=b"/Annots [<< /Type /Annot /Subtype /FileAttachment /Rect [0 0 9 9] /FS (a.exe) >>]"),
        xfa_form(),
    ],
    ids=[
        "openaction-javascript",
        "escaped-javascript-link",
        "escaped-launch-link",
        "escaped-document-javascript-tree",
        "page-additional-action",
        "document-additional-action",
        "javascript-in-object-stream",
        "javascript-nothing-refers-to",
        "submit-form-chained-after-goto",
        "javascript-address",
        "file-address",
        "named-action",
        "unknown-action",
        "embedded-file",
        "file-attachment-annotation",
        "xfa-form",
    ],
)
def test_pdfs_that_act_or_carry_files_are_refused(data):
    with pytest.raises(ValidationError, match="скрипты, автоматические действия, вложенные файлы") as refused:
        check_pdf(data)
    assert refused.value.code == "active_pdf"


def test_escaped_names_and_object_streams_hide_from_a_byte_search():
    hidden = [
        raw_pdf(page=LINK % b"<< /S /J#61vaScript /J#53 (app.alert(1)) >>"),
        raw_pdf(page=LINK % b"<< /S /L#61unch /F (calc.exe) >>"),
        javascript_in_object_stream(),
    ]
    for data in hidden:
        assert not any(marker in data for marker in OLD_MARKERS)
        assert pdf_verdict(data) == Verdict.ACTIVE


def test_a_pdf_that_needs_a_password_is_refused():
    with pytest.raises(ValidationError, match="защищён паролем") as refused:
        check_pdf(encrypted(user="buyer-secret"))
    assert refused.value.code == "invalid_pdf"


@pytest.mark.parametrize(
    "data",
    [b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\n%%EOF\n", b"%PDF-1.4\n%%EOF\n"],
    ids=["garbage", "nothing-but-header"],
)
def test_garbage_after_the_pdf_header_is_refused_as_damaged(data):
    with pytest.raises(ValidationError, match="повреждён") as refused:
        check_pdf(data)
    assert refused.value.code == "invalid_pdf"


def test_a_pdf_with_more_objects_than_the_limit_is_refused_before_they_are_read():
    pdf = one_page()
    pdf.Root.Filler = Array([pdf.make_indirect(Dictionary(N=number)) for number in range(MAX_OBJECTS)])
    with pytest.raises(ValidationError, match="слишком сложный"):
        check_pdf(save(pdf))


def test_a_pdf_that_costs_more_memory_than_the_child_may_use_is_refused():
    # 10 MB of small numbers: qpdf holds each as an object, about 70 bytes of memory per byte.
    numbers = tuple(b"[" + b"0 " * 50_000 + b"]" for _ in range(100))
    catalog = b"/Filler [" + b" ".join(b"%d 0 R" % (4 + n) for n in range(len(numbers))) + b"]"
    with pytest.raises(ValidationError, match="слишком сложный"):
        check_pdf(raw_pdf(catalog=catalog, extra=numbers))


def test_a_pdf_whose_check_runs_out_of_time_is_refused(monkeypatch):
    monkeypatch.setattr(pdfs, "CHILD_SECONDS", 0.001)
    with pytest.raises(ValidationError, match="слишком сложный"):
        check_pdf(plain_pdf_with_link())


# --- the real path: a buyer attaches the file to a message in a dispute ----------------------


def post_message(login, buyer, order, *files):
    dispute = open_dispute(order)
    return login(buyer).post(
        reverse("disputes:message_create", args=[dispute.pk]), {"text": "Акт о повреждении", "evidence": list(files)}
    )


def evidence_errors(html: str) -> list[str]:
    """The messages shown right after the message form's file field."""
    field = re.search(
        r'<input type="file" name="evidence" id="message-files"[^>]*>(.*?)<div class="form-text">', html, re.S
    )
    assert field is not None
    assert "is-invalid" in field.group(0)
    block = re.search(r'<div class="invalid-feedback" id="message-files-error">(.*?)</div>', field.group(1), re.S)
    return re.findall(r'<span class="d-block">(.*?)</span>', block.group(1)) if block else []


@pytest.mark.django_db
def test_a_buyer_posting_a_pdf_with_hidden_javascript_sees_why_and_nothing_is_stored(
    login, buyer, order, settings, django_capture_on_commit_callbacks
):
    sneaky = raw_pdf(page=LINK % b"<< /S /J#61vaScript /J#53 (app.alert(1)) >>")
    with django_capture_on_commit_callbacks(execute=True):  # the photo's file goes when its row's deletion commits
        response = post_message(
            login, buyer, order, png_file("box.png"), SimpleUploadedFile("act.pdf", sneaky, "application/pdf")
        )
    assert response.status_code == 400
    assert evidence_errors(response.content.decode()) == [
        "act.pdf: В PDF есть скрипты, автоматические действия, вложенные файлы или формы XFA. Сохраните его заново "
        "как обычный PDF, например через «Печать → Сохранить как PDF»."
    ]
    assert not Attachment.objects.exists()  # the good photo of the same message is not kept either
    assert stored_files() == []


@pytest.mark.django_db
def test_a_buyer_posting_a_pdf_with_a_password_sees_why_and_nothing_is_stored(login, buyer, order, settings):
    response = post_message(
        login, buyer, order, SimpleUploadedFile("statement.pdf", encrypted(user="1234"), "application/pdf")
    )
    assert response.status_code == 400
    assert evidence_errors(response.content.decode()) == [
        "statement.pdf: PDF-файл защищён паролем. Сохраните его без пароля и загрузите снова."
    ]
    assert not Attachment.objects.exists()
    assert_disk_matches_rows(settings)


@pytest.mark.django_db
def test_a_buyer_posting_a_plain_pdf_keeps_it_byte_for_byte(login, buyer, order, settings):
    data = plain_pdf_with_link()
    response = post_message(login, buyer, order, SimpleUploadedFile("act.pdf", data, "application/pdf"))
    assert response.status_code == 302
    attachment = Attachment.objects.get()
    assert (attachment.kind, attachment.content_type, attachment.display_name) == ("pdf", "application/pdf", "act.pdf")
    assert attachment.message is not None
    with attachment.file.open("rb") as stored:
        assert stored.read() == data
    assert_disk_matches_rows(settings)
