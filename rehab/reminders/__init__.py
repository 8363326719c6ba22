"""Daily-entry reminders the patient controls: their preferences, their devices (Web Push), the
VAPID key pair, and the one-click email unsubscribe. The job that sends them is
``rehab.jobs.reminders_send``; the push channel is ``rehab.notify.push``. See docs/reminders.md.
"""
