"""The response header with which a page says the offline diary may keep it on the phone.

Only the patient's own diary form (``rehab.views``) and their Account page (here, where Sign out
is) send it, so no other page, and nobody else's data, is ever stored (docs/diary.md). It lives
in ``accounts``, the lowest app, because both apps send it; the service worker reads it through
``rehab.offline``.
"""

OFFLINE_COPY_HEADER = "PAIS-Offline-Copy"
