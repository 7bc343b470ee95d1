"""Momence (host API v2): members, tags both ways, memberships, bookings and check-ins.

Choices where the issue and the vendor contract are silent:

- Tokens: the OAuth password grant with a staff login; both tokens are stored encrypted
  (MomenceToken, integrations.crypto) and shared by every worker and run, refreshed five
  minutes before the access token expires, refreshed once on a 401, and replaced by a
  new password grant when the refresh token is dead or refused. Tokens of other
  credentials than the settings hold, or that the keys can no longer read, are ignored.
- Lists: `page`/`pageSize` (100) in the {"payload", "pagination"} envelope, read in one
  place (client.MomenceClient.list_page).
- Inbound syncs are rescans (v2 has no modified-since): members sorted by lastSeenAt
  ascending, so a member seen during the scan moves to its end and is still read; the
  upserts skip unchanged rows. Customer tags become Gatehouse tags of the same name;
  Momence sets a client's tags among the tags it knows, never others, and never a pair
  Gatehouse changed and has not pushed yet.
- Catalogue kinds: see mapping.py. Bought memberships are one call per member: each run
  reads a bounded number (setting), never-read members first, then those whose lastSeen
  moved, then anyone not read for a day; an initial sync reads everyone.
- Sessions and appointments: from a day ago to `days_ahead` days ahead, all at the
  club location chosen in the settings; an appointment is a session of its own named
  exactly as its type, so booking sequences pick appointment types by name. A complete
  scan cancels the bookings Momence no longer lists.
- Outbound (outbound.py): Gatehouse's own tag changes (ClientTagChange, not Momence's)
  and check-ins are outboxes with one delivery record each, attempts counted, retried
  up to five times; check-ins for a granted door access at the session's location from
  `checkin_minutes_before` (60) the start to its end, once per booking.
"""
