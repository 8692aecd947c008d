"""core.form_actions.run_form_action: the one way a site form stores its files, calls its service
and, when the service refuses, discards the files and draws the form again with what was typed.

The pages that use it (offers, messages, evidence answers, appeals, reports, the blocked
account's appeal, the order forms) are tested in their own files; here the helper alone."""

import pytest
from django.contrib import messages
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from core.errors import ActionRefused
from core.form_actions import Submission, Uploads, run_form_action
from disputes.forms import MessageForm
from disputes.models import Attachment
from tests.disputes_helpers import html_as_jpeg, png_file, stored_files

pytestmark = pytest.mark.django_db

TYPED = "Посылка пришла пустой, фото коробки прилагаю."


def _request(data: dict | None = None) -> HttpRequest:
    request = RequestFactory().post("/form/", data or {})
    SessionMiddleware(lambda _request: HttpResponse()).process_request(request)
    MessageMiddleware(lambda _request: HttpResponse()).process_request(request)
    return request


class Recorder:
    """Stands for the service and the two pages, and remembers what each was given."""

    def __init__(self, refusal: str | None = None) -> None:
        self.refusal = refusal
        self.submissions: list[Submission] = []
        self.rows_during_call: list[int] = []
        self.done_with: list[object] = []

    def action(self, sent: Submission) -> str:
        self.submissions.append(sent)
        self.rows_during_call = list(Attachment.objects.filter(pk__in=sent.attachment_ids).values_list("pk", flat=True))
        if self.refusal:
            raise ActionRefused(self.refusal)
        return "the service's result"

    def done(self, result: object) -> HttpResponse:
        self.done_with.append(result)
        return HttpResponse(status=302)

    @staticmethod
    def page() -> HttpResponse:
        return HttpResponse(status=400)


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    def _run(request: HttpRequest, form: MessageForm, recorder: Recorder, owner, **options) -> HttpResponse:
        with django_capture_on_commit_callbacks(execute=True):  # a discarded file goes when its deletion commits
            return run_form_action(
                request,
                form,
                recorder.action,
                uploads=Uploads(model=Attachment, owner_id=owner.pk),
                done=recorder.done,
                page=recorder.page,
                **options,
            )

    return _run


def test_a_refusal_discards_the_stored_files_and_keeps_the_text_with_the_reason_on_its_field(buyer, run):
    request = _request({"text": TYPED, "evidence": [png_file(), png_file("box.png")]})
    form = MessageForm(request.POST, request.FILES)
    recorder = Recorder(refusal="Спор уже закрыт.")

    response = run(request, form, recorder, buyer, refusal_field="text")

    assert response.status_code == 400
    assert len(recorder.rows_during_call) == 2  # the service saw both files stored
    assert recorder.done_with == []
    assert form.errors["text"] == ["Спор уже закрыт."]
    assert form["text"].value() == TYPED
    assert not Attachment.objects.exists()
    assert stored_files() == []


def test_a_refusal_without_a_field_is_shown_at_the_top_of_the_form(buyer, run):
    request = _request({"text": TYPED})
    form = MessageForm(request.POST, request.FILES)

    run(request, form, Recorder(refusal="Предложение уже не действует."), buyer)

    assert form.non_field_errors() == ["Предложение уже не действует."]
    assert form["text"].value() == TYPED


def test_success_keeps_the_files_for_the_service_and_says_so(buyer, run):
    request = _request({"text": TYPED, "evidence": [png_file()]})
    form = MessageForm(request.POST, request.FILES)
    recorder = Recorder()

    response = run(request, form, recorder, buyer, success="Сообщение отправлено.")

    assert response.status_code == 302
    assert recorder.done_with == ["the service's result"]
    [sent] = recorder.submissions
    assert sent.data["text"] == TYPED
    [kept] = Attachment.objects.all()
    assert sent.attachment_ids == [kept.pk]
    assert kept.owner_id == buyer.pk
    assert stored_files() == [kept.file.name]
    assert [str(message) for message in messages.get_messages(request)] == ["Сообщение отправлено."]


def test_an_invalid_form_stores_nothing_and_calls_no_service(buyer, run):
    request = _request({"text": "x" * 4001, "evidence": [png_file()]})
    form = MessageForm(request.POST, request.FILES)
    recorder = Recorder()

    response = run(request, form, recorder, buyer)

    assert response.status_code == 400
    assert recorder.submissions == []
    assert "text" in form.errors
    assert stored_files() == []


def test_a_refused_file_stops_the_action_and_the_good_files_are_discarded(buyer, run):
    request = _request({"text": TYPED, "evidence": [png_file(), html_as_jpeg()]})
    form = MessageForm(request.POST, request.FILES)
    recorder = Recorder()

    response = run(request, form, recorder, buyer)

    assert response.status_code == 400
    assert recorder.submissions == []
    assert len(form.errors["evidence"]) == 1
    assert form["text"].value() == TYPED
    assert not Attachment.objects.exists()
    assert stored_files() == []


def test_an_unbound_form_draws_the_page_without_acting(buyer, run):
    recorder = Recorder()

    response = run(_request(), MessageForm(), recorder, buyer)

    assert response.status_code == 400
    assert recorder.submissions == []


def test_a_form_without_uploads_passes_no_files(buyer):
    request = _request({"text": TYPED})
    recorder = Recorder()

    run_form_action(request, MessageForm(request.POST), recorder.action, done=recorder.done, page=recorder.page)

    [sent] = recorder.submissions
    assert sent.attachment_ids == []
