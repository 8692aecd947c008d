from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.utils.translation import gettext_lazy as _

from .models import Store, User


class SignUpForm(UserCreationForm):
    email = forms.EmailField(label=_("Электронная почта"), help_text=_("Сюда придут письма о заказах и спорах."))
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

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(_("Этот адрес уже занят. Войдите или восстановите пароль."))
        return email

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("role") == User.Role.SELLER:
            store_name = (cleaned.get("store_name") or "").strip()
            if not store_name:
                self.add_error("store_name", _("Укажите название магазина."))
            elif Store.objects.filter(name__iexact=store_name).exists():
                self.add_error("store_name", _("Магазин с таким названием уже есть."))
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
