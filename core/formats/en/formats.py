# As core/formats/ru/formats.py: the zone named after every time Django writes by itself.
DATETIME_FORMAT = "N j, Y, P T"
SHORT_DATETIME_FORMAT = "m/d/Y P T"
