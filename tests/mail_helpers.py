from accounts.emails import email_render
from accounts.models import OutgoingEmail


def rendered(email: OutgoingEmail) -> OutgoingEmail:
    """An outbox row with the subject and body its worker will send (empty on the row until then)."""
    if email.template and not email.body:
        email.subject, email.body = email_render(email)
    return email
