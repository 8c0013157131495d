"""Google Calendar v3: calendars, events with recurrence, and incremental sync.

Rooms: `store` (the data and its mutation), `recurrence` (event times and instance
expansion), `query` (events.list, instances and calendarList.list with their page and
sync tokens), `handlers` (API methods mapped to the store, with Google's errors).
"""
