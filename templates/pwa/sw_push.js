/* Web Push: the "push" and "notificationclick" handlers (owned by the reminders work of issue 12;
 * this placeholder keeps the worker complete until they arrive). */
