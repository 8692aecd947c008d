# Every date and time Django writes by itself (admin's lists and read-only fields, a template's
# {{ value }}) names the zone it is shown in: the viewer's (accounts/middleware.py). Django's own
# formats for the language fill in the rest (django.utils.formats.get_format falls back to them).
DATETIME_FORMAT = "j E Y, H:i T"
SHORT_DATETIME_FORMAT = "d.m.Y H:i T"
