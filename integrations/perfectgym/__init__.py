"""Perfect Gym (PerfectGym Go API v2.x, OData): members, contracts, add-ons, visits, logins."""
