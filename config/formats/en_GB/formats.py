"""Date formats of the admin and staff pages: times to the second, 24-hour clock."""

DATETIME_FORMAT = "j M Y, H:i:s"
TIME_FORMAT = "H:i:s"
SHORT_DATETIME_FORMAT = "d/m/Y H:i:s"
