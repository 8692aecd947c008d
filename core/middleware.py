from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse

UPLOAD_HEADER = "X-Upload-Progress"


class UploadRedirectMiddleware:
    """Forms with files are sent by XMLHttpRequest (static/js/disputes.js) to show progress. Such a
    request would follow the redirect itself and render the next page, using up the message meant
    for the user; instead the redirect's address is answered as JSON and the page goes there."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.headers.get(UPLOAD_HEADER) == "1" and response.status_code in (301, 302, 303):
            return JsonResponse({"location": response["Location"]})
        return response
