import logging
from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, SetPasswordMixin, UsernameField
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.cache_outage import CACHE_UNREACHABLE
from core.forms import EvidenceField, WrittenField
from core.throttle import client_address, minutes_to_wait, retry_after_any

from . import auth
from .models import Store, User
from .signin_limits import SignInRefusal

logger = logging.getLogger(__name__)


def _wait_message(seconds: int) -> str:
    minutes = minutes_to_wait(seconds)
    return ngettext(
        "Слишком много попыток. Попробуйте снова через %(minutes)d минуту.",
        "Слишком много попыток. Попробуйте снова через %(minutes)d минут.",
        minutes,
    ) % {"minutes": minutes}


class SignInLimitsMixin:
    """For a sign-in form (the site's and admin's): when the sign-in limits hold a try, say so and
    how long to wait, instead of only "wrong name or password" (accounts.signin_limits)."""

    request: HttpRequest | None
    # The site's form links to password reset below the form; admin's page has no such link.
    reset_link_below = False

    def clean(self) -> dict[str, Any]:
        try:
            return self._clean_limited()
        except CACHE_UNREACHABLE as error:
            # The limits are counted in Redis: without them a guesser would have no limit, so
            # nobody signs in until Redis answers again (docs/security.md, "When Redis is unreachable").
            logger.warning("Sign-in refused: the sign-in counters are unreachable (%s)", error)
            raise ValidationError(
                _("Вход сейчас временно недоступен. Попробуйте ещё раз через минуту."), code="unavailable"
            ) from None

    def _clean_limited(self) -> dict[str, Any]:
        try:
            return super().clean()  # type: ignore[misc]
        except ValidationError as wrong:
            outcome = auth.signin_outcome(self.request)
            if outcome is None or outcome.user is not None:
                # No password was tried, or the right one for an account this form refuses.
                raise
            if outcome.refusal is not None:
                # Refused before the password was checked.
                raise ValidationError(self._refusal_message(outcome.refusal), code="throttled") from None
            following = auth.signin_next_try(outcome)
            if following is None:
                raise
            if following.kind == "blocked":
                # This failure was the last one allowed from this address.
                raise ValidationError(self._refusal_message(following), code="throttled") from None
            raise ValidationError([*wrong.error_list, ValidationError(_next_try_message(following.seconds))]) from None

    def _refusal_message(self, refusal: SignInRefusal) -> str:
        if refusal.kind == "delayed":
            return _delayed_message(refusal.seconds)
        minutes = minutes_to_wait(refusal.seconds)
        if self.reset_link_below:
            return ngettext(
                "Слишком много неудачных попыток входа. Попробуйте снова через %(minutes)d минуту "
                "или восстановите пароль по ссылке ниже.",
                "Слишком много неудачных попыток входа. Попробуйте снова через %(minutes)d минут "
                "или восстановите пароль по ссылке ниже.",
                minutes,
            ) % {"minutes": minutes}
        return ngettext(
            "Слишком много неудачных попыток входа с этого адреса. Попробуйте снова через %(minutes)d минуту.",
            "Слишком много неудачных попыток входа с этого адреса. Попробуйте снова через %(minutes)d минут.",
            minutes,
        ) % {"minutes": minutes}


def _delayed_message(seconds: int) -> str:
    return ngettext(
        "Слишком много неудачных попыток входа в этот аккаунт, поэтому пароль сейчас не проверялся. "
        "Подождите %(seconds)d секунду и войдите снова — в этот раз пароль проверим.",
        "Слишком много неудачных попыток входа в этот аккаунт, поэтому пароль сейчас не проверялся. "
        "Подождите %(seconds)d секунд и войдите снова — в этот раз пароль проверим.",
        seconds,
    ) % {"seconds": seconds}


def _next_try_message(seconds: int) -> str:
    return ngettext(
        "Слишком много неудачных попыток входа в этот аккаунт: следующую можно сделать через %(seconds)d секунду.",
        "Слишком много неудачных попыток входа в этот аккаунт: следующую можно сделать через %(seconds)d секунд.",
        seconds,
    ) % {"seconds": seconds}


class SignInForm(SignInLimitsMixin, AuthenticationForm):
    """Sign in by username or e-mail; a held sign-in says why and how long to wait."""

    username = UsernameField(label=_("Логин или электронная почта"), widget=forms.TextInput(attrs={"autofocus": True}))

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("Неверный логин, адрес почты или пароль."),
    }
    reset_link_below = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Django sizes the field for a username; an e-mail address may be longer.
        self.fields["username"].widget.attrs["maxlength"] = 254


class AdminSignInForm(SignInLimitsMixin, AdminAuthenticationForm):
    """Admin's sign-in form, held to the same limits and saying so (set in accounts/admin.py)."""


class PasswordResetRequestForm(PasswordResetForm):
    """Django's form, counted per client address and per address typed; the view never calls
    save(): the letter goes through the outbox (accounts.auth.password_reset_request)."""

    def __init__(self, *args: Any, request: HttpRequest, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request = request

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip()
        checks = auth.password_reset_checks(address=client_address(self.request), email=email)
        if wait := retry_after_any(checks):
            raise ValidationError(_wait_message(wait), code="throttled")
        return email


class UsernameNoAtValidator(UnicodeUsernameValidator):
    # Sign-in takes a username or an e-mail: a username with "@" could shadow someone's address.
    regex = r"^[\w.+-]+\Z"
    message = _("Логин может состоять из букв, цифр и знаков . + - _ (без @).")


def _username_field() -> forms.CharField:
    return forms.CharField(
        label=_("Логин"),
        max_length=150,
        validators=[UsernameNoAtValidator()],
        help_text=_(
            "Буквы, цифры и знаки . + - _. Логин не секрет: форма скажет, если он занят. "
            "Входить можно по логину или по адресу почты."
        ),
    )


def _clean_username(username: str) -> str:
    if User._default_manager.filter(username__iexact=username).exists():
        raise ValidationError(_("Этот логин уже занят. Выберите другой."), code="username_taken")
    return username


def _clean_store_name(form: forms.Form, store_name: str) -> None:
    store_name = store_name.strip()
    if not store_name:
        form.add_error("store_name", _("Укажите название магазина."))
    elif Store.objects.filter(name__iexact=store_name).exists():
        form.add_error("store_name", _("Магазин с таким названием уже есть."))


class SignUpForm(forms.Form):
    """The first step: an address to send the link to, a username and the role.

    It never says whether the address has an account (accounts.auth: an owner gets a letter
    instead). The password is chosen on the page the link opens.
    """

    email = forms.EmailField(
        label=_("Электронная почта"), max_length=254, help_text=_("Сюда придут письма о заказах и спорах.")
    )
    username = _username_field()
    role = forms.ChoiceField(
        label=_("Я регистрируюсь как"),
        choices=User.Role.choices,
        initial=User.Role.BUYER,
        widget=forms.RadioSelect,
    )
    store_name = forms.CharField(
        label=_("Название магазина"),
        max_length=120,
        required=False,
        help_text=_("Только для продавцов: так магазин увидят покупатели."),
    )

    def __init__(self, *args: Any, request: HttpRequest, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request = request

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip()

    def clean_username(self) -> str:
        return _clean_username(self.cleaned_data["username"])

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("role") == User.Role.SELLER:
            _clean_store_name(self, cleaned.get("store_name") or "")
        else:
            cleaned["store_name"] = ""
        if email := cleaned.get("email"):
            checks = auth.sign_up_checks(address=client_address(self.request), email=email)
            if wait := retry_after_any(checks):
                raise ValidationError(_wait_message(wait), code="throttled")
        return cleaned

    def pending(self) -> auth.SignUpRequest:
        return auth.SignUpRequest(
            email=self.cleaned_data["email"],
            username=self.cleaned_data["username"],
            role=self.cleaned_data["role"],
            store_name=self.cleaned_data["store_name"].strip(),
        )


class SignUpConfirmForm(SetPasswordMixin, forms.Form):
    """The page the sign-up link opens: the password, and the username or store name again in
    case someone took them since."""

    username = _username_field()
    store_name = forms.CharField(label=_("Название магазина"), max_length=120, required=False)
    password1, password2 = SetPasswordMixin.create_password_fields(label1=_("Пароль"), label2=_("Пароль ещё раз"))

    def __init__(self, *args: Any, pending: auth.SignUpRequest, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"username": pending.username, "store_name": pending.store_name})
        super().__init__(*args, **kwargs)
        self.pending = pending
        if pending.role != User.Role.SELLER:
            del self.fields["store_name"]

    def clean_username(self) -> str:
        return _clean_username(self.cleaned_data["username"])

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if "store_name" in self.fields:
            _clean_store_name(self, cleaned.get("store_name") or "")
        self.validate_passwords()
        # The similarity check compares the password with the username and the address.
        self.validate_password_for_user(User(username=cleaned.get("username") or "", email=self.pending.email))
        return cleaned


class AccountSettingsForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ("first_name", "last_name", "email", "preferred_language", "time_zone", "marketing_emails")

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip()
        if User.objects.filter(email__iexact=email).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(_("Этот адрес уже занят другим пользователем."))
        return email


class AccountAppealForm(forms.Form):
    text = WrittenField(
        label=_("Почему блокировку нужно снять"),
        rows=6,
        min_length=30,
        help_text=_(
            "Хотя бы 30 символов. Опишите, что произошло, и приложите доказательства: переписку, чеки, "
            "скриншоты заказов, документы на товар."
        ),
        too_short=_("Опишите подробнее: хотя бы %(limit_value)d символов."),
    )
    evidence = EvidenceField(label=_("Доказательства"))


class StoreReturnsForm(forms.Form):
    return_address = forms.CharField(
        label=_("Адрес для возвратов"),
        max_length=1000,
        min_length=15,
        widget=forms.Textarea(attrs={"rows": 4, "autocomplete": "street-address"}),
        help_text=_(
            "Получатель, страна, город, улица, дом, индекс и телефон — так, как это нужно написать на посылке. "
            "Покупатель увидит адрес, только когда договорится с вами о возврате."
        ),
    )
    return_instructions = forms.CharField(
        label=_("Как отправить (по желанию)"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Например: какой службой отправлять, что вложить в посылку, что написать в декларации."),
    )
