from django.db import transaction

from .models import Store, User


@transaction.atomic(durable=True)
def user_sign_up(*, username: str, email: str, password: str, role: str, store_name: str = "") -> User:
    user = User(username=username, email=email, role=role)
    user.set_password(password)
    user.save()
    if role == User.Role.SELLER:
        Store.objects.create(owner=user, name=store_name.strip())
    return user


def user_update_settings(
    *,
    user: User,
    first_name: str,
    last_name: str,
    email: str,
    preferred_language: str,
    time_zone: str,
    marketing_emails: bool,
) -> User:
    user.first_name = first_name
    user.last_name = last_name
    user.email = email
    user.preferred_language = preferred_language
    user.time_zone = time_zone
    user.marketing_emails = marketing_emails
    user.save(update_fields=["first_name", "last_name", "email", "preferred_language", "time_zone", "marketing_emails"])
    return user


@transaction.atomic(durable=True)
def store_update_returns(*, store: Store, return_address: str, return_instructions: str) -> Store:
    """Where the store takes returns; disputes show it to the buyer with the return's deadline."""
    store = Store.objects.select_for_update(of=("self",)).get(pk=store.pk)
    store.return_address, store.return_instructions = return_address.strip(), return_instructions.strip()
    store.save(update_fields=["return_address", "return_instructions"])
    return store
