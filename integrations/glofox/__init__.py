"""Glofox (ABC Glofox): members, memberships and bookings in; check-ins out."""
